"""Notifications acts on referral.erased.v1 (real broker, PostgreSQL and SMTP sink): the person's addresses and
every text about them go, every delivery row stays (counted), a repeat changes nothing, a later outcome is
not kept."""

from __future__ import annotations

import json

import pytest
from prometheus_client import REGISTRY

from signpost_contracts.events.referrals import Referrer, ReferrerContact
from support.events import referral_erased, referral_withdrawn
from support.infra import wait_until

pytestmark = pytest.mark.integration

PERSON_EMAIL = "rosalind.quilliam@example.com"
PERSON_PHONE = "07700 900461"
PERSON_NAME = "Rosalind Quilliam"
SELF = Referrer(kind="self", contact=ReferrerContact(email=PERSON_EMAIL, phone=PERSON_PHONE))


async def _everything_about(service, referral_id: str) -> str:
    """Every row notifications keeps about the referral, as one lower-case text."""
    rows = []
    for table in ("referrer_contacts", "person_contacts", "outcomes", "deliveries", "urgent_alerts", "case_measures"):
        rows += [
            dict(r) for r in await service.pool.fetch(f"SELECT * FROM {table} WHERE referral_id = $1", referral_id)
        ]
    outbox = await service.pool.fetch(
        "SELECT convert_from(payload, 'UTF8') AS p FROM outbox WHERE message_key = $1", referral_id
    )
    return (json.dumps(rows, default=str) + " ".join(r["p"] for r in outbox)).lower()


def _duplicates_of_erasure() -> float:
    labels = {"consumer": "notifications", "event_type": "referral.erased.v1", "outcome": "duplicate"}
    return REGISTRY.get_sample_value("signpost_messages_handled_total", labels) or 0.0


async def test_an_erased_self_referral_keeps_its_delivery_rows_but_no_address_and_no_text_about_the_person(
    service, make, referral_id
):
    summary = f"{PERSON_NAME} lives outside Leeds, so we cannot help."
    await service.publish(
        make.received(referral_id, channel="self-referral", referrer=SELF),
        make.triaged(referral_id, outcome="declined", summary=summary),
    )
    before = await service.deliveries_once(
        referral_id, lambda rows: len(rows) == 2 and all(r["status"] == "sent" for r in rows), "two emails sent"
    )
    assert PERSON_EMAIL in await _everything_about(service, referral_id), "the check below can find it"
    erased = referral_erased(referral_id)

    await service.publish(erased)
    await service.consumed(erased)

    held = await _everything_about(service, referral_id)
    for identifier in (PERSON_EMAIL, PERSON_PHONE, PERSON_NAME, "outside leeds"):
        assert identifier.lower() not in held, f"{identifier!r} is still held"
    after = await service.deliveries(referral_id)
    assert sorted((r["notification_id"], r["status"], r["channel"], r["sent_at"]) for r in after) == sorted(
        (r["notification_id"], r["status"], r["channel"], r["sent_at"]) for r in before
    ), "every delivery is still there, as sent, to be counted"
    assert {(r["recipient"], r["body"]) for r in after} == {(None, "")}


async def test_the_erasure_delivered_twice_is_recognised_and_changes_nothing(service, make, referral_id):
    await service.publish(make.received(referral_id, channel="self-referral", referrer=SELF))
    erased = referral_erased(referral_id)
    await service.publish(erased)
    await service.consumed(erased)
    first = await service.pool.fetchrow("SELECT * FROM erased_referrals WHERE referral_id = $1", referral_id)
    held = await _everything_about(service, referral_id)
    duplicates = _duplicates_of_erasure()
    # Intake's next event about the referral: the same topic and key, so consumed only after the repeat.
    marker = referral_withdrawn(referral_id)

    await service.publish(erased)
    await service.publish(marker)
    await service.consumed(marker)

    assert dict(
        await service.pool.fetchrow("SELECT * FROM erased_referrals WHERE referral_id = $1", referral_id)
    ) == dict(first)
    assert await _everything_about(service, referral_id) == held
    assert _duplicates_of_erasure() == duplicates + 1, "the repeat reached the consumer and was skipped as one"


async def test_an_outcome_arriving_after_the_erasure_is_neither_kept_nor_told(service, make, referral_id):
    erased = referral_erased(referral_id)
    await service.publish(make.received(referral_id, channel="self-referral", referrer=SELF), erased)
    await service.consumed(erased)
    late = make.triaged(referral_id, outcome="declined", summary=f"{PERSON_NAME} lives outside Leeds.")

    await service.publish(late)
    await service.consumed(late)

    assert await service.pool.fetchval("SELECT count(*) FROM outcomes WHERE event_id = $1", late.id) == 0
    outcome_deliveries = [d for d in await service.deliveries(referral_id) if d["outcome_event_id"] == late.id]
    assert outcome_deliveries == []
    assert PERSON_NAME.lower() not in await _everything_about(service, referral_id)


async def test_an_urgent_alert_still_open_when_its_referral_is_erased_is_settled_and_escalates_no_more(
    start_notifications, make, referral_id
):
    confirm_within = 2.0
    duty = "duty@signpost.example.org"
    settings = {
        "urgent_confirm_seconds": confirm_within,
        "follow_up_every_seconds": 0.2,
        "duty_coordinator_email": duty,
    }
    async with start_notifications(**settings) as service:
        redirect = make.triaged(referral_id, "redirected")
        await service.publish(make.received(referral_id), redirect)
        # SMTP cannot confirm delivery, so the alert stays open and would reach the duty coordinator in 2s.
        [urgent] = await service.emails(1)
        assert urgent.subject.startswith("URGENT")
        erased = referral_erased(referral_id)

        await service.publish(erased)
        await service.consumed(erased)

        alert = await service.pool.fetchrow("SELECT * FROM urgent_alerts WHERE outcome_event_id = $1", redirect.id)
        assert alert["acknowledged_by"] == f"erasure {erased.id}"
        assert alert["escalations"] == 0, "erased before its first escalation was due: the test proves nothing else"

        async def past_when_it_would_have_escalated() -> bool:
            return bool(
                await service.pool.fetchval(
                    "SELECT now() > $1::timestamptz + make_interval(secs => $2::float8)",
                    alert["raised_at"],
                    confirm_within + 1.0,
                )
            )

        await wait_until(past_when_it_would_have_escalated, timeout=10, message="the escalation time to pass")
        assert [m.rcpt_tos for m in service.sink.messages] == [urgent.rcpt_tos], "the duty coordinator is not told"
        unchanged = await service.pool.fetchrow("SELECT * FROM urgent_alerts WHERE outcome_event_id = $1", redirect.id)
        assert unchanged["escalations"] == 0
        announced = await service.announcements(expect=2)
        settled = [e for e in announced if e.type == "notification.urgent-settled.v1"]
        assert [(e.data["outcome_event_id"], e.data["how"]) for e in settled] == [(redirect.id, "acknowledged")]
