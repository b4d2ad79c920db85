"""Use cases, each run inside one unit of work opened by the edge (consumer, route, worker, command).

A delivery needs two things that arrive on different topics in any order: the outcome (triage)
and the referrer's contact (referrals). Each event stores its half and then creates whatever
deliveries have become possible, so whichever arrives second creates the delivery.

Sending is not done here: the dispatcher claims deliveries, sends them outside any transaction and
hands each result to one of the `record_*` use cases, which store it and announce it
(notification.sent.v1 / notification.failed.v1) in the same transaction. A result is stored only
while the dispatcher's claim still holds the delivery (fencing); when it does not, the use case says
so, and a send that went out regardless is reported as a possible duplicate.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Container
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from notifications.adapters.templates import EmailTemplates
from notifications.domain.deliveries import (
    EMAIL,
    Claim,
    ClaimedDelivery,
    DeliveryStatus,
    Finished,
    NewDelivery,
    RedriveCandidate,
    RedriveSelection,
    address_problem,
    idempotency_key,
    notification_id,
    recipient_problem,
)
from notifications.domain.outcomes import WITHDRAWN, Outcome, ReferrerContact, StageScores
from notifications.domain.retry import RetryPolicy
from notifications.domain.withdrawal import AFTER_WITHDRAWAL, suppressed_because
from notifications.metrics import DELIVERY_ATTEMPTS
from signpost_contracts import EventEnvelope, new_event
from signpost_contracts.events.common import TEXT_LIMIT, clip
from signpost_contracts.events.notifications import NotificationFailed, NotificationSent
from signpost_runtime.auth import Principal

log = logging.getLogger(__name__)


class Referrals(Protocol):
    async def lock(self, referral_id: str) -> None: ...
    async def save_contact(self, contact: ReferrerContact, event_id: str) -> None: ...
    async def contact(self, referral_id: str) -> ReferrerContact | None: ...
    async def save_outcome(self, outcome: Outcome, correlation_id: str) -> None: ...
    async def has_outcomes(self, referral_id: str) -> bool: ...
    async def outcomes_without_delivery(self, referral_id: str, channel: str) -> list[tuple[Outcome, str]]: ...
    async def is_withdrawn(self, referral_id: str) -> bool: ...
    async def save_scores(
        self, referral_id: str, stage: str, recorded_at: datetime, event_id: str, scores: StageScores
    ) -> None: ...
    async def scores(self, referral_id: str) -> tuple[StageScores | None, StageScores | None]: ...


class Deliveries(Protocol):
    async def add(self, delivery: NewDelivery) -> bool: ...
    async def confirms_withdrawal(self, referral_id: str) -> bool: ...
    async def suppress_after_withdrawal(self, referral_id: str | None, reason: str) -> int: ...
    async def claim_due(self, limit: int, lease_seconds: float, owner: str) -> list[ClaimedDelivery]: ...
    async def mark_sent(self, delivery: ClaimedDelivery) -> Finished | None: ...
    async def mark_failed(self, delivery: ClaimedDelivery, error: str, *, attempted: bool) -> Finished | None: ...
    async def schedule_retry(self, delivery: ClaimedDelivery, delay_seconds: float, error: str) -> bool: ...
    async def wait_for_provider(self, delivery: ClaimedDelivery, error: str) -> bool: ...
    async def holder_of(self, notification_id: uuid.UUID) -> tuple[DeliveryStatus, Claim | None] | None: ...
    async def redrive_candidates(self, selection: RedriveSelection) -> list[RedriveCandidate]: ...
    async def redrive(self, notification_ids: list[uuid.UUID]) -> list[uuid.UUID]: ...
    async def of_referral(self, referral_id: str) -> list[dict[str, Any]]: ...


class NotificationsWork(Protocol):
    """A unit of work as the use cases see it: two repositories on one transaction, and `publish`.

    `unit.NotificationsUnit` provides it on PostgreSQL; tests pass an in-memory fake
    (tests/notifications/test_delivery_rules.py).
    """

    @property
    def referrals(self) -> Referrals: ...

    @property
    def deliveries(self) -> Deliveries: ...

    def publish(self, *events: EventEnvelope) -> None: ...


class Notifier:
    def __init__(self, templates: EmailTemplates, *, closure_includes_scores: bool = False) -> None:
        self.templates = templates
        # Off unless the service's policy allows outcome scores in the message back at closure.
        self.closure_includes_scores = closure_includes_scores

    async def measures_recorded(
        self,
        unit: NotificationsWork,
        referral_id: str,
        stage: str,
        recorded_at: datetime,
        event_id: str,
        scores: StageScores,
    ) -> None:
        """Kept for the closure message; only called when scores may be included in it."""
        await unit.referrals.lock(referral_id)
        await unit.referrals.save_scores(referral_id, stage, recorded_at, event_id, scores)

    async def contact_received(self, unit: NotificationsWork, contact: ReferrerContact, event_id: str) -> None:
        await unit.referrals.lock(contact.referral_id)
        await unit.referrals.save_contact(contact, event_id)
        await self._create_possible_deliveries(unit, contact.referral_id)

    async def outcome_decided(self, unit: NotificationsWork, outcome: Outcome, correlation_id: str) -> None:
        await unit.referrals.lock(outcome.referral_id)
        if outcome.kind == "closed" and self.closure_includes_scores:
            # Intake's measures come before its closure on the same topic, so they are known by now.
            baseline, closing = await unit.referrals.scores(outcome.referral_id)
            outcome = outcome.model_copy(update={"baseline_scores": baseline, "closing_scores": closing})
        await unit.referrals.save_outcome(outcome, correlation_id)
        if outcome.kind == WITHDRAWN:
            # Whatever is still waiting to go out about the referral never goes (domain/withdrawal.py).
            await unit.deliveries.suppress_after_withdrawal(outcome.referral_id, AFTER_WITHDRAWAL)
        await self._create_possible_deliveries(unit, outcome.referral_id)

    async def _create_possible_deliveries(self, unit: NotificationsWork, referral_id: str) -> None:
        contact = await unit.referrals.contact(referral_id)
        if contact is None:
            return  # the outcome waits for referral.received.v1
        withdrawn = await unit.referrals.is_withdrawn(referral_id)
        confirmed = await unit.deliveries.confirms_withdrawal(referral_id)
        for outcome, correlation_id in await unit.referrals.outcomes_without_delivery(referral_id, EMAIL):
            suppressed = suppressed_because(outcome, withdrawn=withdrawn, confirmation_exists=confirmed)
            delivery = self._delivery(outcome, contact, correlation_id, suppressed)
            added = await unit.deliveries.add(delivery)
            confirmed = confirmed or (added and outcome.kind == WITHDRAWN and delivery.status != "suppressed")
            if added and delivery.status == "failed" and delivery.failed_because:
                log.warning("delivery %s cannot be attempted: %s", delivery.notification_id, delivery.failed_because)
                DELIVERY_ATTEMPTS.labels(EMAIL, "failed").inc()
                unit.publish(_failed_event(delivery, delivery.failed_because))

    def _delivery(
        self, outcome: Outcome, contact: ReferrerContact, correlation_id: str, suppressed: str | None
    ) -> NewDelivery:
        key = idempotency_key(outcome.event_id, EMAIL)
        content = self.templates.render(outcome, contact)
        return NewDelivery(
            notification_id=notification_id(key),
            idempotency_key=key,
            outcome=outcome,
            channel=EMAIL,
            recipient=contact.email,
            subject=content.subject,
            body=content.text,
            correlation_id=correlation_id,
            failed_because=recipient_problem(contact),
            suppressed_because=suppressed,
        )


Result = Literal["sent", "retry_scheduled", "failed", "waiting_for_provider", "fenced_out"]


@dataclass(frozen=True)
class Recorded:
    """What became of a result handed in by the dispatcher."""

    result: Result
    attempts: int | None = None
    retry_in: float | None = None
    now_status: DeliveryStatus | None = None  # when fenced out: the status another claim left


@dataclass(frozen=True)
class Claimed:
    to_send: list[ClaimedDelivery]
    abandoned: list[ClaimedDelivery]  # claimed too often with no result: failed and announced


async def claim_due(
    unit: NotificationsWork,
    *,
    owner: str,
    limit: int,
    lease_seconds: float,
    policy: RetryPolicy,
    sent_earlier: Container[uuid.UUID],
) -> Claimed:
    """Lease what is due; fail at once any delivery that its dispatchers keep dying with (a crash loop).

    A delivery in `sent_earlier` went out under an earlier claim of this dispatcher and only its
    recording is missing: it is never abandoned, and the dispatcher records it without sending.
    """
    # A retry or a re-drive can put a withdrawn referral's delivery back in line: it is stopped here.
    await unit.deliveries.suppress_after_withdrawal(None, AFTER_WITHDRAWAL)
    to_send, abandoned = [], []
    for delivery in await unit.deliveries.claim_due(limit, lease_seconds, owner):
        reason = None if delivery.notification_id in sent_earlier else policy.abandoned(delivery.unrecorded_claims)
        if reason is None:
            to_send.append(delivery)
        elif finished := await unit.deliveries.mark_failed(delivery, reason, attempted=False):
            unit.publish(_failed_event(delivery, reason, attempts=finished.attempts, at=finished.at))
            abandoned.append(delivery)
    return Claimed(to_send, abandoned)


async def record_sent(unit: NotificationsWork, delivery: ClaimedDelivery) -> Recorded:
    finished = await unit.deliveries.mark_sent(delivery)
    if finished is not None:
        sent = NotificationSent(
            referral_id=delivery.referral_id,
            notification_id=str(delivery.notification_id),
            about_event_type=delivery.about_event_type,
            channel=EMAIL,
            sent_at=finished.at,
            attempts=finished.attempts,
        )
        unit.publish(_event(sent, delivery.referral_id, delivery.correlation_id, delivery.outcome_event_id))
        return Recorded("sent", attempts=finished.attempts)
    holder = await unit.deliveries.holder_of(delivery.notification_id)
    if holder is not None and holder == ("sent", delivery.claim):
        # Recorded by this very claim already: an earlier try committed but its reply was lost.
        return Recorded("sent")
    return Recorded("fenced_out", now_status=holder[0] if holder else None)


async def record_refusal(
    unit: NotificationsWork, delivery: ClaimedDelivery, error: str, *, permanent: bool, policy: RetryPolicy
) -> Recorded:
    """The provider refused the message: an attempt. Retry later, or give up and announce the failure."""
    error = _bounded(error)
    attempts = delivery.attempts + 1
    delay = policy.delay_after_failure(attempts, permanent=permanent)
    if delay is not None:
        if await unit.deliveries.schedule_retry(delivery, delay, error):
            return Recorded("retry_scheduled", attempts=attempts, retry_in=delay)
        return Recorded("fenced_out")
    finished = await unit.deliveries.mark_failed(delivery, error, attempted=True)
    if finished is None:
        return Recorded("fenced_out")
    unit.publish(_failed_event(delivery, error, attempts=finished.attempts, at=finished.at))
    return Recorded("failed", attempts=finished.attempts)


async def record_provider_unavailable(unit: NotificationsWork, delivery: ClaimedDelivery, error: str) -> Recorded:
    """The provider could not be reached: not an attempt; the delivery waits in its place in line."""
    error = _bounded(error)
    if await unit.deliveries.wait_for_provider(delivery, error):
        return Recorded("waiting_for_provider", attempts=delivery.attempts)
    return Recorded("fenced_out")


@dataclass(frozen=True)
class Redriven:
    redriven: list[uuid.UUID]
    skipped: dict[uuid.UUID, str] = field(default_factory=dict)  # why each was not


async def redrive(unit: NotificationsWork, selection: RedriveSelection) -> Redriven:
    """Put failed deliveries back in line, attempts reset, to be sent once more."""
    candidates = await unit.deliveries.redrive_candidates(selection)
    found = {candidate.notification_id for candidate in candidates}
    skipped = {nid: "no delivery has this notification id" for nid in selection.notification_ids if nid not in found}
    eligible = []
    for candidate in candidates:
        if candidate.status != "failed":
            skipped[candidate.notification_id] = f"it is {candidate.status}: only failed deliveries are re-driven"
        elif candidate.referral_withdrawn:
            skipped[candidate.notification_id] = "its referral was withdrawn: only the withdrawal is confirmed"
        elif problem := address_problem(candidate.recipient):
            skipped[candidate.notification_id] = (
                f"its recipient {candidate.recipient!r} cannot be emailed ({problem}); sending again would fail "
                "the same way: tell the referrer another way"
            )
        else:
            eligible.append(candidate.notification_id)
    redriven = await unit.deliveries.redrive(eligible) if eligible else []
    return Redriven(redriven, skipped)


async def deliveries_visible_to(
    unit: NotificationsWork, principal: Principal, referral_id: str
) -> list[dict[str, Any]] | None:
    """A referral's deliveries, or None when `principal` may not know the referral exists.

    One rule, so that another organisation's referral looks exactly like one that does not exist:
    the referrer's own organisation (the token's `ods` claim) sees it, and staff with
    `referrals:read-all` see every referral, including one whose referral details have not arrived yet.
    """
    contact = await unit.referrals.contact(referral_id)
    if not principal.may_read_organisation(contact.ods_code if contact else None):
        return None
    if contact is None and not await unit.referrals.has_outcomes(referral_id):
        return None  # nothing is known about it at all
    return await unit.deliveries.of_referral(referral_id)


def _bounded(error: str) -> str:
    """A provider's reply is its own text, of any length: kept within what notification.failed.v1 carries."""
    return clip(error, TEXT_LIMIT) or ""


def _failed_event(
    delivery: NewDelivery | ClaimedDelivery, error: str, *, attempts: int = 0, at: datetime | None = None
) -> EventEnvelope:
    if isinstance(delivery, NewDelivery):
        outcome = delivery.outcome
        referral_id, about, cause = outcome.referral_id, outcome.event_type, outcome.event_id
    else:
        referral_id, about, cause = delivery.referral_id, delivery.about_event_type, delivery.outcome_event_id
    failed = NotificationFailed(
        referral_id=referral_id,
        notification_id=str(delivery.notification_id),
        about_event_type=about,
        channel=EMAIL,
        failed_at=at or datetime.now(UTC),
        attempts=attempts,
        last_error=_bounded(error),
    )
    return _event(failed, referral_id, delivery.correlation_id, cause)


def _event(
    payload: NotificationSent | NotificationFailed, referral_id: str, correlation_id: str, causation_id: str
) -> EventEnvelope:
    return new_event(payload, subject=referral_id, correlation_id=correlation_id, causation_id=causation_id)
