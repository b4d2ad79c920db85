"""The outbox relay: claims unsent rows, publishes them, marks them sent.

Rows are claimed with `FOR UPDATE SKIP LOCKED` and a lease, so several replicas can relay at once
without publishing the same row together, and a row claimed by a relay that died is claimed again
once its lease runs out. Publishing happens before the row is marked sent: a crash between the two
publishes the row again, which consumers absorb through their inbox (at least once, effectively once).

A row the broker can never take (larger than the producer allows, or refused for good) is parked
rather than retried: otherwise the relay would claim it first on every cycle and nothing behind it
would ever be published. A failure of the broker itself is an outage: the whole batch is retried.
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
from signpost_runtime.leased_worker import LeasedWorker
from signpost_runtime.outbox import NOTIFY_CHANNEL, park, parked_count, unsent_count
from signpost_runtime.publishing import OutgoingRecord
from signpost_runtime.resilience import is_infrastructure_error, record_through_outage

log = logging.getLogger(__name__)

_CLAIM = """
UPDATE outbox SET lease_until = now() + make_interval(secs => $2), lease_owner = $3,
    publish_attempts = publish_attempts + 1
WHERE id IN (
    SELECT id FROM outbox
    WHERE sent_at IS NULL AND parked_at IS NULL AND (lease_until IS NULL OR lease_until < now())
    ORDER BY id
    LIMIT $1
    FOR UPDATE SKIP LOCKED
)
RETURNING id, event_id, topic, message_key, headers, payload, lease_until
"""


class RecordPublisher(Protocol):
    def too_large(self, record: OutgoingRecord) -> str | None: ...

    async def publish_each(self, records: list[OutgoingRecord]) -> list[BaseException | None]: ...


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
        """Publish one claimed batch; returns how many rows it settled (published or parked)."""
        async with transaction(self.pool) as conn:
            claimed = await conn.fetch(_CLAIM, self.batch_size, self.lease_seconds, self.owner)
        if not claimed:
            return 0
        # UPDATE ... RETURNING follows the scan order, not the subquery's ORDER BY: put the rows back
        # in insertion order so events about one referral reach their partition in the order they were written.
        rows = sorted(claimed, key=lambda row: row["id"])
        records = {row["id"]: _record(row) for row in rows}
        too_large = {row_id: why for row_id, record in records.items() if (why := self.publisher.too_large(record))}
        await self._park(rows, too_large)
        sendable = [row_id for row_id in records if row_id not in too_large]
        try:
            async with asyncio.timeout(self.work_deadline):
                outcomes = await self.publisher.publish_each([records[row_id] for row_id in sendable])
        except TimeoutError:
            outcomes = [TimeoutError(f"the broker did not acknowledge within {self.work_deadline:.0f}s")] * len(
                sendable
            )
        outage = next((error for error in outcomes if error is not None and is_infrastructure_error(error)), None)
        refused = {
            row_id: repr(error) for row_id, error in zip(sendable, outcomes, strict=True) if error and not outage
        }
        await self._park(rows, refused)
        unsettled = [row_id for row_id in sendable if row_id not in refused]
        if outage is not None:
            await self._release(unsettled, rows[0]["lease_until"], outage)
            raise outage
        await record_through_outage(
            lambda: self.pool.execute(
                "UPDATE outbox SET sent_at = now(), lease_until = NULL WHERE id = ANY($1)", unsettled
            ),
            what=f"{len(unsettled)} published outbox row(s)",
            give_up_after=self.lease_seconds,
        )
        metrics.OUTBOX_PUBLISHED.inc(len(unsettled))
        return len(rows)

    async def _park(self, rows: list[asyncpg.Record], refused: dict[int, str]) -> None:
        for row in rows:
            if row["id"] in refused:
                log.error("parked outbox event %s: %s", row["event_id"], refused[row["id"]])
        if refused:
            await park(self.pool, refused)
            metrics.OUTBOX_PARKED.set(await parked_count(self.pool))

    async def _release(self, ids: list[int], lease: object, error: BaseException) -> None:
        # Free the rows so the batch is retried promptly, but only while they are still ours:
        # once the lease has run out, another relay may hold them.
        await self.pool.execute(
            "UPDATE outbox SET lease_until = NULL, last_error = $3 WHERE id = ANY($1) AND lease_until = $2",
            ids,
            lease,
            repr(error),
        )

    async def flush(self, timeout: float) -> None:
        """Publish everything unsent (used at shutdown), giving up after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if await self.relay_once() == 0:
                    return
            except Exception as exc:
                log.warning("outbox flush stopped (%r); unsent rows stay for the next start", exc)
                return

    async def stop(self, flush_timeout: float = 0.0) -> None:
        """Stop the loop, then publish what is left (at shutdown) for up to `flush_timeout` seconds."""
        await super().stop()
        await self.flush(flush_timeout)

    async def work_once(self) -> int:
        settled = await self.relay_once()
        self._cycles += 1
        if self._cycles % 5 == 0 or settled == 0:
            metrics.OUTBOX_BACKLOG.set(await unsent_count(self.pool))
            metrics.OUTBOX_PARKED.set(await parked_count(self.pool))
        return settled

    async def release_own_leases(self) -> None:
        await self.pool.execute(
            "UPDATE outbox SET lease_until = NULL WHERE lease_owner = $1 AND sent_at IS NULL", self.owner
        )


def _record(row: asyncpg.Record) -> OutgoingRecord:
    return OutgoingRecord(
        topic=row["topic"],
        key=row["message_key"].encode(),
        value=None if row["payload"] is None else bytes(row["payload"]),
        headers=json.loads(row["headers"]),
    )
