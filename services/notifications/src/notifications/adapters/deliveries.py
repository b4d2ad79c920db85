"""Deliveries in PostgreSQL: created, claimed, their results recorded, re-driven, listed.

Claims use `FOR UPDATE SKIP LOCKED` and a lease, like the outbox relay: several replicas can dispatch
at once without sending the same email together, and a delivery claimed by a process that died is
claimed again once its lease runs out. Every claim increments `claims`; a result is recorded only
while the lease is still held by that claim (`lease_owner` and `claims` unchanged: fencing), so a
dispatcher whose lease was taken over can tell, instead of overwriting what the other one does.
Every method runs on the unit of work's connection, inside its transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any

import asyncpg

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
)
from notifications.domain.messages import Receipt
from notifications.domain.outcomes import Outcome
from signpost_contracts.registry import REFERRAL_WITHDRAWN

DELIVERIES_CHANNEL = "signpost_deliveries"  # NOTIFY channel that wakes the dispatcher

_CLAIM = """
UPDATE deliveries
SET lease_until = now() + make_interval(secs => $2), lease_owner = $3, claims = claims + 1,
    unrecorded_claims = unrecorded_claims + 1, updated_at = now()
WHERE notification_id IN (
    SELECT notification_id FROM deliveries
    WHERE status = 'pending' AND next_attempt_at <= now() AND (lease_until IS NULL OR lease_until < now())
      AND channel = ANY($4::text[])
    ORDER BY urgent DESC, next_attempt_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED
)
RETURNING notification_id, idempotency_key, referral_id, outcome_event_id, about_event_type, channel,
          recipient, subject, body, correlation_id, attempts, unrecorded_claims, lease_owner, claims,
          template, audience, route_rank
"""
# Only the holder of this very claim may record its result.
_FENCE = "WHERE notification_id = $1 AND status = 'pending' AND lease_owner = $2 AND claims = $3"
_FINISHED = "RETURNING attempts, now() AS at"
# What GET /deliveries shows of a delivery (never its body: that is the message itself).
_VIEW = (
    "SELECT notification_id, idempotency_key, about_event_type, outcome, channel, audience, recipient, subject,"
    " status, attempts, last_error, created_at, updated_at, next_attempt_at, sent_at, failed_at, redriven_at,"
    " suppressed_at, suppressed_because, provider_reference, receipt, receipt_detail, confirmed_at"
)
_ALERT = "SELECT outcome_event_id, referral_id, raised_at, escalate_at, escalations, last_escalation FROM urgent_alerts"
# A referral is withdrawn once notifications holds its referral.withdrawn.v1 outcome (in any order).
_WITHDRAWN = (
    "EXISTS (SELECT 1 FROM outcomes o WHERE o.referral_id = d.referral_id"
    f" AND o.event_type = '{REFERRAL_WITHDRAWN.name}')"
)
_CANDIDATE = (
    "SELECT notification_id, referral_id, status, recipient, last_error, channel,"
    f" (d.outcome <> 'withdrawn' AND {_WITHDRAWN}) AS referral_withdrawn FROM deliveries d"
)
# Pending and not in the middle of a send (a live lease): an SMTP exchange under way cannot be recalled.
_SUPPRESS = f"""
UPDATE deliveries d
SET status = 'suppressed', suppressed_because = $2, suppressed_at = now(), lease_until = NULL, updated_at = now()
WHERE d.status = 'pending' AND d.outcome <> 'withdrawn' AND (d.lease_until IS NULL OR d.lease_until < now())
  AND ($1::text IS NULL OR d.referral_id = $1) AND {_WITHDRAWN}
"""


class DeliveryRepository:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def add(self, delivery: NewDelivery) -> bool:
        """Store the delivery; False when one with this idempotency key already exists."""
        status = delivery.status
        inserted = await self.connection.fetchval(
            "INSERT INTO deliveries (notification_id, idempotency_key, referral_id, outcome_event_id,"
            " about_event_type, outcome, channel, recipient, subject, body, status, last_error, correlation_id,"
            " failed_at, urgent, suppressed_because, suppressed_at, template, audience, route_rank)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, CASE WHEN $11 = 'failed' THEN now() END,"
            " $14, $15, CASE WHEN $11 = 'suppressed' THEN now() END, $16, $17, $18)"
            " ON CONFLICT (idempotency_key) DO NOTHING RETURNING true",
            delivery.notification_id,
            delivery.idempotency_key,
            delivery.outcome.referral_id,
            delivery.outcome.event_id,
            delivery.outcome.event_type,
            delivery.outcome.kind,
            delivery.channel,
            delivery.recipient,
            delivery.subject,
            delivery.body,
            status,
            delivery.failed_because if status == "failed" else None,
            delivery.correlation_id,
            delivery.outcome.urgent,
            delivery.suppressed_because,
            delivery.template,
            delivery.audience,
            delivery.route_rank,
        )
        if inserted and status == "pending":
            await self._wake_dispatchers()
        return bool(inserted)

    async def confirms_withdrawal(self, referral_id: str) -> bool:
        """Whether a delivery confirming the referral's withdrawal exists (sent, waiting or failed)."""
        return bool(
            await self.connection.fetchval(
                "SELECT EXISTS (SELECT 1 FROM deliveries WHERE referral_id = $1 AND outcome = 'withdrawn'"
                " AND status <> 'suppressed')",
                referral_id,
            )
        )

    async def suppress_after_withdrawal(self, referral_id: str | None, reason: str) -> int:
        """Suppress the waiting deliveries of withdrawn referrals (this one, or every one when None)."""
        result = await self.connection.execute(_SUPPRESS, referral_id, reason)
        return int(result.split()[-1])

    async def claim_due(
        self, limit: int, lease_seconds: float, owner: str, channels: list[str]
    ) -> list[ClaimedDelivery]:
        """Lease up to `limit` due deliveries on `channels` (those whose provider is not being left alone)."""
        rows = await self.connection.fetch(_CLAIM, limit, lease_seconds, owner, channels)
        return [_claimed(row) for row in rows]

    async def extend_lease(self, delivery: ClaimedDelivery, lease_seconds: float) -> bool:
        """Keep holding the lease; False when this claim no longer holds it (another dispatcher took over)."""
        held = await self.connection.fetchval(
            f"UPDATE deliveries SET lease_until = now() + make_interval(secs => $4) {_FENCE} RETURNING true",
            *_fenced(delivery),
            lease_seconds,
        )
        return bool(held)

    async def mark_sent(
        self, delivery: ClaimedDelivery, *, provider_reference: str | None, confirmed: bool, awaits_receipt: bool
    ) -> Finished | None:
        """None if this claim no longer holds the lease (see `holder_of` for what happened instead)."""
        row = await self.connection.fetchrow(
            # last_error is kept: it explains why a sent delivery took more than one attempt.
            "UPDATE deliveries SET status = 'sent', attempts = attempts + 1, sent_at = now(), updated_at = now(),"
            " lease_until = NULL, unrecorded_claims = 0, provider_reference = $4,"
            " confirmed_at = CASE WHEN $5 THEN now() END, receipt = CASE WHEN $6 THEN 'pending' END"
            f" {_FENCE} {_FINISHED}",
            *_fenced(delivery),
            provider_reference,
            confirmed,
            awaits_receipt,
        )
        return Finished(row["attempts"], row["at"]) if row else None

    async def receipts_due(self, limit: int, every_seconds: float) -> list[AwaitedReceipt]:
        """Deliveries whose receipt is awaited and not asked for in the last `every_seconds`, marked as asked now."""
        rows = await self.connection.fetch(
            "UPDATE deliveries SET receipt_checked_at = now() WHERE notification_id IN ("
            " SELECT notification_id FROM deliveries WHERE receipt = 'pending'"
            "  AND (receipt_checked_at IS NULL OR receipt_checked_at < now() - make_interval(secs => $2))"
            "  ORDER BY receipt_checked_at NULLS FIRST LIMIT $1 FOR UPDATE SKIP LOCKED)"
            " RETURNING notification_id, referral_id, outcome_event_id, about_event_type, channel, audience,"
            " route_rank, correlation_id, provider_reference, sent_at",
            limit,
            every_seconds,
        )
        return [AwaitedReceipt(**dict(row)) for row in rows]

    async def mark_delivered(self, notification_id: uuid.UUID, receipt: Receipt) -> bool:
        done = await self.connection.fetchval(
            "UPDATE deliveries SET receipt = 'delivered', receipt_detail = $2, confirmed_at = coalesce($3, now()),"
            " updated_at = now() WHERE notification_id = $1 AND receipt = 'pending' RETURNING true",
            notification_id,
            receipt.detail,
            receipt.at,
        )
        return bool(done)

    async def mark_undelivered(self, notification_id: uuid.UUID, receipt: Receipt, error: str) -> Finished | None:
        """The provider took it but could not deliver it: failed (re-drivable), with the receipt kept."""
        row = await self.connection.fetchrow(
            "UPDATE deliveries SET status = 'failed', receipt = $2, receipt_detail = $3, last_error = $4,"
            " failed_at = now(), updated_at = now()"
            f" WHERE notification_id = $1 AND receipt = 'pending' {_FINISHED}",
            notification_id,
            receipt.status,
            receipt.detail,
            error,
        )
        return Finished(row["attempts"], row["at"]) if row else None

    async def stop_awaiting_receipt(self, older_than_seconds: float) -> int:
        """A receipt never came (providers keep them for days, not for ever): stop asking, say so."""
        result = await self.connection.execute(
            "UPDATE deliveries SET receipt = NULL, receipt_detail = 'no receipt came', updated_at = now()"
            " WHERE receipt = 'pending' AND sent_at < now() - make_interval(secs => $1)",
            older_than_seconds,
        )
        return int(result.split()[-1])

    async def counts(self) -> dict[tuple[str, str], int]:
        """Deliveries per (channel, state); state is the status, with confirmed sends counted as 'delivered'."""
        rows = await self.connection.fetch(
            "SELECT channel, CASE WHEN status = 'sent' AND confirmed_at IS NOT NULL THEN 'delivered' ELSE status END"
            " AS state, count(*) AS n FROM deliveries GROUP BY 1, 2"
        )
        return {(row["channel"], row["state"]): row["n"] for row in rows}

    async def keys_of_outcome(self, outcome_event_id: str) -> set[str]:
        rows = await self.connection.fetch(
            "SELECT idempotency_key FROM deliveries WHERE outcome_event_id = $1", outcome_event_id
        )
        return {row["idempotency_key"] for row in rows}

    async def raise_urgent(self, outcome: Outcome, confirm_within_seconds: float) -> UrgentAlert | None:
        """The alert opened now; None when it was open already."""
        row = await self.connection.fetchrow(
            "INSERT INTO urgent_alerts (outcome_event_id, referral_id, escalate_at)"
            " VALUES ($1, $2, now() + make_interval(secs => $3)) ON CONFLICT (outcome_event_id) DO NOTHING"
            " RETURNING outcome_event_id, referral_id, raised_at, escalate_at, escalations, last_escalation",
            outcome.event_id,
            outcome.referral_id,
            confirm_within_seconds,
        )
        return UrgentAlert(**dict(row)) if row else None

    async def confirm_urgent(self, outcome_event_id: str) -> bool:
        """True when this confirmation settles an alert that was still open (not confirmed nor acknowledged)."""
        settled = await self.connection.fetchval(
            "UPDATE urgent_alerts SET confirmed_at = now() WHERE outcome_event_id = $1 AND confirmed_at IS NULL"
            " RETURNING acknowledged_at IS NULL",
            outcome_event_id,
        )
        return bool(settled)

    async def urgent_due(self, limit: int) -> list[UrgentAlert]:
        """Open alerts past their time, locked for this transaction (one replica escalates each)."""
        rows = await self.connection.fetch(
            f"{_ALERT} WHERE confirmed_at IS NULL AND acknowledged_at IS NULL AND escalate_at <= now()"
            " ORDER BY escalate_at LIMIT $1 FOR UPDATE SKIP LOCKED",
            limit,
        )
        return [UrgentAlert(**dict(row)) for row in rows]

    async def escalated(self, outcome_event_id: str, what: str, next_in_seconds: float) -> None:
        await self.connection.execute(
            "UPDATE urgent_alerts SET escalations = escalations + 1, last_escalation = $2,"
            " escalate_at = now() + make_interval(secs => $3) WHERE outcome_event_id = $1",
            outcome_event_id,
            what,
            next_in_seconds,
        )

    async def open_urgent(self) -> list[UrgentAlert]:
        rows = await self.connection.fetch(
            f"{_ALERT} WHERE confirmed_at IS NULL AND acknowledged_at IS NULL ORDER BY raised_at"
        )
        return [UrgentAlert(**dict(row)) for row in rows]

    async def acknowledge_urgent(self, outcome_event_id: str, by: str) -> Acknowledged | None:
        """Someone has it: it stops escalating. The first acknowledgement stands; None when there is no such alert."""
        before = await self.connection.fetchrow(
            "SELECT referral_id, acknowledged_at IS NULL AND confirmed_at IS NULL AS open FROM urgent_alerts"
            " WHERE outcome_event_id = $1 FOR UPDATE",
            outcome_event_id,
        )
        if before is None:
            return None
        row = await self.connection.fetchrow(
            "UPDATE urgent_alerts SET acknowledged_at = coalesce(acknowledged_at, now()),"
            " acknowledged_by = coalesce(acknowledged_by, $2) WHERE outcome_event_id = $1"
            " RETURNING acknowledged_at, acknowledged_by",
            outcome_event_id,
            by,
        )
        return Acknowledged(before["referral_id"], row["acknowledged_at"], row["acknowledged_by"], before["open"])

    async def mark_failed(self, delivery: ClaimedDelivery, error: str, *, attempted: bool) -> Finished | None:
        row = await self.connection.fetchrow(
            "UPDATE deliveries SET status = 'failed', attempts = attempts + $5, failed_at = now(), updated_at = now(),"
            f" lease_until = NULL, unrecorded_claims = 0, last_error = $4 {_FENCE} {_FINISHED}",
            *_fenced(delivery),
            error,
            int(attempted),
        )
        return Finished(row["attempts"], row["at"]) if row else None

    async def schedule_retry(self, delivery: ClaimedDelivery, delay_seconds: float, error: str) -> bool:
        done = await self.connection.fetchval(
            "UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => $4),"
            f" lease_until = NULL, unrecorded_claims = 0, last_error = $5, updated_at = now() {_FENCE}"
            " RETURNING true",
            *_fenced(delivery),
            delay_seconds,
            error,
        )
        return bool(done)

    async def wait_for_provider(self, delivery: ClaimedDelivery, error: str) -> bool:
        """Put the delivery back in line, in its place, without counting an attempt (the provider is down)."""
        done = await self.connection.fetchval(
            "UPDATE deliveries SET lease_until = NULL, unrecorded_claims = 0, last_error = $4, updated_at = now()"
            f" {_FENCE} RETURNING true",
            *_fenced(delivery),
            error,
        )
        return bool(done)

    async def holder_of(self, notification_id: uuid.UUID) -> tuple[DeliveryStatus, Claim | None] | None:
        """The delivery's status and the claim that last held it; None if there is no such delivery."""
        row = await self.connection.fetchrow(
            "SELECT status, lease_owner, claims FROM deliveries WHERE notification_id = $1", notification_id
        )
        if row is None:
            return None
        return row["status"], Claim(row["lease_owner"], row["claims"]) if row["lease_owner"] else None

    async def release_leases_of(self, owner: str, keep: Collection[uuid.UUID]) -> None:
        """Free the pending deliveries `owner` still leases, but those in `keep`; their claims did no work."""
        await self.connection.execute(
            "UPDATE deliveries SET lease_until = NULL, unrecorded_claims = greatest(unrecorded_claims - 1, 0)"
            " WHERE lease_owner = $1 AND status = 'pending' AND lease_until IS NOT NULL"
            " AND NOT (notification_id = ANY($2::uuid[]))",
            owner,
            list(keep),
        )

    async def seconds_until_next_due(self) -> float | None:
        """How long until the earliest pending delivery falls due (0 if one is due now); None if none waits."""
        value = await self.connection.fetchval(
            "SELECT greatest(extract(epoch FROM min(greatest(next_attempt_at, coalesce(lease_until, next_attempt_at)))"
            " - now()), 0) FROM deliveries WHERE status = 'pending'"
        )
        return None if value is None else float(value)

    async def redrive_candidates(self, selection: RedriveSelection) -> list[RedriveCandidate]:
        if selection.notification_ids:
            rows = await self.connection.fetch(
                f"{_CANDIDATE} WHERE d.notification_id = ANY($1::uuid[]) ORDER BY d.created_at",
                list(selection.notification_ids),
            )
        elif selection.referral_id is not None:
            rows = await self.connection.fetch(
                f"{_CANDIDATE} WHERE d.referral_id = $1 AND d.status = 'failed' ORDER BY d.created_at",
                selection.referral_id,
            )
        elif selection.all_failed:
            rows = await self.connection.fetch(
                f"{_CANDIDATE} WHERE d.status = 'failed' AND ($1::timestamptz IS NULL OR d.failed_at >= $1)"
                " ORDER BY d.failed_at",
                selection.failed_since,
            )
        else:
            raise ValueError("a redrive selection names notification ids, a referral id, or all failed deliveries")
        return [RedriveCandidate(**dict(row)) for row in rows]

    async def redrive(self, notification_ids: list[uuid.UUID]) -> list[uuid.UUID]:
        """Put failed deliveries back in line with their attempts reset; returns those put back."""
        rows = await self.connection.fetch(
            "UPDATE deliveries SET status = 'pending', attempts = 0, unrecorded_claims = 0, failed_at = NULL,"
            " next_attempt_at = now(), lease_until = NULL, lease_owner = NULL, redriven_at = now(), updated_at = now()"
            " WHERE notification_id = ANY($1::uuid[]) AND status = 'failed' RETURNING notification_id",
            notification_ids,
        )
        if rows:
            await self._wake_dispatchers()
        return [row["notification_id"] for row in rows]

    async def of_referral(self, referral_id: str) -> list[dict[str, Any]]:
        rows = await self.connection.fetch(
            f"{_VIEW} FROM deliveries WHERE referral_id = $1 ORDER BY created_at, notification_id", referral_id
        )
        return [dict(row) for row in rows]

    async def failed(self, limit: int) -> list[dict[str, Any]]:
        rows = await self.connection.fetch(
            f"{_VIEW} FROM deliveries WHERE status = 'failed' ORDER BY failed_at DESC LIMIT $1", limit
        )
        return [{key: value for key, value in row.items() if key != "next_attempt_at"} for row in rows]

    async def _wake_dispatchers(self) -> None:
        await self.connection.execute(f"NOTIFY {DELIVERIES_CHANNEL}")  # delivered on commit only


def _fenced(delivery: ClaimedDelivery) -> tuple[uuid.UUID, str, int]:
    return delivery.notification_id, delivery.claim.owner, delivery.claim.number


def _claimed(row: asyncpg.Record) -> ClaimedDelivery:
    fields = dict(row)
    claim = Claim(owner=fields.pop("lease_owner"), number=fields.pop("claims"))
    return ClaimedDelivery(**fields, claim=claim)
