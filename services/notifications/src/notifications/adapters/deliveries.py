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
    Claim,
    ClaimedDelivery,
    DeliveryStatus,
    Finished,
    NewDelivery,
    RedriveCandidate,
    RedriveSelection,
)
from signpost_contracts.registry import REFERRAL_WITHDRAWN

DELIVERIES_CHANNEL = "signpost_deliveries"  # NOTIFY channel that wakes the dispatcher

_CLAIM = """
UPDATE deliveries
SET lease_until = now() + make_interval(secs => $2), lease_owner = $3, claims = claims + 1,
    unrecorded_claims = unrecorded_claims + 1, updated_at = now()
WHERE notification_id IN (
    SELECT notification_id FROM deliveries
    WHERE status = 'pending' AND next_attempt_at <= now() AND (lease_until IS NULL OR lease_until < now())
    ORDER BY urgent DESC, next_attempt_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED
)
RETURNING notification_id, idempotency_key, referral_id, outcome_event_id, about_event_type, channel,
          recipient, subject, body, correlation_id, attempts, unrecorded_claims, lease_owner, claims
"""
# Only the holder of this very claim may record its result.
_FENCE = "WHERE notification_id = $1 AND status = 'pending' AND lease_owner = $2 AND claims = $3"
_FINISHED = "RETURNING attempts, now() AS at"
# A referral is withdrawn once notifications holds its referral.withdrawn.v1 outcome (in any order).
_WITHDRAWN = (
    "EXISTS (SELECT 1 FROM outcomes o WHERE o.referral_id = d.referral_id"
    f" AND o.event_type = '{REFERRAL_WITHDRAWN.name}')"
)
_CANDIDATE = (
    "SELECT notification_id, referral_id, status, recipient, last_error,"
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
            " failed_at, urgent, suppressed_because, suppressed_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, CASE WHEN $11 = 'failed' THEN now() END,"
            " $14, $15, CASE WHEN $11 = 'suppressed' THEN now() END)"
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

    async def claim_due(self, limit: int, lease_seconds: float, owner: str) -> list[ClaimedDelivery]:
        rows = await self.connection.fetch(_CLAIM, limit, lease_seconds, owner)
        return [_claimed(row) for row in rows]

    async def extend_lease(self, delivery: ClaimedDelivery, lease_seconds: float) -> bool:
        """Keep holding the lease; False when this claim no longer holds it (another dispatcher took over)."""
        held = await self.connection.fetchval(
            f"UPDATE deliveries SET lease_until = now() + make_interval(secs => $4) {_FENCE} RETURNING true",
            *_fenced(delivery),
            lease_seconds,
        )
        return bool(held)

    async def mark_sent(self, delivery: ClaimedDelivery) -> Finished | None:
        """None if this claim no longer holds the lease (see `status_of` for what happened instead)."""
        row = await self.connection.fetchrow(
            # last_error is kept: it explains why a sent delivery took more than one attempt.
            "UPDATE deliveries SET status = 'sent', attempts = attempts + 1, sent_at = now(), updated_at = now(),"
            f" lease_until = NULL, unrecorded_claims = 0 {_FENCE} {_FINISHED}",
            *_fenced(delivery),
        )
        return Finished(row["attempts"], row["at"]) if row else None

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
            "SELECT notification_id, idempotency_key, about_event_type, outcome, channel, recipient, subject, status,"
            " attempts, last_error, created_at, updated_at, next_attempt_at, sent_at, failed_at, redriven_at,"
            " suppressed_at, suppressed_because"
            " FROM deliveries WHERE referral_id = $1 ORDER BY created_at, notification_id",
            referral_id,
        )
        return [dict(row) for row in rows]

    async def _wake_dispatchers(self) -> None:
        await self.connection.execute(f"NOTIFY {DELIVERIES_CHANNEL}")  # delivered on commit only


def _fenced(delivery: ClaimedDelivery) -> tuple[uuid.UUID, str, int]:
    return delivery.notification_id, delivery.claim.owner, delivery.claim.number


def _claimed(row: asyncpg.Record) -> ClaimedDelivery:
    fields = dict(row)
    claim = Claim(owner=fields.pop("lease_owner"), number=fields.pop("claims"))
    return ClaimedDelivery(**fields, claim=claim)
