"""What notifications remembers between events: referrer contacts, outcomes, new deliveries.

Every function runs on the caller's connection, inside the transaction of the event being handled.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import asyncpg

from notifications.domain.outcomes import Outcome, ReferrerContact

DELIVERIES_CHANNEL = "signpost_deliveries"  # NOTIFY channel that wakes the dispatcher
# First key of the two-key advisory lock: keeps these locks apart from any other advisory lock.
_REFERRAL_LOCK_CLASS = 8083


@dataclass(frozen=True)
class NewDelivery:
    notification_id: uuid.UUID
    idempotency_key: str
    outcome: Outcome
    channel: str
    recipient: str | None
    subject: str
    body: str
    correlation_id: str
    failed_because: str | None = None  # set when the delivery can never be attempted


async def lock_referral(conn: asyncpg.Connection, referral_id: str) -> None:
    """Serialise the events of one referral across consumers until this transaction ends.

    The contact and the outcome arrive on different topics, possibly at two replicas at once; without
    this, each transaction could miss the other's uncommitted row and no delivery would be created.
    """
    await conn.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", _REFERRAL_LOCK_CLASS, referral_id)


async def save_contact(conn: asyncpg.Connection, contact: ReferrerContact, event_id: str) -> None:
    await conn.execute(
        "INSERT INTO referrer_contacts"
        " (referral_id, email, organisation_name, ods_code, referrer_reference, received_event_id)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (referral_id) DO NOTHING",
        contact.referral_id,
        contact.email,
        contact.organisation_name,
        contact.ods_code,
        contact.reference,
        event_id,
    )


async def load_contact(conn: asyncpg.Connection | asyncpg.Pool, referral_id: str) -> ReferrerContact | None:
    row = await conn.fetchrow(
        "SELECT referral_id, email, organisation_name, ods_code, referrer_reference"
        " FROM referrer_contacts WHERE referral_id = $1",
        referral_id,
    )
    if row is None:
        return None
    return ReferrerContact(
        referral_id=row["referral_id"],
        email=row["email"],
        organisation_name=row["organisation_name"],
        ods_code=row["ods_code"],
        reference=row["referrer_reference"],
    )


async def save_outcome(conn: asyncpg.Connection, outcome: Outcome, correlation_id: str) -> None:
    await conn.execute(
        "INSERT INTO outcomes (event_id, referral_id, event_type, details, correlation_id)"
        " VALUES ($1, $2, $3, $4::jsonb, $5) ON CONFLICT (event_id) DO NOTHING",
        outcome.event_id,
        outcome.referral_id,
        outcome.event_type,
        outcome.model_dump_json(),
        correlation_id,
    )


async def outcomes_awaiting_delivery(
    conn: asyncpg.Connection, referral_id: str, channel: str
) -> list[tuple[Outcome, str]]:
    rows = await conn.fetch(
        "SELECT o.details, o.correlation_id FROM outcomes o"
        " WHERE o.referral_id = $1 AND NOT EXISTS"
        "  (SELECT 1 FROM deliveries d WHERE d.outcome_event_id = o.event_id AND d.channel = $2)"
        " ORDER BY o.recorded_at",
        referral_id,
        channel,
    )
    return [(Outcome.model_validate_json(row["details"]), row["correlation_id"]) for row in rows]


async def insert_delivery(conn: asyncpg.Connection, delivery: NewDelivery) -> bool:
    """Store the delivery; False when one with this idempotency key already exists."""
    failed = delivery.failed_because is not None
    inserted = await conn.fetchval(
        "INSERT INTO deliveries (notification_id, idempotency_key, referral_id, outcome_event_id,"
        " about_event_type, outcome, channel, recipient, subject, body, status, last_error, correlation_id,"
        " failed_at, urgent)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, CASE WHEN $14 THEN now() END, $15)"
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
        "failed" if failed else "pending",
        delivery.failed_because,
        delivery.correlation_id,
        failed,
        delivery.outcome.urgent,
    )
    if inserted and not failed:
        await conn.execute(f"NOTIFY {DELIVERIES_CHANNEL}")  # delivered on commit only
    return bool(inserted)
