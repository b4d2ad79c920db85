"""Forgetting the copies of a referral's events a service keeps after publishing them.

A sent outbox row is kept a day for inspection (housekeeping.py) and holds the event whole; once a
referral is erased those copies must go too, or the erasure would leave what it erased in the outbox.
Unsent rows stay: they have not reached their consumers yet, and counts depend on them arriving.
"""

from __future__ import annotations

import asyncpg


async def forget_sent_events(connection: asyncpg.Connection, message_key: str) -> int:
    """Delete the sent outbox rows keyed by `message_key` (a referral id), on the caller's transaction."""
    result = await connection.execute("DELETE FROM outbox WHERE message_key = $1 AND sent_at IS NOT NULL", message_key)
    return int(result.split()[-1])
