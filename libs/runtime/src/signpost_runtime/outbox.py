"""Transactional outbox: integration events are stored with the state change that caused them.

`add_event` runs inside the caller's transaction. A trigger on the table (runtime migration 0002)
issues NOTIFY on the relay's channel; it is delivered only if that transaction commits, which wakes
the relay at once instead of waiting for its next poll.

A row the broker can never take is parked (migration 0004): kept with its error and skipped by the
relay. `signpost-outbox list` shows parked rows and `signpost-outbox retry` puts them back in line,
for instance once the producer's or broker's size limit has been raised.
"""

from __future__ import annotations

import json
from typing import Any, TypeAlias

import asyncpg

from signpost_contracts import EVENT_TYPES, EventEnvelope, EventType, topic
from signpost_runtime.publishing import OutgoingRecord

NOTIFY_CHANNEL = "signpost_outbox"  # also named in migrations/0002_outbox_notify_trigger.sql
Executor: TypeAlias = asyncpg.Pool | asyncpg.Connection


class Outbox:
    def __init__(self, namespace: str) -> None:
        self.namespace = namespace

    def topic_for(self, event: EventEnvelope) -> str:
        return topic(_event_type(event).stream, self.namespace)

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
            # A tombstone's payload is NULL (migration 0005), which the relay publishes as a null value.
            None if _event_type(event).tombstone else event.value(),
        )

    async def add_events(self, conn: asyncpg.Connection, events: list[EventEnvelope]) -> None:
        for event in events:
            await self.add_event(conn, event)


def _event_type(event: EventEnvelope) -> EventType:
    try:
        return EVENT_TYPES[event.type]
    except KeyError:
        raise ValueError(f"unknown event type {event.type!r}: register it in signpost_contracts") from None


async def unsent_count(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL AND parked_at IS NULL"))


async def parked_count(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM outbox WHERE parked_at IS NOT NULL AND sent_at IS NULL"))


async def park(pool: asyncpg.Pool, reasons: dict[int, str]) -> None:
    """Set rows aside with the reason the broker will not take them."""
    await pool.execute(
        "UPDATE outbox SET parked_at = now(), lease_until = NULL, last_error = r.reason"
        " FROM unnest($1::bigint[], $2::text[]) AS r(id, reason) WHERE outbox.id = r.id",
        list(reasons),
        list(reasons.values()),
    )


async def park_record(pool: asyncpg.Pool, record: OutgoingRecord, *, record_id: str, reason: str) -> None:
    """Keep a record that could not be published at all (a dead-letter copy too large for its topic)
    as a parked row, so it is listed and can be retried like any other; `record_id` names it uniquely."""
    await pool.execute(
        "INSERT INTO outbox (event_id, event_type, topic, message_key, headers, payload, parked_at, last_error)"
        " VALUES ($1, $2, $3, $4, $5::jsonb, $6, now(), $7) ON CONFLICT (event_id) DO NOTHING",
        record_id,
        record.headers.get("ce_type", "unknown"),
        record.topic,
        (record.key or b"").decode(errors="replace"),
        json.dumps(record.headers),
        record.value,
        reason,
    )


async def parked_rows(pool: Executor) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT event_id, event_type, topic, message_key, octet_length(payload) AS payload_bytes,"
        " publish_attempts, parked_at, last_error FROM outbox"
        " WHERE parked_at IS NOT NULL AND sent_at IS NULL ORDER BY id"
    )
    return [dict(row) for row in rows]


async def unpark(pool: Executor, event_ids: list[str] | None) -> int:
    """Put parked rows (those named, or all when None) back for the relay; returns how many."""
    status = await pool.execute(
        "UPDATE outbox SET parked_at = NULL, lease_until = NULL"
        " WHERE parked_at IS NOT NULL AND sent_at IS NULL AND ($1::text[] IS NULL OR event_id = ANY($1))",
        event_ids,
    )
    return int(status.split()[-1])
