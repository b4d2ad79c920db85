"""The outbox relay: claims unsent rows, publishes them, marks them sent.

Rows are claimed with `FOR UPDATE SKIP LOCKED` and a lease, so several replicas can relay at once
without publishing the same row together, and a row claimed by a relay that died is claimed again
once its lease runs out. Publishing happens before the row is marked sent: a crash between the two
publishes the row again, which consumers absorb through their inbox (at least once, effectively once).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Protocol

import asyncpg

from signpost_runtime import metrics
from signpost_runtime.db import transaction
from signpost_runtime.leased_worker import MAX_BACKOFF_SECONDS, LeasedWorker
from signpost_runtime.outbox import NOTIFY_CHANNEL, unsent_count
from signpost_runtime.publishing import OutgoingRecord
from signpost_runtime.resilience import record_through_outage

log = logging.getLogger(__name__)

_CLAIM = """
UPDATE outbox SET lease_until = now() + make_interval(secs => $2), lease_owner = $3,
    publish_attempts = publish_attempts + 1
WHERE id IN (
    SELECT id FROM outbox
    WHERE sent_at IS NULL AND (lease_until IS NULL OR lease_until < now())
    ORDER BY id
    LIMIT $1
    FOR UPDATE SKIP LOCKED
)
RETURNING id, topic, message_key, headers, payload, lease_until
"""
# A publish must finish well inside the lease, or another relay could claim the same rows meanwhile.
PUBLISH_DEADLINE_SHARE_OF_LEASE = 0.75


class RecordPublisher(Protocol):
    async def publish_all(self, records: list[OutgoingRecord]) -> None: ...


class OutboxRelay(LeasedWorker):
    name = "outbox-relay"

    def __init__(
        self,
        pool: asyncpg.Pool,
        publisher: RecordPublisher,
        *,
        database_url: str,
        batch_size: int = 200,
        lease_seconds: float = 60.0,
        poll_seconds: float = 1.0,
    ) -> None:
        super().__init__(
            pool,
            database_url=database_url,
            channel=NOTIFY_CHANNEL,
            batch_size=batch_size,
            lease_seconds=lease_seconds,
            poll_seconds=poll_seconds,
        )
        self.publisher = publisher
        self._cycles = 0

    async def relay_once(self) -> int:
        """Publish one claimed batch; returns how many rows were published."""
        async with transaction(self.pool) as conn:
            claimed = await conn.fetch(_CLAIM, self.batch_size, self.lease_seconds, self.owner)
        if not claimed:
            return 0
        # UPDATE ... RETURNING follows the scan order, not the subquery's ORDER BY: put the rows back
        # in insertion order so events about one referral reach their partition in the order they were written.
        rows = sorted(claimed, key=lambda row: row["id"])
        records = [
            OutgoingRecord(
                topic=row["topic"],
                key=row["message_key"].encode(),
                value=bytes(row["payload"]),
                headers=json.loads(row["headers"]),
            )
            for row in rows
        ]
        ids, lease = [row["id"] for row in rows], rows[0]["lease_until"]
        try:
            async with asyncio.timeout(self.lease_seconds * PUBLISH_DEADLINE_SHARE_OF_LEASE):
                await self.publisher.publish_all(records)
        except Exception as exc:
            # Release the lease so the batch is retried promptly, but only while it is still ours:
            # once it has run out, another relay may hold these rows.
            await self.pool.execute(
                "UPDATE outbox SET lease_until = NULL, last_error = $3 WHERE id = ANY($1) AND lease_until = $2",
                ids,
                lease,
                repr(exc),
            )
            raise
        await record_through_outage(
            lambda: self.pool.execute("UPDATE outbox SET sent_at = now(), lease_until = NULL WHERE id = ANY($1)", ids),
            what=f"{len(ids)} published outbox row(s)",
            give_up_after=self.lease_seconds,
        )
        metrics.OUTBOX_PUBLISHED.inc(len(ids))
        return len(ids)

    async def flush(self, timeout: float) -> None:
        """Publish everything unsent (used at shutdown), giving up after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if await self.relay_once() == 0:
                    return
            except Exception:
                log.exception("outbox flush failed; unsent rows stay for the next start")
                return

    async def stop(self, flush_timeout: float = 0.0) -> None:
        """Stop the loop, then publish what is left (at shutdown) for up to `flush_timeout` seconds."""
        await super().stop()
        await self.flush(flush_timeout)

    def longest_healthy_cycle(self) -> float:
        """The longest a healthy cycle can take: a bounded publish, then the longest back-off wait."""
        return self.lease_seconds * PUBLISH_DEADLINE_SHARE_OF_LEASE + MAX_BACKOFF_SECONDS

    async def work_once(self) -> int:
        published = await self.relay_once()
        self._cycles += 1
        if self._cycles % 5 == 0 or published == 0:
            metrics.OUTBOX_BACKLOG.set(await unsent_count(self.pool))
        return published

    async def release_own_leases(self) -> None:
        await self.pool.execute(
            "UPDATE outbox SET lease_until = NULL WHERE lease_owner = $1 AND sent_at IS NULL", self.owner
        )
