"""Notifications on a real broker, PostgreSQL and SMTP sink: the referrer hears every outcome, once."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import REGISTRY

from notifications.adapters.templates import EmailTemplates
from notifications.domain.outcomes import contact_of, outcome_of_assignment
from notifications.service import Notifier
from signpost_contracts import read_data
from signpost_contracts.events.referrals import ReferralReceived, Referrer, ReferrerContact
from signpost_contracts.events.triage import ReferralAssigned
from support.auth import bearer
from support.infra import wait_until

pytestmark = pytest.mark.integration


def _attempts_counted(result: str) -> float:
    sample = REGISTRY.get_sample_value("signpost_notification_attempts_total", {"channel": "email", "result": result})
    return sample or 0.0


async def test_an_assigned_referral_emails_the_referrer_once_and_announces_it(service, make, referral_id):
    outcome = make.assigned(referral_id, kind="volunteer")
    await service.publish(make.received(referral_id), make.triaged(referral_id, outcome="accepted"), outcome)

    [email] = await service.emails(1)
    assert email.rcpt_tos == ["referrals@leedsroad.example.nhs.uk"]
    assert email.subject == "Referral LRS-2024-0042: accepted and a connector assigned"
    assert "trained volunteers" in email.text
    assert referral_id in email.text
    assert email.headers["X-Signpost-Idempotency-Key"] == f"email:{outcome.id}"
    assert email.headers["X-Signpost-Referral-Id"] == referral_id
    assert email.message_id.endswith("@signpost.local>")
    [announced] = await service.announcements(expect=1)
    assert announced.type == "notification.sent.v1"
    assert announced.subject == referral_id
    assert announced.causationid == outcome.id
    assert announced.data["about_event_type"] == "referral.assigned.v1"
    assert announced.data["attempts"] == 1
    assert len(service.sink.messages) == 1, "the accepted decision itself is not reported a second time"


async def test_the_same_triage_event_delivered_twice_sends_one_email(service, make, referral_id):
    outcome = make.waitlisted(referral_id)
    marker = make.triaged(referral_id, outcome="accepted")  # same partition, after the duplicate; no email
    await service.publish(make.received(referral_id), outcome, outcome, marker)

    await service.emails(1)
    await service.consumed(marker)
    assert len(await service.deliveries(referral_id)) == 1
    assert len(service.sink.messages) == 1
    assert "No connector in LS6 has room" in service.sink.messages[0].text


async def test_an_outcome_that_arrives_before_the_referral_is_emailed_once_both_are_known(service, make, referral_id):
    outcome = make.assigned(referral_id)
    await service.publish(outcome)
    await service.consumed(outcome)
    assert service.sink.messages == []
    assert await service.deliveries(referral_id) == []

    referral = make.received(referral_id)
    await service.publish(referral)

    [email] = await service.emails(1)
    assert email.headers["X-Signpost-Idempotency-Key"] == f"email:{outcome.id}"
    await service.consumed(referral)
    assert len(await service.deliveries(referral_id)) == 1


async def test_declined_referral_tells_the_referrer_why(service, make, referral_id):
    await service.publish(make.received(referral_id), make.triaged(referral_id, outcome="declined"))

    [email] = await service.emails(1)
    assert email.subject == "Referral LRS-2024-0042: not accepted"
    assert "We only support people who live in Leeds." in email.text
    assert "The person lives outside the Leeds service area" in email.text
    assert "send a corrected referral" in email.text


async def test_transient_smtp_refusals_are_retried_until_the_email_goes(service, make, referral_id):
    retries_before = _attempts_counted("retry_scheduled")
    service.sink.fail_next(2, code=451)
    await service.publish(make.received(referral_id), make.assigned(referral_id))

    [email] = await service.emails(1)
    assert service.sink.faults.rejected == 2
    assert _attempts_counted("retry_scheduled") - retries_before == 2
    [announced] = await service.announcements(expect=1)
    assert announced.type == "notification.sent.v1"
    assert announced.data["attempts"] == 3
    [delivery] = await service.deliveries(referral_id)
    assert (delivery["status"], delivery["attempts"]) == ("sent", 3)
    assert email.headers["X-Signpost-Idempotency-Key"] == delivery["idempotency_key"]


async def test_a_delivery_refused_every_time_is_reported_failed_with_the_error(service, make, referral_id):
    service.sink.fail_next(1000, code=451)
    await service.publish(make.received(referral_id), make.assigned(referral_id))

    [announced] = await service.announcements(expect=1)
    assert announced.type == "notification.failed.v1"
    assert announced.data["attempts"] == 3
    assert "SMTP 451" in announced.data["last_error"]
    [delivery] = await service.deliveries(referral_id)
    assert (delivery["status"], delivery["attempts"]) == ("failed", 3)
    assert service.sink.messages == []


async def test_a_permanent_smtp_refusal_is_reported_without_retrying(service, make, referral_id):
    service.sink.fail_next(1000, code=550)
    await service.publish(make.received(referral_id), make.triaged(referral_id, outcome="redirected"))

    # An urgent redirect is also announced as unconfirmed, for the dashboard.
    announced_types = {e.type: e for e in await service.announcements(expect=2)}
    assert set(announced_types) == {"notification.failed.v1", "notification.urgent-unconfirmed.v1"}
    announced = announced_types["notification.failed.v1"]
    assert announced.data["attempts"] == 1
    assert "SMTP 550" in announced.data["last_error"]
    assert service.sink.faults.rejected == 1


async def test_a_referral_without_an_email_address_is_reported_as_undeliverable(service, make, referral_id):
    phone_only = Referrer(
        kind="gp",
        ods_code="B82005",
        organisation_name="Leeds Road Surgery",
        contact=ReferrerContact(phone="0113 496 0000"),
    )
    await service.publish(make.received(referral_id, referrer=phone_only), make.assigned(referral_id))

    [announced] = await service.announcements(expect=1)
    assert announced.type == "notification.failed.v1"
    assert announced.data["attempts"] == 0
    assert "no referrer email address" in announced.data["last_error"]
    assert "referrer.contact.email" in announced.data["last_error"]
    [delivery] = await service.deliveries(referral_id)
    assert (delivery["status"], delivery["recipient"]) == ("failed", None)
    assert service.sink.messages == []


async def test_delivery_status_needs_the_scope_and_shows_the_callers_own_referrals(service, make, referral_id):
    service.sink.fail_next(1, code=451)
    await service.publish(make.received(referral_id), make.assigned(referral_id))
    await service.emails(1)
    path = f"/deliveries?referral_id={referral_id}"

    async def sent_is_recorded() -> bool:
        rows = await service.deliveries(referral_id)
        return bool(rows) and rows[0]["status"] == "sent"

    await wait_until(sent_is_recorded, message="the delivery to be recorded as sent")
    assert (await service.client.get(path)).status_code == 401
    assert (await service.client.get(path, headers=bearer("referrals:read"))).status_code == 403
    other_org = await service.client.get(path, headers=bearer("notifications:read", ods="Y12345"))
    assert other_org.status_code == 404, "another organisation's referral looks like an unknown one"
    assert other_org.headers["content-type"] == "application/problem+json"

    response = await service.client.get(path, headers=bearer("notifications:read", ods="B82005"))
    assert response.status_code == 200
    [delivery] = response.json()["deliveries"]
    assert delivery["channel"] == "email"
    assert delivery["recipient"] == "referrals@leedsroad.example.nhs.uk"
    assert delivery["status"] == "sent"
    assert delivery["attempts"] == 2
    assert "SMTP 451" in delivery["last_error"], "why it took two attempts"
    assert delivery["about_event_type"] == "referral.assigned.v1"
    assert delivery["sent_at"] is not None
    assert delivery["next_attempt_at"] is None
    ops = await service.client.get(path, headers=bearer("notifications:read", "referrals:read-all", ods=None))
    assert ops.json()["deliveries"][0]["notification_id"] == delivery["notification_id"]


async def test_a_contact_and_an_outcome_committed_at_the_same_moment_still_make_one_delivery(
    service, make, referral_id
):
    notifier = Notifier(EmailTemplates())
    contact = contact_of(read_data(ReferralReceived, make.received(referral_id).data))
    event = make.assigned(referral_id)
    outcome = outcome_of_assignment(event.id, event.type, read_data(ReferralAssigned, event.data))
    async with service.units() as second:
        async with service.units() as first:
            await notifier.contact_received(first, contact, "received-event")
            # As two replicas would: the outcome is handled while the contact is still uncommitted.
            racing = asyncio.create_task(notifier.outcome_decided(second, outcome, referral_id))
            await asyncio.wait({racing}, timeout=0.3)
            assert not racing.done(), "the outcome waits for the referral's lock"
        await racing  # the contact has committed

    [email] = await service.emails(1)
    assert email.headers["X-Signpost-Idempotency-Key"] == f"email:{event.id}"
    assert len(await service.deliveries(referral_id)) == 1
