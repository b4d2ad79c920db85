"""Inbox: remember which events a consumer has applied, in the same transaction as the effect."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import asyncpg

from signpost_contracts import EventEnvelope

InboxKey = Callable[[EventEnvelope], str]  # what names an event in the inbox


def signpost_event_key(event: EventEnvelope) -> str:
    """Signpost's own events: each producer gives every event a fresh UUID, so the id alone names it."""
    return event.id


def outside_event_key(event: EventEnvelope) -> str:
    """An event from outside Signpost: its id is unique only within its source (CloudEvents 1.0, `id`), so two
    producers' sequence numbers must not be taken for repeats of each other. Hashed, because both are chosen by
    the producer and may be of any length."""
    return "sha256:" + hashlib.sha256(f"{event.source}\n{event.id}".encode()).hexdigest()


async def claim_event(
    conn: asyncpg.Connection, consumer: str, event: EventEnvelope, key: InboxKey = signpost_event_key
) -> bool:
    """True the first time `consumer` sees this event; False for a repeat delivery.

    Must run inside the transaction that applies the effect: if the effect rolls back, so does
    the claim, and the redelivered message is applied then.
    """
    inserted = await conn.fetchval(
        "INSERT INTO inbox (consumer, event_id, event_type) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING true",
        consumer,
        key(event),
        event.type[:200],  # an outside producer's type may be of any length; it is kept only to read
    )
    return bool(inserted)
