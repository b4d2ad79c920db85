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
from collections.abc import Callable, Collection, Container
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from notifications.adapters.templates import Composed, EmailTemplates
from notifications.domain.deliveries import (
    Acknowledged,
    AwaitedReceipt,
    Claim,
    ClaimedDelivery,
    DeliveryStatus,
    Finished,
    NewDelivery,
    RedriveCandidate,
    RedriveSelection,
    UrgentAlert,
    address_problem,
    idempotency_key,
    notification_id,
    recipient_problem,
)
from notifications.domain.messages import BARS, EMAIL, SMS, Channel, Receipt, Sent
from notifications.domain.outcomes import WITHDRAWN, Outcome, PersonAddress, ReferrerContact, StageScores
from notifications.domain.retry import RetryPolicy
from notifications.domain.routing import ReferrerDirectory, Route, duty_routes, referrer_routes
from notifications.domain.withdrawal import AFTER_WITHDRAWAL, suppressed_because
from notifications.metrics import DELIVERY_ATTEMPTS, RECEIPTS
from signpost_contracts import EventEnvelope, new_event
from signpost_contracts.events.common import TEXT_LIMIT, clip
from signpost_contracts.events.notifications import (
    NotificationChannel,
    NotificationFailed,
    NotificationSent,
    UrgentSettled,
    UrgentUnconfirmed,
)
from signpost_runtime.auth import Principal
from signpost_runtime.redaction import without_contact_details

log = logging.getLogger(__name__)


class Referrals(Protocol):
    async def lock(self, referral_id: str) -> None: ...
    async def save_contact(self, contact: ReferrerContact, event_id: str) -> None: ...
    async def contact(self, referral_id: str) -> ReferrerContact | None: ...
    async def save_person_address(self, address: PersonAddress, event_id: str) -> None: ...
    async def forget_person_address(self, referral_id: str) -> None: ...
    async def save_outcome(self, outcome: Outcome, correlation_id: str) -> None: ...
    async def has_outcomes(self, referral_id: str) -> bool: ...
    async def outcomes_without_delivery(self, referral_id: str) -> list[tuple[Outcome, str]]: ...
    async def outcome(self, event_id: str) -> tuple[Outcome, str] | None: ...
    async def is_erased(self, referral_id: str) -> bool: ...
    async def is_withdrawn(self, referral_id: str) -> bool: ...
    async def save_scores(
        self, referral_id: str, stage: str, recorded_at: datetime, event_id: str, scores: StageScores
    ) -> None: ...
    async def scores(self, referral_id: str) -> tuple[StageScores | None, StageScores | None]: ...


class Deliveries(Protocol):
    async def add(self, delivery: NewDelivery) -> bool: ...
    async def confirms_withdrawal(self, referral_id: str) -> bool: ...
    async def suppress_after_withdrawal(self, referral_id: str | None, reason: str) -> int: ...
    async def claim_due(
        self, limit: int, lease_seconds: float, owner: str, channels: list[str]
    ) -> list[ClaimedDelivery]: ...
    async def mark_sent(
        self, delivery: ClaimedDelivery, *, provider_reference: str | None, confirmed: bool, awaits_receipt: bool
    ) -> Finished | None: ...
    async def mark_delivered(self, notification_id: uuid.UUID, receipt: Receipt) -> bool: ...
    async def mark_undelivered(self, notification_id: uuid.UUID, receipt: Receipt, error: str) -> Finished | None: ...
    async def keys_of_outcome(self, outcome_event_id: str) -> set[str]: ...
    async def raise_urgent(self, outcome: Outcome, confirm_within_seconds: float) -> UrgentAlert | None: ...
    async def confirm_urgent(self, outcome_event_id: str) -> bool: ...
    async def acknowledge_urgent(self, outcome_event_id: str, by: str) -> Acknowledged | None: ...
    async def urgent_due(self, limit: int) -> list[UrgentAlert]: ...
    async def escalated(self, outcome_event_id: str, what: str, next_in_seconds: float) -> None: ...
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


class Erasures(Protocol):
    async def erase(self, referral_id: str, event_id: str, erased_at: datetime) -> None: ...
    async def settle_urgent(self, referral_id: str, by: str) -> list[tuple[str, datetime]]: ...


class ErasureWork(NotificationsWork, Protocol):
    @property
    def erasure(self) -> Erasures: ...


async def erase_referral(unit: ErasureWork, referral_id: str, event_id: str, erased_at: datetime) -> None:
    """Intake erased the referral's person (referral.erased.v1): erase every address and text about them here.

    Under the referral's lock, so an outcome being stored at the same moment is either erased with the rest
    or, arriving after, refused by `is_erased`. Doing it twice changes nothing (the inbox skips a repeat anyway).
    """
    await unit.referrals.lock(referral_id)
    await unit.erasure.erase(referral_id, event_id, erased_at)
    # An urgent alert still open would escalate for ever, to the duty coordinator with nothing left to say:
    # the erasure settles it. UrgentSettled.how has no "erased" (a new value would break its v1 readers), so it
    # is announced as acknowledged, and acknowledged_by names the erasure event.
    for outcome_event_id, at in await unit.erasure.settle_urgent(referral_id, f"erasure {event_id}"):
        payload = UrgentSettled(
            referral_id=referral_id, outcome_event_id=outcome_event_id, settled_at=at, how="acknowledged"
        )
        unit.publish(new_event(payload, subject=referral_id, correlation_id=referral_id, causation_id=event_id))
    log.info("erased what notifications held about referral %s (event %s)", referral_id, event_id)


async def forget_person_address(unit: NotificationsWork, referral_id: str) -> None:
    """The person's address was erased at intake (its tombstone on the contacts stream): it is forgotten here.

    referral.erased.v1 has already erased it, or will (it comes on another topic, in either order); this makes the
    two agree even when the address arrived between them.
    """
    await unit.referrals.lock(referral_id)
    await unit.referrals.forget_person_address(referral_id)


# (outcome, contact, idempotency key, destination endpoint) -> the servicerequest-response Bundle as JSON
BarsComposer = Callable[[Outcome, ReferrerContact, str, str], str]


@dataclass(frozen=True)
class Channels:
    """What this deployment can send on, and to whom urgent matters escalate."""

    available: frozenset[Channel] = frozenset({EMAIL})
    directory: ReferrerDirectory = field(default_factory=ReferrerDirectory.empty)
    # Builds the servicerequest-response Bundle (JSON) for an outcome; required when BARS is available.
    bars: BarsComposer | None = None
    duty_email: str | None = None
    duty_sms: str | None = None
    # An urgent message not confirmed delivered within this many seconds moves to the next step.
    urgent_confirm_seconds: float = 900.0


class Notifier:
    def __init__(
        self, templates: EmailTemplates, *, closure_includes_scores: bool = False, channels: Channels | None = None
    ) -> None:
        self.templates = templates
        # Off unless the service's policy allows outcome scores in the message back at closure.
        self.closure_includes_scores = closure_includes_scores
        self.channels = channels or Channels()
        if BARS in self.channels.available and self.channels.bars is None:
            raise ValueError("the BaRS channel needs a composer for its servicerequest-response messages")

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
        if await unit.referrals.is_erased(referral_id):
            return
        await unit.referrals.save_scores(referral_id, stage, recorded_at, event_id, scores)

    async def contact_received(
        self, unit: NotificationsWork, contact: ReferrerContact, event_id: str, acknowledgement: Outcome | None = None
    ) -> None:
        """The referral's details arrived; a self-referral also brings its acknowledgement to the person."""
        await unit.referrals.lock(contact.referral_id)
        if await unit.referrals.is_erased(contact.referral_id):
            return
        await unit.referrals.save_contact(contact, event_id)
        if acknowledgement is not None:
            await unit.referrals.save_outcome(acknowledgement, event_id)
        await self._create_possible_deliveries(unit, contact.referral_id)

    async def person_address_received(self, unit: NotificationsWork, address: PersonAddress, event_id: str) -> None:
        """A self-referrer's own address arrived on the contacts stream, before or after the referral's details."""
        await unit.referrals.lock(address.referral_id)
        if await unit.referrals.is_erased(address.referral_id):
            # Its tombstone follows on the same partition; until then it must not be kept, nor used.
            return
        await unit.referrals.save_person_address(address, event_id)
        await self._create_possible_deliveries(unit, address.referral_id)

    async def outcome_decided(self, unit: NotificationsWork, outcome: Outcome, correlation_id: str) -> None:
        await unit.referrals.lock(outcome.referral_id)
        if await unit.referrals.is_erased(outcome.referral_id):
            # Triage's topic is not ordered with intake's: an outcome may follow the erasure. Nobody is left to tell.
            log.info("outcome %s is about erased referral %s: not kept", outcome.event_id, outcome.referral_id)
            return
        if outcome.kind == "closed" and self.closure_includes_scores:
            # Intake's measures come before its closure on the same topic, so they are known by now.
            baseline, closing = await unit.referrals.scores(outcome.referral_id)
            outcome = outcome.model_copy(update={"baseline_scores": baseline, "closing_scores": closing})
        await unit.referrals.save_outcome(outcome, correlation_id)
        if outcome.kind == WITHDRAWN:
            # Whatever is still waiting to go out about the referral never goes (domain/withdrawal.py).
            await unit.deliveries.suppress_after_withdrawal(outcome.referral_id, AFTER_WITHDRAWAL)
        await self._create_possible_deliveries(unit, outcome.referral_id)

    def routes(self, outcome: Outcome, contact: ReferrerContact) -> list[Route]:
        entry = self.channels.directory.entry_for(contact)
        return referrer_routes(outcome, contact, entry, self.channels.available)

    async def _create_possible_deliveries(self, unit: NotificationsWork, referral_id: str) -> None:
        contact = await unit.referrals.contact(referral_id)
        if contact is None:
            return  # the outcome waits for referral.received (and a self-referrer's address, on the contacts stream)
        withdrawn = await unit.referrals.is_withdrawn(referral_id)
        confirmed = await unit.deliveries.confirms_withdrawal(referral_id)
        for outcome, correlation_id in await unit.referrals.outcomes_without_delivery(referral_id):
            suppressed = suppressed_because(outcome, withdrawn=withdrawn, confirmation_exists=confirmed)
            routes = self.routes(outcome, contact)
            delivery = self._delivery(outcome, contact, correlation_id, routes[0] if routes else None, 0, suppressed)
            added = await unit.deliveries.add(delivery)
            if added and delivery.channel == SMS and delivery.audience == "referrer" and len(routes) > 1:
                # An SMS is the fastest alert, not the whole message: the details go on the usual route too.
                await unit.deliveries.add(self._delivery(outcome, contact, correlation_id, routes[1], 1, suppressed))
            confirmed = confirmed or (added and outcome.kind == WITHDRAWN and delivery.status != "suppressed")
            if added and delivery.status == "failed" and delivery.failed_because:
                log.warning("delivery %s cannot be attempted: %s", delivery.notification_id, delivery.failed_because)
                DELIVERY_ATTEMPTS.labels(delivery.channel, "failed").inc()
                unit.publish(_failed_event(delivery, delivery.failed_because))
            if added and outcome.urgent and delivery.status != "suppressed":
                # Watched until confirmed delivered or acknowledged by staff (escalate_due).
                alert = await unit.deliveries.raise_urgent(outcome, self.channels.urgent_confirm_seconds)
                if alert is not None:
                    unit.publish(_unconfirmed(alert, correlation_id))

    def _delivery(
        self,
        outcome: Outcome,
        contact: ReferrerContact,
        correlation_id: str,
        route: Route | None,
        rank: int,
        suppressed: str | None = None,
    ) -> NewDelivery:
        channel: Channel = route.channel if route else EMAIL
        audience = route.audience if route else "referrer"
        key = idempotency_key(outcome.event_id, channel, audience)
        if channel == BARS:
            assert self.channels.bars is not None  # checked in __init__
            assert route is not None  # BaRS is only ever a route, never the no-address fallback
            body = self.channels.bars(outcome, contact, key, route.recipient)
            content = Composed("bars/servicerequest-response", "", body)
            # The BaRS conversation's own correlation id goes back with the response.
            correlation_id = contact.bars.correlation_id if contact.bars else correlation_id
        else:
            content = self.templates.compose(outcome, contact, channel=channel, audience=audience)
        return NewDelivery(
            notification_id=notification_id(key),
            idempotency_key=key,
            outcome=outcome,
            channel=channel,
            recipient=route.recipient if route else contact.email,
            subject=content.subject,
            body=content.text,
            correlation_id=correlation_id,
            template=content.template,
            audience=audience,
            route_rank=rank,
            failed_because=None if route else recipient_problem(contact),
            suppressed_because=suppressed,
        )

    async def fail_over(self, unit: NotificationsWork, failed: ClaimedDelivery | AwaitedReceipt) -> NewDelivery | None:
        """The delivery failed for good: the referrer's next route gets the message, if there is one."""
        if failed.audience != "referrer":
            return None
        found = await unit.referrals.outcome(failed.outcome_event_id)
        contact = await unit.referrals.contact(failed.referral_id)
        if found is None or contact is None or await unit.referrals.is_erased(failed.referral_id):
            return None
        outcome, correlation_id = found
        if await unit.referrals.is_withdrawn(outcome.referral_id) and outcome.kind != WITHDRAWN:
            return None
        routes = self.routes(outcome, contact)
        for rank in range(failed.route_rank + 1, len(routes)):
            delivery = self._delivery(outcome, contact, correlation_id, routes[rank], rank)
            if await unit.deliveries.add(delivery):
                log.warning(
                    "delivery %s failed: telling the referrer by %s instead (%s)",
                    failed.notification_id,
                    delivery.channel,
                    delivery.notification_id,
                )
                return delivery
        return None

    async def escalate_due(self, unit: NotificationsWork, limit: int = 50) -> list[Escalation]:
        """Move each urgent message unconfirmed past its time a step on: the next route, then the duty coordinator."""
        escalations = []
        for alert in await unit.deliveries.urgent_due(limit):
            found = await unit.referrals.outcome(alert.outcome_event_id)
            contact = await unit.referrals.contact(alert.referral_id)
            if found is None or contact is None:
                continue
            outcome, correlation_id = found
            used = await unit.deliveries.keys_of_outcome(outcome.event_id)
            routes = self.routes(outcome, contact)
            step = next(
                (
                    (rank, route)
                    for rank, route in enumerate(routes)
                    if idempotency_key(outcome.event_id, route.channel) not in used
                ),
                None,
            )
            if step is not None:
                created = [self._delivery(outcome, contact, correlation_id, step[1], step[0])]
                what = f"told again by {step[1].channel}"
            else:
                duty = duty_routes(self.channels.duty_email, self.channels.duty_sms, self.channels.available)
                created = [
                    self._delivery(outcome, contact, correlation_id, route, 0)
                    for route in duty
                    if idempotency_key(outcome.event_id, route.channel, "duty") not in used
                ]
                what = (
                    "the duty coordinator told by " + " and ".join(d.channel for d in created)
                    if created
                    else "every channel and the duty coordinator tried: it stays listed until acknowledged"
                )
            for delivery in created:
                await unit.deliveries.add(delivery)
            await unit.deliveries.escalated(outcome.event_id, what, self.channels.urgent_confirm_seconds)
            escalated = replace(alert, escalations=alert.escalations + 1, last_escalation=what)
            unit.publish(_unconfirmed(escalated, correlation_id))
            log.error("urgent message about referral %s not confirmed in time: %s", outcome.referral_id, what)
            escalations.append(Escalation(outcome.referral_id, outcome.event_id, what))
        return escalations


@dataclass(frozen=True)
class Escalation:
    referral_id: str
    outcome_event_id: str
    what: str


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
    channels: Collection[str] = ("email",),
    notifier: Notifier | None = None,
) -> Claimed:
    """Lease what is due; fail at once any delivery that its dispatchers keep dying with (a crash loop).

    A delivery in `sent_earlier` went out under an earlier claim of this dispatcher and only its
    recording is missing: it is never abandoned, and the dispatcher records it without sending.
    """
    # A retry or a re-drive can put a withdrawn referral's delivery back in line: it is stopped here.
    await unit.deliveries.suppress_after_withdrawal(None, AFTER_WITHDRAWAL)
    to_send, abandoned = [], []
    for delivery in await unit.deliveries.claim_due(limit, lease_seconds, owner, list(channels)):
        reason = None if delivery.notification_id in sent_earlier else policy.abandoned(delivery.unrecorded_claims)
        if reason is None:
            to_send.append(delivery)
        elif finished := await unit.deliveries.mark_failed(delivery, reason, attempted=False):
            unit.publish(_failed_event(delivery, reason, attempts=finished.attempts, at=finished.at))
            abandoned.append(delivery)
            if notifier is not None:
                await notifier.fail_over(unit, delivery)
    return Claimed(to_send, abandoned)


async def record_sent(unit: NotificationsWork, delivery: ClaimedDelivery, sent: Sent | None = None) -> Recorded:
    """The provider took the message. A receipt is awaited when it gives one; a confirmation closes an urgent alert."""
    sent = sent or Sent()
    awaits_receipt = sent.provider_reference is not None and not sent.confirmed
    finished = await unit.deliveries.mark_sent(
        delivery, provider_reference=sent.provider_reference, confirmed=sent.confirmed, awaits_receipt=awaits_receipt
    )
    if finished is not None:
        if sent.confirmed and delivery.audience == "referrer":
            await _confirm_urgent(unit, delivery.referral_id, delivery.outcome_event_id, delivery.correlation_id)
        published = NotificationSent(
            referral_id=delivery.referral_id,
            notification_id=str(delivery.notification_id),
            about_event_type=delivery.about_event_type,
            channel=event_channel(delivery.channel),
            sent_at=finished.at,
            attempts=finished.attempts,
        )
        unit.publish(_event(published, delivery.referral_id, delivery.correlation_id, delivery.outcome_event_id))
        return Recorded("sent", attempts=finished.attempts)
    holder = await unit.deliveries.holder_of(delivery.notification_id)
    if holder is not None and holder == ("sent", delivery.claim):
        # Recorded by this very claim already: an earlier try committed but its reply was lost.
        return Recorded("sent")
    return Recorded("fenced_out", now_status=holder[0] if holder else None)


async def record_receipt(
    unit: NotificationsWork, awaited: AwaitedReceipt, receipt: Receipt, notifier: Notifier | None = None
) -> str:
    """What the provider says became of a message it took: delivered, or failed (the next route is tried)."""
    if receipt.status == "pending":
        return "pending"
    if receipt.status == "delivered":
        if await unit.deliveries.mark_delivered(awaited.notification_id, receipt) and awaited.audience == "referrer":
            await _confirm_urgent(unit, awaited.referral_id, awaited.outcome_event_id, awaited.correlation_id)
        RECEIPTS.labels(awaited.channel, "delivered").inc()
        return "delivered"
    error = f"the provider could not deliver it: {receipt.detail or receipt.status} ({receipt.status})"
    finished = await unit.deliveries.mark_undelivered(awaited.notification_id, receipt, error)
    if finished is None:
        return "recorded-earlier"
    RECEIPTS.labels(awaited.channel, receipt.status).inc()
    unit.publish(_failed_event(awaited, error, attempts=finished.attempts, at=finished.at))
    if notifier is not None:
        await notifier.fail_over(unit, awaited)
    return receipt.status


async def record_refusal(
    unit: NotificationsWork,
    delivery: ClaimedDelivery,
    error: str,
    *,
    permanent: bool,
    policy: RetryPolicy,
    notifier: Notifier | None = None,
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
    if notifier is not None:
        await notifier.fail_over(unit, delivery)
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
        elif candidate.channel == EMAIL and (problem := address_problem(candidate.recipient)):
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
    the referrer's own organisation (the token's `ods` claim, or `org` for a partner) sees it, and staff with
    `referrals:read-all` see every referral, including one whose referral details have not arrived yet.
    """
    contact = await unit.referrals.contact(referral_id)
    if contact is None and not principal.may_read_organisation(None):
        return None
    if contact is not None and not principal.may_read_referrer(contact.ods_code, contact.partner_id):
        return None
    if contact is None and not await unit.referrals.has_outcomes(referral_id):
        return None  # nothing is known about it at all
    return await unit.deliveries.of_referral(referral_id)


def _bounded(error: str) -> str:
    """A provider's reply is its own text, of any length, often quoting the address or number it refused: kept
    within what notification.failed.v1 carries, and without the recipient's contact details."""
    return clip(without_contact_details(error), TEXT_LIMIT) or ""


def _failed_event(
    delivery: NewDelivery | ClaimedDelivery | AwaitedReceipt,
    error: str,
    *,
    attempts: int = 0,
    at: datetime | None = None,
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
        channel=event_channel(delivery.channel),
        failed_at=at or datetime.now(UTC),
        attempts=attempts,
        last_error=_bounded(error),
    )
    return _event(failed, referral_id, delivery.correlation_id, cause)


async def acknowledge_urgent(unit: NotificationsWork, outcome_event_id: str, by: str) -> Acknowledged | None:
    """Staff have the urgent message in hand: it stops escalating, and the dashboard hears it is settled."""
    done = await unit.deliveries.acknowledge_urgent(outcome_event_id, by)
    if done is not None and done.settled_now:
        settled = UrgentSettled(
            referral_id=done.referral_id, outcome_event_id=outcome_event_id, settled_at=done.at, how="acknowledged"
        )
        unit.publish(new_event(settled, subject=done.referral_id, correlation_id=done.referral_id))
    return done


async def _confirm_urgent(
    unit: NotificationsWork, referral_id: str, outcome_event_id: str, correlation_id: str
) -> None:
    if await unit.deliveries.confirm_urgent(outcome_event_id):
        settled = UrgentSettled(
            referral_id=referral_id, outcome_event_id=outcome_event_id, settled_at=datetime.now(UTC), how="confirmed"
        )
        unit.publish(
            new_event(settled, subject=referral_id, correlation_id=correlation_id, causation_id=outcome_event_id)
        )


def _unconfirmed(alert: UrgentAlert, correlation_id: str) -> EventEnvelope:
    payload = UrgentUnconfirmed(
        referral_id=alert.referral_id,
        outcome_event_id=alert.outcome_event_id,
        raised_at=alert.raised_at,
        escalations=alert.escalations,
        last_escalation=clip(alert.last_escalation, TEXT_LIMIT),
        at=datetime.now(UTC),
    )
    return new_event(
        payload, subject=alert.referral_id, correlation_id=correlation_id, causation_id=alert.outcome_event_id
    )


def event_channel(channel: str) -> NotificationChannel:
    """The channel as notification events name it: a BaRS response is a FHIR message back to the referrer's system."""
    return "fhir-callback" if channel == BARS else "sms" if channel == "sms" else "email"


def _event(
    payload: NotificationSent | NotificationFailed, referral_id: str, correlation_id: str, causation_id: str
) -> EventEnvelope:
    return new_event(payload, subject=referral_id, correlation_id=correlation_id, causation_id=causation_id)
