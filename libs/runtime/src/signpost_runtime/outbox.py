"""Transactional outbox: integration events are stored with the state change that caused them.

`add_event` runs inside the caller's transaction. A trigger on the table (runtime migration 0002)
issues NOTIFY on the relay's channel; it is delivered only if that transaction commits, which wakes
the relay at once instead of waiting for its next poll.
"""

from __future__ import annotations

import json

import asyncpg

from signpost_contracts import EVENT_TYPES, EventEnvelope, topic

NOTIFY_CHANNEL = "signpost_outbox"  # also named in migrations/0002_outbox_notify_trigger.sql


class Outbox:
    def __init__(self, namespace: str) -> None:
        self.namespace = namespace

    def topic_for(self, event: EventEnvelope) -> str:
        try:
            stream = EVENT_TYPES[event.type].stream
        except KeyError:
            raise ValueError(f"unknown event type {event.type!r}: register it in signpost_contracts") from None
        return topic(stream, self.namespace)

    async def add_event(self, conn: asyncpg.Connection, event: EventEnvelope) -> None:
        if not conn.is_in_transaction():
            raise RuntimeError("outbox rows must be written inside the transaction that changes state")
        await conn.execute(
            "INSERT INTO outbox (event_id, event_type, topic, message_key, headers, payload)"
            " VALUES ($1, $2, $3, $4, $5::jsonb, $6)",
            event.id,
            event.type,
            self.topic_for(event),
            event.subject,
            json.dumps(event.headers()),
            event.value(),
        )

    async def add_events(self, conn: asyncpg.Connection, events: list[EventEnvelope]) -> None:
        for event in events:
            await self.add_event(conn, event)


async def unsent_count(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL"))
