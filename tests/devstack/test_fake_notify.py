"""The fake GOV.UK Notify: Notify's JWT check and error shapes, templates, listing, fault switches, its process."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from notifications_python_client.errors import HTTPError
from notifications_python_client.notifications import NotificationsAPIClient

from signpost_devstack.fake_notify import DEV_API_KEY, FakeNotify, notify_api_key
from signpost_devstack.fake_notify_templates import TemplateFileError, load_templates
from signpost_devstack.net import free_port

pytestmark = pytest.mark.integration

EMAIL_TEMPLATE = "0e5e1b8e-7f43-4d7a-9c1b-1f0d3c6a0001"
PLAIN_EMAIL_TEMPLATE = "0e5e1b8e-7f43-4d7a-9c1b-1f0d3c6a0002"
SMS_TEMPLATE = "0e5e1b8e-7f43-4d7a-9c1b-1f0d3c6a0003"
VALUES = {"Referrer_Name": "Dr Okafor", "referral reference": "LRS-42", "outcome": "declined", "has_note": "no"}


@pytest.fixture
async def notify() -> AsyncIterator[FakeNotify]:
    async with FakeNotify(receipt_delay_seconds=0.05) as running:
        yield running


def token(key: str, *, iat: float | None = None, algorithm: str = "HS256", **claims: Any) -> str:
    payload = {"iss": key[-73:-37], "iat": int(time.time() if iat is None else iat)} | claims
    return jwt.encode(payload, key[-36:], algorithm=algorithm)


def api(notify: FakeNotify) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=notify.base_url, timeout=10)


async def send_email(client: httpx.AsyncClient, key: str, **body: Any) -> httpx.Response:
    request = {"email_address": "gp@example.nhs.uk", "template_id": PLAIN_EMAIL_TEMPLATE} | body
    return await client.post("/v2/notifications/email", json=request, headers={"Authorization": f"Bearer {token(key)}"})


def official(notify: FakeNotify, key: str) -> Any:
    client: Any = NotificationsAPIClient(key, base_url=notify.base_url, timeout=5)
    return client


def auth_error(status: int, message: str) -> dict[str, Any]:
    return {"status_code": status, "errors": [{"error": "AuthError", "message": message}]}


async def test_a_request_without_a_token_or_bearer_scheme_is_refused_as_notify_refuses_it(notify):
    async with api(notify) as client:
        bare = await client.post("/v2/notifications/email", json={})
        basic = await client.get("/v2/notifications", headers={"Authorization": "Basic abc"})
    assert bare.status_code == 401
    assert bare.json() == auth_error(401, "Unauthorized: authentication token must be provided")
    assert basic.json() == auth_error(401, "Unauthorized: authentication bearer scheme must be used")


@pytest.mark.parametrize(
    ("make_token", "message"),
    [
        (lambda key: token(notify_api_key(key[-73:-37], str(uuid.uuid4()))), "Invalid token: API key not found"),
        (lambda key: token(notify_api_key(str(uuid.uuid4()), key[-36:])), "Invalid token: service not found"),
        (
            lambda key: token(key, iat=time.time() - 40),
            "Error: Your system clock must be accurate to within 30 seconds",
        ),
        (
            lambda key: token(key, iat=time.time() + 40),
            "Error: Your system clock must be accurate to within 30 seconds",
        ),
        (lambda key: token(key, algorithm="HS512"), "Invalid token: algorithm used is not HS256"),
        (lambda key: token(key, iss="not-a-uuid"), "Invalid token: service id is not the right data type"),
        (lambda key: "not.a.jwt", "Invalid token: make sure your API token matches the example"),
    ],
)
async def test_a_token_notify_would_refuse_is_refused_with_notifys_403(notify, make_token, message):
    key = notify.api_key()
    async with api(notify) as client:
        refused = await client.get("/v2/notifications", headers={"Authorization": f"Bearer {make_token(key)}"})
    assert refused.status_code == 403
    [error] = refused.json()["errors"]
    assert refused.json()["status_code"] == 403
    assert error["error"] == "AuthError"
    assert error["message"].startswith(message)


async def test_a_token_issued_within_30_seconds_is_accepted(notify):
    key = notify.api_key()
    async with api(notify) as client:
        answer = await client.get(
            "/v2/notifications", headers={"Authorization": f"Bearer {token(key, iat=time.time() - 25)}"}
        )
    assert answer.status_code == 200


async def test_an_email_is_rendered_as_notify_renders_it_and_answered_in_notifys_shape(notify):
    key = notify.api_key()
    values = VALUES | {"has_note": "Yes", "note": "Please call."}
    answer = await asyncio.to_thread(
        official(notify, key).send_email_notification, "gp@example.nhs.uk", EMAIL_TEMPLATE, values, "email:evt-1"
    )
    [kept] = notify.notifications
    assert answer["id"] == kept.id
    assert answer["reference"] == "email:evt-1"
    assert answer["content"]["subject"] == "Referral LRS-42: declined"
    assert answer["content"]["body"] == (
        "Dear Dr Okafor,\n\nReferral LRS-42 was declined.\nA note from the service follows.\nPlease call.\n"
    )
    assert answer["uri"] == f"{notify.base_url}/v2/notifications/{kept.id}"
    assert answer["template"] == {
        "id": EMAIL_TEMPLATE,
        "version": 1,
        "uri": f"{notify.base_url}/v2/template/{EMAIL_TEMPLATE}",
    }


async def test_a_conditional_placeholder_shows_its_text_only_for_yes(notify):
    key = notify.api_key()
    client = official(notify, key)
    await asyncio.to_thread(client.send_sms_notification, "+44 7700 900123", SMS_TEMPLATE, VALUES | {"has_note": "yes"})
    await asyncio.to_thread(client.send_sms_notification, "07700900123", SMS_TEMPLATE, VALUES | {"has_note": "no"})
    assert [n.body for n in notify.notifications] == [
        "Referral LRS-42 was declined. Reply STOP to stop texts.",
        "Referral LRS-42 was declined.",
    ]
    assert notify.notifications[0].subject is None


@pytest.mark.parametrize(
    ("kind", "body", "error", "message"),
    [
        ("email", {"template_id": str(uuid.uuid4())}, "BadRequestError", "Template not found"),
        ("email", {"template_id": SMS_TEMPLATE}, "BadRequestError",
         "sms template is not suitable for email notification"),
        ("email", {"template_id": EMAIL_TEMPLATE, "personalisation": {"outcome": "x"}}, "BadRequestError",
         "Missing personalisation: referral reference, referrer name, has_note, note"),
        ("email", {"email_address": "gp@@example"}, "ValidationError", "email_address Not a valid email address"),
        ("email", {"template_id": "12"}, "ValidationError", "template_id is not a valid UUID"),
        ("sms", {"phone_number": "0113 496 0000"}, "ValidationError", "phone_number Not a UK mobile number"),
        ("sms", {"phone_number": "07700 9001234"}, "ValidationError", "phone_number Too many digits"),
        ("sms", {"phone_number": "07700 call me"}, "ValidationError",
         "phone_number Must not contain letters or symbols"),
        ("sms", {"phone_number": None, "template_id": None}, "ValidationError", "phone_number is a required property"),
    ],
)  # fmt: skip
async def test_a_send_notify_cannot_make_is_a_400_in_notifys_shape_and_nothing_is_kept(
    notify, kind, body, error, message
):
    key = notify.api_key()
    defaults = {"email": {"email_address": "gp@example.nhs.uk"}, "sms": {"phone_number": "07700900123"}}[kind]
    request = {"template_id": SMS_TEMPLATE if kind == "sms" else PLAIN_EMAIL_TEMPLATE} | defaults | body
    request = {name: value for name, value in request.items() if value is not None}
    async with api(notify) as client:
        refused = await client.post(
            f"/v2/notifications/{kind}", json=request, headers={"Authorization": f"Bearer {token(key)}"}
        )
    assert refused.status_code == 400
    assert refused.json()["status_code"] == 400
    assert {"error": error, "message": message} in refused.json()["errors"]
    assert notify.notifications == []


async def test_notifications_are_listed_and_filtered_as_the_client_asks_and_only_to_their_service(notify):
    notify.receipt_delay_seconds = 30
    key, other = notify.api_key(), notify.api_key()
    client = official(notify, key)
    first = await asyncio.to_thread(
        client.send_email_notification, "a@example.org", PLAIN_EMAIL_TEMPLATE, None, "ref-a"
    )
    second = await asyncio.to_thread(client.send_sms_notification, "07700900123", SMS_TEMPLATE, VALUES, "ref-b")
    await asyncio.to_thread(official(notify, other).send_email_notification, "c@example.org", PLAIN_EMAIL_TEMPLATE)
    everything = await asyncio.to_thread(client.get_all_notifications)
    assert [n["id"] for n in everything["notifications"]] == [second["id"], first["id"]]  # newest first
    assert everything["links"]["next"] == f"{notify.base_url}/v2/notifications?older_than={first['id']}"
    by_reference = await asyncio.to_thread(client.get_all_notifications, reference="ref-a")
    assert [n["id"] for n in by_reference["notifications"]] == [first["id"]]
    by_type = await asyncio.to_thread(client.get_all_notifications, template_type="sms")
    assert [n["phone_number"] for n in by_type["notifications"]] == ["07700900123"]
    older = await asyncio.to_thread(client.get_all_notifications, older_than=second["id"])
    assert [n["id"] for n in older["notifications"]] == [first["id"]]
    assert [n["id"] for n in await asyncio.to_thread(lambda: list(client.get_all_notifications_iterator()))] == [
        second["id"],
        first["id"],
    ]
    one = await asyncio.to_thread(client.get_notification_by_id, first["id"])
    assert (one["email_address"], one["type"], one["status"], one["reference"]) == (
        "a@example.org",
        "email",
        "sending",
        "ref-a",
    )
    with pytest.raises(HTTPError) as foreign:
        await asyncio.to_thread(official(notify, other).get_notification_by_id, first["id"])
    assert foreign.value.status_code == 404
    assert foreign.value.message == [{"error": "NoResultFound", "message": "No result found"}]


async def test_a_status_filter_of_failed_means_the_three_failures_and_a_wrong_one_is_a_validation_error(notify):
    key = notify.api_key()
    notify.faults.receipts = "technical-failure"
    async with api(notify) as client:
        failed = (await send_email(client, key)).json()["id"]
        notify.faults.receipts = "delivered"
        await send_email(client, key)
        await asyncio.sleep(0.2)
        headers = {"Authorization": f"Bearer {token(key)}"}
        listed = await client.get("/v2/notifications", params={"status": "failed"}, headers=headers)
        wrong = await client.get("/v2/notifications", params={"status": "elephant"}, headers=headers)
    assert [n["id"] for n in listed.json()["notifications"]] == [failed]
    assert wrong.status_code == 400
    assert wrong.json()["errors"][0]["message"].startswith("status elephant is not one of [cancelled, created")


async def test_the_inspection_api_lists_oldest_first_filters_and_forgets(notify):
    client = official(notify, notify.api_key())
    await asyncio.to_thread(client.send_sms_notification, "+447700900123", SMS_TEMPLATE, VALUES, "ref-1")
    await asyncio.to_thread(client.send_email_notification, "GP@Example.org", PLAIN_EMAIL_TEMPLATE, None, "ref-2")
    async with api(notify) as inspect:
        listed = (await inspect.get("/notifications")).json()
        to_number = (await inspect.get("/notifications", params={"to": "07700 900123"})).json()
        to_address = (await inspect.get("/notifications", params={"to": "gp@example.org"})).json()
        by_reference = (await inspect.get("/notifications", params={"reference": "ref-2"})).json()
        assert (await inspect.delete("/notifications")).json() == {"deleted": 2}
        assert (await inspect.get("/notifications")).json() == []
    assert [n["reference"] for n in listed] == ["ref-1", "ref-2"]
    assert set(listed[0]) == {
        "id", "type", "to", "template_id", "personalisation", "reference", "subject", "body", "status",
        "created_at", "sent_at", "completed_at",
    }  # fmt: skip
    assert (listed[0]["type"], listed[0]["to"], listed[0]["template_id"]) == ("sms", "+447700900123", SMS_TEMPLATE)
    assert listed[0]["personalisation"] == VALUES
    assert listed[1]["subject"] == "Test message"
    assert [n["reference"] for n in to_number] == ["ref-1"]
    assert [n["reference"] for n in to_address] == ["ref-2"]
    assert [n["reference"] for n in by_reference] == ["ref-2"]


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ({"status": 500}, {"error": "Exception", "message": "Internal server error"}),
        ({"status": 503, "message": "Service unavailable"}, {"error": "Exception", "message": "Service unavailable"}),
        ({"status": 429},
         {"error": "RateLimitError",
          "message": "Exceeded rate limit for key type LIVE of 3000 requests per 60 seconds"}),
        ({"status": 429, "error": "TooManyRequestsError", "message": "Exceeded send limits (email: 50) for today"},
         {"error": "TooManyRequestsError", "message": "Exceeded send limits (email: 50) for today"}),
        ({"status": 400},
         {"error": "BadRequestError", "message": "Can't send to this recipient using a team-only API key"}),
        ({"status": 403}, {"error": "AuthError", "message": "Invalid token: API key not found"}),
    ],
)  # fmt: skip
async def test_fail_next_answers_the_next_sends_with_that_error_then_takes_them_again(notify, fault, error):
    key = notify.api_key()
    async with api(notify) as client:
        armed = await client.post("/faults", json={"fail_next": 2} | fault)
        assert armed.json()["fail_next"] == 2
        answers = [await send_email(client, key) for _ in range(3)]
        state = (await client.get("/faults")).json()
    assert [a.status_code for a in answers] == [fault["status"], fault["status"], 201]
    assert answers[0].json() == {"status_code": fault["status"], "errors": [error]}
    assert (state["fail_next"], state["rejected"]) == (0, 2)
    assert len(notify.notifications) == 1


async def test_a_delay_records_the_notification_at_once_and_answers_late(notify):
    key = notify.api_key()
    async with api(notify) as client:
        await client.post("/faults", json={"delay_seconds": 1.0})
        started = time.monotonic()
        sending = asyncio.create_task(send_email(client, key, reference="late"))
        await asyncio.sleep(0.5)
        assert [n.reference for n in notify.notifications] == ["late"]
        assert not sending.done()
        answer = await sending
    assert answer.status_code == 201
    assert time.monotonic() - started >= 1.0
    assert answer.json()["id"] == notify.notifications[0].id


async def test_receipt_faults_set_the_final_status_for_everyone_or_for_one_recipient(notify):
    notify.receipt_delay_seconds = 0.5
    key = notify.api_key()
    async with api(notify) as client:
        await client.post("/faults", json={"receipts": "temporary-failure"})
        await client.post("/faults", json={"fail_to": "07700 900999", "receipts": "never"})
        await client.post("/faults", json={"fail_to": "Bounce@Example.org", "receipts": "permanent-failure"})
        state = (await client.get("/faults")).json()
        await send_email(client, key, reference="everyone")
        await send_email(client, key, email_address="bounce@example.org", reference="bounce")
        await client.post(
            "/v2/notifications/sms",
            json={
                "phone_number": "+447700900999",
                "template_id": SMS_TEMPLATE,
                "personalisation": VALUES,
                "reference": "never",
            },
            headers={"Authorization": f"Bearer {token(key)}"},
        )
        assert {n["reference"]: n["status"] for n in (await client.get("/notifications")).json()} == dict.fromkeys(
            ("everyone", "bounce", "never"), "sending"
        )
        await asyncio.sleep(0.7)
        finished = {n["reference"]: n for n in (await client.get("/notifications")).json()}
        bad = await client.post("/faults", json={"fail_to": "x@example.org"})
        cleared = (await client.delete("/faults")).json()
        await send_email(client, key, reference="after")
        await asyncio.sleep(0.7)
        after = (await client.get("/notifications", params={"reference": "after"})).json()
    assert state["receipts"] == "temporary-failure"
    assert state["receipts_to"] == {"447700900999": "never", "bounce@example.org": "permanent-failure"}
    assert {ref: n["status"] for ref, n in finished.items()} == {
        "everyone": "temporary-failure",
        "bounce": "permanent-failure",
        "never": "sending",
    }
    assert finished["everyone"]["completed_at"] is not None
    assert finished["never"]["completed_at"] is None
    assert bad.status_code == 422
    assert (cleared["receipts"], cleared["receipts_to"], cleared["delay_seconds"]) == ("delivered", {}, 0.0)
    assert after[0]["status"] == "delivered"


async def test_a_technical_failure_was_never_sent(notify):
    key = notify.api_key()
    notify.faults.receipts = "technical-failure"
    async with api(notify) as client:
        await send_email(client, key)
        await asyncio.sleep(0.2)
        [kept] = (await client.get("/notifications")).json()
    assert (kept["status"], kept["sent_at"]) == ("technical-failure", None)


async def test_health_answers_ok(notify):
    async with api(notify) as client:
        assert (await client.get("/health")).json() == {"status": "ok"}


def test_the_fake_refuses_to_listen_beyond_loopback():
    with pytest.raises(ValueError, match="loopback only"):
        FakeNotify(host="0.0.0.0")


def test_a_templates_file_that_cannot_be_used_names_the_file_entry_and_field(tmp_path: Path):
    path = tmp_path / "templates.json"
    path.write_text(json.dumps([{"id": str(uuid.uuid4()), "type": "email", "name": "x", "body": "y"}]))
    with pytest.raises(TemplateFileError, match=r"templates\.json: entry 0: field 'subject'"):
        load_templates(path)


async def test_the_console_script_serves_the_dev_key_and_given_templates_until_sigterm(tmp_path: Path):
    templates = tmp_path / "real.json"
    template_id = str(uuid.uuid4())
    templates.write_text(json.dumps([{"id": template_id, "type": "sms", "name": "real", "body": "Hello ((name))"}]))
    port = free_port()
    script = Path(sys.executable).with_name("signpost-fake-notify")
    process = await asyncio.create_subprocess_exec(
        str(script), "--http-port", str(port), "--templates", str(templates), "--receipt-delay-seconds", "0",
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        banner = await asyncio.wait_for(process.stdout.readline(), timeout=30)
        assert f"http://127.0.0.1:{port}" in banner.decode()
        client: Any = NotificationsAPIClient(DEV_API_KEY, base_url=f"http://127.0.0.1:{port}", timeout=5)
        sent = await asyncio.to_thread(client.send_sms_notification, "07700900123", template_id, {"name": "Ama"})
        assert sent["content"]["body"] == "Hello Ama"
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as inspect:
            [kept] = (await inspect.get("/notifications")).json()
        assert kept["status"] == "delivered"
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), timeout=15) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_the_console_script_will_not_listen_beyond_loopback():
    script = Path(sys.executable).with_name("signpost-fake-notify")
    process = await asyncio.create_subprocess_exec(str(script), "--host", "0.0.0.0", stderr=asyncio.subprocess.PIPE)
    _, error = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 2
    assert b"loopback only" in error
