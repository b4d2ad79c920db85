"""Inbox: remember which events a consumer has applied, in the same transaction as the effect."""

from __future__ import annotations

import asyncpg

from signpost_contracts import EventEnvelope


async def claim_event(conn: asyncpg.Connection, consumer: str, event: EventEnvelope) -> bool:
    """True the first time `consumer` sees this event id; False for a repeat delivery.

    Must run inside the transaction that applies the effect: if the effect rolls back, so does
    the claim, and the redelivered message is applied then.
    """
    inserted = await conn.fetchval(
        "INSERT INTO inbox (consumer, event_id, event_type) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING true",
        consumer,
        event.id,
        event.type,
    )
    return bool(inserted)
