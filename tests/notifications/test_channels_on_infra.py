"""Referrers hear back the way they work, on the real broker and PostgreSQL, with the fake BaRS receiver and
the SMTP sink: a BaRS referral answered by BaRS, another route tried when one fails for good, and an urgent
message nobody confirms escalated to the duty coordinator until someone acknowledges it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from signpost_contracts.events.referrals import BarsOrigin, ReferrerContact, ReferrerV2
from signpost_devstack.fake_bars import FakeBars
from support.auth import bearer
from support.events import referral_received_v2
from support.infra import wait_until

from .conftest import assigned, triaged

REQUEST_MESSAGE_ID = "3b6a4f0e-5d8c-4b1a-9e2f-7c1d0a9b8e76"
SOURCE_ENDPOINT = "https://fhir.nhs.uk/Id/dos-service-id|2000072489"
CORRELATION_ID = "11c5d9a2-0f41-4c57-b2b8-8a3e1d7f6c90"
DUTY_EMAIL = "duty@signpost.example.org"
STAFF = bearer("notifications:read", "referrals:read-all")


@pytest.fixture
async def bars() -> AsyncIterator[FakeBars]:
    async with FakeBars(port=0) as running:
        yield running


def bars_referral(referral_id: str, **referrer: Any) -> Any:
    """A GP's referral sent as a BaRS message, as intake announces it."""
    return referral_received_v2(
        referral_id,
        channel="bars-message",
        referrer=ReferrerV2(
            kind="gp",
            ods_code="B82005",
            organisation_name="Leeds Road Surgery",
            contact=ReferrerContact(email=referrer.get("email", "referrals@leedsroad.example.nhs.uk")),
        ),
        bars=BarsOrigin(
            message_id=REQUEST_MESSAGE_ID,
            source_endpoint=SOURCE_ENDPOINT,
            sender_ods="B82005",
            correlation_id=CORRELATION_ID,
        ),
    )


def with_bars(bars: FakeBars, **more: Any) -> dict[str, Any]:
    return {"bars_proxy_url": bars.base_url, "bars_service_ods_code": "X9S1P", "bars_timeout_seconds": 5, **more}


async def test_a_bars_referrals_acceptance_reaches_its_sender_as_a_servicerequest_response_naming_the_request(
    start_notifications, bars, referral_id
):
    async with start_notifications(**with_bars(bars, follow_up_every_seconds=0.2)) as service:
        assignment = assigned(referral_id)
        await service.publish(bars_referral(referral_id), assignment, assignment)  # the assignment delivered twice

        async def answered() -> bool:
            return len(bars.messages) >= 1

        await wait_until(answered, message="the servicerequest-response at the fake BaRS receiver")
        message = bars.messages[0]
        header = message.bundle["entry"][0]["resource"]
        service_request = message.bundle["entry"][1]["resource"]
        assert header["eventCoding"]["code"] == "servicerequest-response"
        assert header["response"]["identifier"] == REQUEST_MESSAGE_ID
        assert header["destination"][0]["endpoint"] == SOURCE_ENDPOINT
        assert (message.target, message.correlation_id) == (SOURCE_ENDPOINT, CORRELATION_ID)
        assert service_request["status"] == "active"
        assert service_request["id"] == referral_id
        assert service_request["code"]["coding"] == [
            {
                "system": "http://snomed.info/sct",
                "code": "871731000000106",
                "display": "Referral to social prescribing service",
            }
        ], "SNOMED CT coded: the service the referral was for"

        async def confirmed() -> bool:
            rows = await service.deliveries(referral_id)
            return len(rows) == 1 and rows[0]["confirmed_at"] is not None

        await wait_until(confirmed, message="the BaRS delivery confirmed")
        assert service.sink.messages == [], "answered by BaRS first: no email as well"
        assert len(bars.messages) == 1, "one outcome delivered twice is one message"

        async def counted() -> bool:
            metrics = (await service.client.get("/metrics")).text
            return 'signpost_notification_deliveries{channel="bars",state="delivered"} 1.0' in metrics

        await wait_until(counted, message="the delivery counted as delivered on the bars channel")


async def test_a_bars_receiver_refusing_the_response_for_good_sends_the_referrer_an_email_instead(
    start_notifications, bars, referral_id
):
    bars.fail_next(1, status=422)
    async with start_notifications(**with_bars(bars)) as service:
        await service.publish(bars_referral(referral_id), assigned(referral_id))
        emails = await service.emails(1)

        assert emails[0].rcpt_tos == ["referrals@leedsroad.example.nhs.uk"]
        settled = await service.deliveries_once(
            referral_id,
            lambda rows: any(row["channel"] == "email" and row["status"] != "pending" for row in rows),
            "the email's send recorded",
        )
        rows = {row["channel"]: row for row in settled}
        assert rows["bars"]["status"] == "failed"
        assert (rows["email"]["status"], rows["email"]["route_rank"]) == ("sent", 1)
        assert bars.messages == []


async def test_a_bars_receiver_that_is_down_holds_the_response_until_it_is_back_and_sends_it_once(
    start_notifications, bars, referral_id
):
    bars.fail_next(3, status=503)
    async with start_notifications(
        **with_bars(bars, smtp_outage_backoff_seconds=0.1, smtp_outage_backoff_max_seconds=0.3)
    ) as service:
        await service.publish(bars_referral(referral_id), assigned(referral_id))

        async def recorded() -> bool:
            rows = await service.deliveries(referral_id)
            return bool(rows) and rows[0]["status"] == "sent"

        await wait_until(recorded, message="the response sent after the outage")
        rows = await service.deliveries(referral_id)
        assert [(row["channel"], row["status"], row["attempts"]) for row in rows] == [("bars", "sent", 1)]
        assert service.sink.messages == [], "an outage is not a failure: no fall-back email"
        assert len(bars.messages) == 1


async def test_an_urgent_redirect_nobody_confirms_goes_to_the_duty_coordinator_and_stays_listed_until_acknowledged(
    start_notifications, referral_id, tmp_path: Path
):
    directory = tmp_path / "directory.json"
    directory.write_text(json.dumps([{"id": "B82005", "channels": ["email"]}]))
    async with start_notifications(
        referrer_directory_file=str(directory),
        urgent_confirm_seconds=1.0,
        follow_up_every_seconds=0.2,
        duty_coordinator_email=DUTY_EMAIL,
    ) as service:
        redirect = triaged(referral_id, "redirected")
        await service.publish(bars_referral(referral_id), redirect)
        # SMTP cannot confirm delivery: the referrer's email goes at once, then the duty coordinator is told.
        emails = await service.emails(2)
        assert emails[0].rcpt_tos == ["referrals@leedsroad.example.nhs.uk"]
        assert emails[0].subject.startswith("URGENT")
        assert emails[1].rcpt_tos == [DUTY_EMAIL]
        assert referral_id in emails[1].text
        assert "acknowledge" in emails[1].text

        listed = (await service.client.get("/urgent", headers=STAFF)).json()["alerts"]
        assert [alert["outcome_event_id"] for alert in listed] == [redirect.id]
        assert listed[0]["escalations"] >= 1

        acknowledged = await service.client.post(f"/urgent/{redirect.id}/acknowledge", headers=STAFF)
        assert acknowledged.status_code == 200
        assert (await service.client.get("/urgent", headers=STAFF)).json()["alerts"] == []
        assert len(service.sink.messages) == 2, "one duty message, however long the alert stayed open"


async def test_an_urgent_alert_is_only_for_staff_and_an_unknown_one_is_404(start_notifications):
    async with start_notifications() as service:
        own_organisation = bearer("notifications:read")
        assert (await service.client.get("/urgent", headers=own_organisation)).status_code == 403
        missing = await service.client.post("/urgent/no-such-event/acknowledge", headers=STAFF)
        assert missing.status_code == 404
