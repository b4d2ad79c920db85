"""A referral is stored once however it is retried: by its identifier, or by the BaRS X-Request-ID."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from signpost_contracts import Stream, topic
from support.auth import bearer
from support.infra import read_topic, wait_until

pytestmark = pytest.mark.integration


def _without_identifier(make) -> dict:
    body = make.referral()
    del body["identifier"]
    return body


async def test_a_retry_with_the_same_x_request_id_is_a_409_duplicate_and_nothing_more_is_stored(intake, make):
    body = _without_identifier(make)
    request = {"X-Request-ID": str(uuid.uuid4())}
    first = await intake.post(body, headers=request)
    retried = await intake.post(body, headers=request)

    assert first.status_code == 201, first.text
    assert retried.status_code == 409, retried.text
    [issue] = retried.json()["issue"]
    assert issue["code"] == "duplicate"
    assert issue["details"]["coding"] == [
        {"system": "https://fhir.nhs.uk/Codesystem/http-error-codes", "code": "REC_CONFLICT"}
    ]
    assert first.headers["Location"] in issue["diagnostics"], "the sender learns where the first one is"
    assert await intake.count("referrals") == 1
    assert await intake.count("outbox") == 1
    marker = await intake.post(_without_identifier(make), headers={"X-Request-ID": str(uuid.uuid4())})
    records = await read_topic(
        intake.namespace.bootstrap, topic(Stream.REFERRALS, intake.namespace.name), expect=3, timeout=3
    )
    assert sorted(r.key.decode() for r in records) == sorted([first.json()["id"], marker.json()["id"]])


async def test_a_repeated_x_request_id_is_a_duplicate_even_when_the_identifier_is_sent_too(intake, make):
    body = make.referral()
    request = {"X-Request-ID": str(uuid.uuid4()).upper()}
    first = await intake.post(body, headers=request)
    retried = await intake.post(body, headers={"X-Request-ID": request["X-Request-ID"].lower()})
    resent = await intake.post(body, headers={"X-Request-ID": str(uuid.uuid4())})

    assert (first.status_code, retried.status_code) == (201, 409)
    assert retried.json()["issue"][0]["code"] == "duplicate"
    assert resent.status_code == 200, "a new request with the same identifier still returns the first referral"
    assert resent.json()["id"] == first.json()["id"]
    assert await intake.count("referrals") == 1
    assert await intake.count("outbox") == 1


async def test_the_same_x_request_id_sent_twice_at_once_creates_one_referral(intake, make):
    body = _without_identifier(make)
    request = {"X-Request-ID": str(uuid.uuid4())}
    answers = await asyncio.gather(intake.post(body, headers=request), intake.post(body, headers=request))
    assert sorted(answer.status_code for answer in answers) == [201, 409]
    assert await intake.count("referrals") == 1
    assert await intake.count("outbox") == 1


async def test_another_organisation_may_use_the_same_x_request_id(intake, make):
    request = {"X-Request-ID": str(uuid.uuid4())}
    ours = await intake.post(_without_identifier(make), headers=request)
    theirs_body = make.referral(ods_code="B86010")
    del theirs_body["identifier"]
    theirs = await intake.post(theirs_body, headers={**bearer("referrals:write", ods="B86010"), **request})
    assert (ours.status_code, theirs.status_code) == (201, 201)
    assert await intake.count("referrals") == 2


async def test_without_identifier_or_x_request_id_a_referral_is_refused_saying_what_to_send(intake, make):
    response = await intake.post(_without_identifier(make))
    assert response.status_code == 400
    [issue] = response.json()["issue"]
    assert issue["code"] == "required"
    assert issue["expression"] == ["ServiceRequest.identifier"]
    assert "cannot be told from a second referral" in issue["diagnostics"]
    assert "X-Request-ID" in issue["diagnostics"]
    assert await intake.count("referrals") == 0
    assert await intake.count("outbox") == 0


async def test_an_x_request_id_that_is_not_a_uuid_is_refused(intake, make):
    for sent in ("42", "not-a-uuid", "1f0c4a3e5b2d4c8e9a7f3e6d2b1c0a9f0", "{1f0c4a3e-5b2d-4c8e-9a7f-3e6d2b1c0a9f}"):
        response = await intake.post(make.referral(), headers={"X-Request-ID": sent})
        assert response.status_code == 400, sent
        [issue] = response.json()["issue"]
        assert issue["code"] == "value"
        assert f"X-Request-ID '{sent}' is not a UUID" in issue["diagnostics"]
    assert await intake.count("referrals") == 0


async def _both_waiting_on_identifiers(pool: asyncpg.Pool) -> bool:
    waiting = await pool.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO referral_identifiers%'"
    )
    return bool(waiting == 2)


async def test_identifiers_listed_in_opposite_orders_at_once_never_deadlock(intake, make):
    # A third transaction holds both identifiers, so both requests are inside their inserts, waiting,
    # when it lets go. Inserting in the order sent, each would then take one and wait for the other.
    x = {"system": "https://b82005.example.nhs.uk/Id/referral", "value": f"x-{uuid.uuid4()}"}
    y = {"system": "https://b82005.example.nhs.uk/Id/referral", "value": f"y-{uuid.uuid4()}"}
    one, other = make.referral(), make.referral()
    one["identifier"], other["identifier"] = [x, y], [y, x]
    placeholder = await intake.post(make.referral())
    blocker = await asyncpg.connect(intake.app.state.runtime.settings.database_url)
    try:
        holding = blocker.transaction()
        await holding.start()
        for identifier in (x, y):
            await blocker.execute(
                "INSERT INTO referral_identifiers (requester_ods, system, value, referral_id) VALUES ($1, $2, $3, $4)",
                "B82005",
                identifier["system"],
                identifier["value"],
                placeholder.json()["id"],
            )
        async with intake.lenient_client() as client:
            headers = {**bearer("referrals:write", "referrals:read"), "Content-Type": "application/fhir+json"}
            sent = [
                asyncio.create_task(client.post("/fhir/ServiceRequest", json=body, headers=headers))
                for body in (one, other)
            ]
            await wait_until(
                lambda: _both_waiting_on_identifiers(intake.pool), message="both requests waiting on the identifiers"
            )
            await holding.rollback()
            answers = await asyncio.gather(*sent)
    finally:
        await blocker.close()

    assert sorted(answer.status_code for answer in answers) == [200, 201], [a.text for a in answers]
    assert answers[0].json()["id"] == answers[1].json()["id"]
    assert await intake.count("referrals") == 2, "the placeholder and one of the two"
    assert await intake.count("outbox") == 2
