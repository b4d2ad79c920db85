"""The dispatcher's view of deliveries: claim what is due, record how each attempt went.

Claims use `FOR UPDATE SKIP LOCKED` and a lease, like the outbox relay: several replicas can
dispatch at once without sending the same email together, and a delivery claimed by a process
that died is claimed again once its lease runs out. The claim counts the attempt, so an attempt
cut short by a crash still counts towards the limit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from signpost_runtime.db import transaction

_CLAIM = """
UPDATE deliveries
SET lease_until = now() + make_interval(secs => $2), lease_owner = $3, attempts = attempts + 1, updated_at = now()
WHERE notification_id IN (
    SELECT notification_id FROM deliveries
    WHERE status = 'pending' AND next_attempt_at <= now() AND (lease_until IS NULL OR lease_until < now())
    ORDER BY urgent DESC, next_attempt_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED
)
RETURNING notification_id, idempotency_key, referral_id, outcome_event_id, about_event_type, channel,
          recipient, subject, body, attempts, correlation_id
"""

_FINISHED = "RETURNING notification_id, attempts, now() AS at"


@dataclass(frozen=True)
class ClaimedDelivery:
    notification_id: uuid.UUID
    idempotency_key: str
    referral_id: str
    outcome_event_id: str
    about_event_type: str
    channel: str
    recipient: str
    subject: str
    body: str
    attempts: int
    correlation_id: str


@dataclass(frozen=True)
class Finished:
    attempts: int
    at: datetime


async def claim_due(pool: asyncpg.Pool, batch_size: int, lease_seconds: float, owner: str) -> list[ClaimedDelivery]:
    async with transaction(pool) as conn:
        rows = await conn.fetch(_CLAIM, batch_size, lease_seconds, owner)
    return [ClaimedDelivery(**dict(row)) for row in rows]


async def mark_sent(conn: asyncpg.Connection, notification_id: uuid.UUID) -> Finished | None:
    """None if the delivery is no longer pending (another dispatcher finished it after a lease ran out)."""
    row = await conn.fetchrow(
        # last_error is kept: it explains why a sent delivery took more than one attempt.
        "UPDATE deliveries SET status = 'sent', sent_at = now(), updated_at = now(), lease_until = NULL"
        " WHERE notification_id = $1 AND status = 'pending' " + _FINISHED,
        notification_id,
    )
    return Finished(row["attempts"], row["at"]) if row else None


async def mark_failed(conn: asyncpg.Connection, notification_id: uuid.UUID, error: str) -> Finished | None:
    row = await conn.fetchrow(
        "UPDATE deliveries SET status = 'failed', failed_at = now(), updated_at = now(), lease_until = NULL,"
        " last_error = $2 WHERE notification_id = $1 AND status = 'pending' " + _FINISHED,
        notification_id,
        error,
    )
    return Finished(row["attempts"], row["at"]) if row else None


async def schedule_retry(pool: asyncpg.Pool, notification_id: uuid.UUID, delay_seconds: float, error: str) -> None:
    await pool.execute(
        "UPDATE deliveries SET next_attempt_at = now() + make_interval(secs => $2), lease_until = NULL,"
        " last_error = $3, updated_at = now() WHERE notification_id = $1 AND status = 'pending'",
        notification_id,
        delay_seconds,
        error,
    )


async def seconds_until_next_due(pool: asyncpg.Pool) -> float | None:
    """How long until the earliest pending delivery falls due (0 if one is due now); None if none waits."""
    value = await pool.fetchval(
        "SELECT greatest(extract(epoch FROM min(greatest(next_attempt_at, coalesce(lease_until, next_attempt_at)))"
        " - now()), 0) FROM deliveries WHERE status = 'pending'"
    )
    return None if value is None else float(value)


async def deliveries_of(pool: asyncpg.Pool, referral_id: str) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT notification_id, idempotency_key, about_event_type, outcome, channel, recipient, subject, status,"
        " attempts, last_error, created_at, updated_at, next_attempt_at, sent_at, failed_at"
        " FROM deliveries WHERE referral_id = $1 ORDER BY created_at, notification_id",
        referral_id,
    )
    return [dict(row) for row in rows]


async def release_leases_of(pool: asyncpg.Pool, owner: str) -> None:
    """Free every pending delivery `owner` still leases (called only when it has nothing in flight)."""
    await pool.execute("UPDATE deliveries SET lease_until = NULL WHERE lease_owner = $1 AND status = 'pending'", owner)
