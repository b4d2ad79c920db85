"""A referral's later life on a real broker, PostgreSQL and SMTP sink: who hears what, and silence after withdrawal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from support.auth import bearer
from support.events import (
    case_closed,
    measures_recorded,
    referral_assigned_from_waitlist,
    referral_linked,
    referral_withdrawn,
)

pytestmark = pytest.mark.integration

OWN = bearer("notifications:read", ods="B82005")  # the referrer's organisation in support.events


async def test_a_waiting_person_assigned_and_later_discharged_is_reported_to_the_referrer_each_time(
    service, make, referral_id
):
    closed = case_closed(referral_id, reason="goals-met", sessions_used=4, goals=["Go to the Tuesday lunch club"])
    await service.publish(
        make.received(referral_id), make.waitlisted(referral_id), referral_assigned_from_waitlist(referral_id), closed
    )

    # Two topics: the closure (intake's) may be emailed before the waitlist emails (triage's).
    emails = {email.subject: email for email in await service.emails(3)}
    assert sorted(emails) == [
        "Referral LRS-2024-0042: accepted, on our waiting list",
        "Referral LRS-2024-0042: off the waiting list, a connector assigned",
        "Referral LRS-2024-0042: support has ended",
    ]
    ended = emails["Referral LRS-2024-0042: support has ended"]
    assert "The person met the goals they set." in ended.text
    assert "  - Go to the Tuesday lunch club" in ended.text
    assert ended.headers["X-Signpost-Idempotency-Key"] == f"email:{closed.id}"


async def test_a_service_that_allows_scores_gives_them_in_the_closure_message(start_notifications, make, referral_id):
    async with start_notifications(closure_message_includes_scores=True) as service:
        later = datetime.now(UTC) + timedelta(minutes=1)
        await service.publish(
            make.received(referral_id),
            measures_recorded(referral_id, stage="baseline", ucla3_total=8),
            measures_recorded(referral_id, stage="closing", at=later, ucla3_total=4),
            measures_recorded(referral_id, stage="closing", ucla3_total=9),  # recorded earlier, arriving later
            case_closed(referral_id),
        )

        [email] = await service.emails(1)
        assert "UCLA loneliness score (3 to 9, lower is less lonely): 8, then 4\n" in email.text
        assert "Anxiety yesterday (0 to 10, lower is better): 7, then 7\n" in email.text


async def test_a_linked_referral_tells_its_own_referrer_only_that_the_person_is_supported(service, make, referral_id):
    await service.publish(make.received(referral_id), referral_linked(referral_id, linked_to_referral_id="r-other-9"))

    [email] = await service.emails(1)
    assert email.subject == "Referral LRS-2024-0042: the person is already being supported"
    assert "r-other-9" not in email.text


async def test_a_withdrawal_that_overtakes_the_assignment_on_the_other_topic_is_the_only_message_sent(
    service, make, referral_id
):
    withdrawn = referral_withdrawn(referral_id)
    await service.publish(make.received(referral_id), withdrawn)
    [confirmation] = await service.emails(1)
    assert confirmation.subject == "Referral LRS-2024-0042: withdrawal confirmed"

    assigned = referral_assigned_from_waitlist(referral_id)
    closed = case_closed(referral_id)
    await service.publish(assigned, closed, withdrawn)  # the withdrawal again: a redelivery
    await service.consumed(assigned)
    await service.consumed(closed)
    # Another referral's email goes after them: once it is out, the dispatcher has had its chance.
    marker_id = f"{referral_id}-marker"
    await service.publish(make.received(marker_id), make.assigned(marker_id))
    await service.emails(2)

    assert [m.headers["X-Signpost-Referral-Id"] for m in service.sink.messages] == [referral_id, marker_id]
    rows = {row["outcome"]: row for row in await service.deliveries(referral_id)}
    assert {kind: row["status"] for kind, row in rows.items()} == {
        "withdrawn": "sent",
        "assigned-from-waitlist": "suppressed",
        "closed": "suppressed",
    }
    assert rows["closed"]["suppressed_because"].startswith("not sent: the referrer withdrew this referral")
    assert rows["closed"]["sent_at"] is None


async def test_a_message_waiting_to_be_retried_when_the_withdrawal_arrives_is_never_sent(
    start_notifications, make, referral_id
):
    async with start_notifications(delivery_retry_backoff_seconds=30, delivery_retry_backoff_max_seconds=30) as service:
        service.sink.fail_next(1, code=451)
        await service.publish(make.received(referral_id), referral_assigned_from_waitlist(referral_id))

        await service.deliveries_once(
            referral_id,
            lambda rows: bool(rows) and rows[0]["attempts"] == 1 and rows[0]["status"] == "pending",
            "the first attempt to be refused and a retry scheduled",
        )
        await service.publish(referral_withdrawn(referral_id))

        [confirmation] = await service.emails(1)
        assert confirmation.subject == "Referral LRS-2024-0042: withdrawal confirmed"

        rows = await service.deliveries_once(
            referral_id,
            lambda rows: any(row["outcome"] == "withdrawn" and row["status"] == "sent" for row in rows),
            "the confirmation to be recorded as sent",
        )
        assert {row["outcome"]: row["status"] for row in rows} == {
            "assigned-from-waitlist": "suppressed",
            "withdrawn": "sent",
        }
        response = await service.client.get("/deliveries", params={"referral_id": referral_id}, headers=OWN)
        assert response.status_code == 200
        assert {d["status"] for d in response.json()["deliveries"]} == {"suppressed", "sent"}
