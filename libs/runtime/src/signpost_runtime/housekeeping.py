"""Pruning the rows that exist only to make delivery safe, so they do not grow for ever.

Sent outbox rows are kept a day for inspection. Inbox rows are what make a repeated delivery a
no-op, so they must outlive every way an old event can come back: Kafka's retention of the
streams and the dead-letter replay window (`signpost-dlq replay` republishes to the original
topic). The default of 35 days exceeds the 30-day dead-letter retention in deploy/.
"""

from __future__ import annotations

import logging

import asyncpg

from signpost_runtime.periodic import PeriodicJob

log = logging.getLogger(__name__)


async def prune(pool: asyncpg.Pool, *, outbox_retention_hours: float, inbox_retention_days: float) -> tuple[int, int]:
    """Delete old sent outbox rows and old inbox rows; returns how many of each went."""
    outbox = await pool.execute(
        "DELETE FROM outbox WHERE sent_at < now() - $1 * interval '1 hour'", outbox_retention_hours
    )
    inbox = await pool.execute(
        "DELETE FROM inbox WHERE processed_at < now() - $1 * interval '1 day'", inbox_retention_days
    )
    return int(outbox.split()[-1]), int(inbox.split()[-1])


class Housekeeper(PeriodicJob):
    def __init__(
        self, pool: asyncpg.Pool, *, outbox_retention_hours: float, inbox_retention_days: float, every_seconds: float
    ) -> None:
        super().__init__("housekeeping", every_seconds, self._prune)
        self.pool = pool
        self.outbox_retention_hours = outbox_retention_hours
        self.inbox_retention_days = inbox_retention_days

    async def _prune(self) -> None:
        removed = await prune(
            self.pool,
            outbox_retention_hours=self.outbox_retention_hours,
            inbox_retention_days=self.inbox_retention_days,
        )
        if any(removed):
            log.info("pruned %d sent outbox row(s) and %d inbox row(s)", *removed)
