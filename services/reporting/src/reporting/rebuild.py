"""Rebuild the projection from the topics into a fresh schema, then swap it in while the service runs.

1. A schema `reporting_rebuild_<UTC time>` gets reporting's migrations (the runtime's and its own).
2. Every topic the projection is built from (handlers.CONSUMES) is read from its first offset with no
   consumer group (the live group's offsets are never touched) and each record is applied by the live
   consumer's own code: the same envelope parsing, the same handlers, the same inbox claim, so repeats
   count once and the rebuilt inbox still recognises them after the swap. A record the live service
   dead-lettered (it can never be applied) is skipped and listed, as the live service skipped it.
3. Caught up, one transaction locks every live table (the inbox first), so the live consumer, relay
   and readers wait; reads to the end offsets as of that moment (all the live service can have
   applied); carries over the outbox's rows and the services' pipeline health (neither is built from
   the streams: the health reports are current figures, replaced every few seconds, not history);
   renames `public` to `reporting_old_<time>` and the rebuild to `public`; commits. The service pauses
   for that, it does not stop: its waiting statements resolve the names again and go on in the new tables.

The old schema stays for inspection until `--drop-old` or `rebuild --drop <schema>` removes it.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from aiokafka import TopicPartition
from aiokafka.errors import KafkaConnectionError, KafkaError

from reporting.adapters import schemas
from reporting.config import ReportingSettings
from reporting.handlers import CONSUMES, reporting_handlers
from reporting.unit import ReportingUnit
from signpost_contracts import topic
from signpost_runtime import db
from signpost_runtime.consumer import EventConsumer
from signpost_runtime.kafka_security import KafkaSecurityError
from signpost_runtime.outbox import Outbox
from signpost_runtime.progress import ProgressMonitor
from signpost_runtime.records import ReceivedRecord
from signpost_runtime.replay import Apply, MissingTopicsError, Progress, TopicReader
from signpost_runtime.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

MIGRATIONS = db.service_migrations(Path(__file__).resolve().parent)
# Long enough to wait behind a message in hand or a dashboard read, short enough not to queue readers for long.
SWAP_LOCK_TIMEOUT = "10s"
SWAP_ATTEMPTS = 3


class RebuildRefused(Exception):  # noqa: N818 (an answer for the operator)
    """The rebuild cannot start or could not finish; the message says why and what to do."""


@dataclass
class Skipped:
    """Records the live consumer would have dead-lettered: the rebuild leaves them out the same way."""

    topic: str = "nowhere (a rebuild skips what the live service dead-lettered)"
    records: list[tuple[ReceivedRecord, str]] = field(default_factory=list)

    async def send(self, record: ReceivedRecord, *, reason: str, attempts: int) -> None:
        self.records.append((record, reason))


@dataclass
class RebuildResult:
    live_kept_as: str
    records_read: int
    events_applied: int
    skipped: list[tuple[ReceivedRecord, str]]
    outbox_rows_carried: int
    old_dropped: bool


async def rebuild(
    settings: ReportingSettings, *, drop_old: bool = False, out: TextIO = sys.stderr, now: datetime | None = None
) -> RebuildResult:
    """Rebuild into a fresh schema and swap it in (the module's docstring says how); progress goes to `out`."""
    fresh, old = schemas.schema_names(now or datetime.now(UTC))
    async with _admin_connection(settings) as admin:
        await _refuse_if_busy(admin)
        await schemas.create_schema(admin, fresh)
        try:
            progress = Progress(out)
            skipped = Skipped()
            carried, applied = await _fill_and_swap(settings, admin, fresh, old, progress, skipped)
        except BaseException:
            with contextlib.suppress(Exception):
                await schemas.drop_schema(admin, fresh)
            raise
        if drop_old:
            await schemas.drop_schema(admin, old)
    print(f"swapped in: the old projection is kept as schema {old}" + (" (dropped)" if drop_old else ""), file=out)
    return RebuildResult(old, sum(progress.read.values()), applied, skipped.records, carried, drop_old)


async def drop(settings: ReportingSettings, schema: str) -> None:
    """Remove a schema a rebuild left: an old projection, or a rebuild interrupted before its swap."""
    if not schemas.is_ours(schema):
        raise RebuildRefused(
            f"{schema!r} is not a schema a rebuild made; only reporting_old_... and reporting_rebuild_..."
        )
    async with _admin_connection(settings) as admin:
        if schema.startswith(schemas.REBUILD_PREFIX) and not await schemas.take_rebuild_lock(admin):
            raise RebuildRefused(f"a rebuild is running (it may be filling {schema}); let it finish first")
        if schema not in await schemas.schemas_like(admin, schema):
            raise RebuildRefused(f"there is no schema {schema}")
        await schemas.drop_schema(admin, schema)


async def _fill_and_swap(
    settings: ReportingSettings,
    admin: asyncpg.Connection,
    fresh: str,
    old: str,
    progress: Progress,
    skipped: Skipped,
) -> tuple[int, int]:
    """Fill `fresh` from the topics and swap it in: the outbox rows carried over, and the events applied."""
    pool = await db.create_pool(settings.database_url, settings.database_pool_size, search_path=fresh)
    try:
        await db.apply_migrations(pool, MIGRATIONS)
        consumer = EventConsumer(
            name=settings.service_name,  # the live consumer's name, so its inbox rows are the live inbox's
            unit_of_work=UnitOfWork(pool, Outbox(settings.topic_namespace), ReportingUnit),
            handlers=reporting_handlers(),
            dead_letters=skipped,
            monitor=ProgressMonitor(settings.liveness_stall_seconds),
            max_attempts=settings.consumer_max_attempts,
            backoff_seconds=settings.consumer_retry_backoff_seconds,
        )

        async def apply(_: TopicPartition, records: list[ReceivedRecord]) -> None:
            for record in records:
                await consumer.handle(record)

        async with _reader(settings) as reader:
            await reader.read_to_end(apply, progress)
            progress.report("read to the end")
            await reader.read_to_end(apply, progress)  # what arrived meanwhile, so the locked part is short
            progress.report("caught up")
            counts = await _swap(admin, reader, apply, progress, fresh, old, settings.service_name)
            progress.report("swapped")
            return counts
    finally:
        await pool.close()


async def _swap(
    admin: asyncpg.Connection,
    reader: TopicReader,
    apply: Apply,
    progress: Progress,
    fresh: str,
    old: str,
    consumer: str,
) -> tuple[int, int]:
    for attempt in range(1, SWAP_ATTEMPTS + 1):
        try:
            async with admin.transaction():
                await admin.execute(f"SET LOCAL lock_timeout = '{SWAP_LOCK_TIMEOUT}'")
                await schemas.lock_live_tables(admin, await schemas.live_tables(admin))
                # Under the locks the live service applies nothing, so reading to the ends now covers all it applied.
                await reader.read_to_end(apply, progress)
                carried = await schemas.carry_outbox(admin, fresh)
                await schemas.carry_pipeline_health(admin, fresh)
                applied = await schemas.events_claimed(admin, fresh, consumer)  # before the live service adds any
                await schemas.swap(admin, fresh, old)
                return carried, applied
        except (asyncpg.LockNotAvailableError, asyncpg.DeadlockDetectedError) as exc:
            # What was applied under the locks stays in the rebuild schema; the next attempt finds it claimed.
            print(f"swap attempt {attempt}: the live tables stayed busy ({type(exc).__name__})", file=progress.out)
    raise RebuildRefused(f"could not lock the live tables within {SWAP_LOCK_TIMEOUT}, {SWAP_ATTEMPTS} times")


async def _refuse_if_busy(admin: asyncpg.Connection) -> None:
    if not await schemas.take_rebuild_lock(admin):
        raise RebuildRefused("another rebuild is running on this database; wait for it to finish")
    if "outbox" not in await schemas.live_tables(admin):
        raise RebuildRefused("the live schema has no reporting tables yet: start the service once, so that it migrates")
    for leftover in await schemas.schemas_like(admin, schemas.REBUILD_PREFIX):
        raise RebuildRefused(
            f"schema {leftover} is left from an interrupted rebuild; remove it with "
            f"`signpost-reporting rebuild --drop {leftover}` and start again"
        )


@contextlib.asynccontextmanager
async def _admin_connection(settings: ReportingSettings) -> AsyncIterator[asyncpg.Connection]:
    try:
        conn = await asyncpg.connect(settings.database_url, timeout=10)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        raise RebuildRefused(
            f"cannot reach reporting's database ({_without_password(settings.database_url)}): {exc}. Check DATABASE_URL"
        ) from exc
    try:
        yield conn
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def _reader(settings: ReportingSettings) -> AsyncIterator[TopicReader]:
    names = [topic(stream, settings.topic_namespace) for stream in CONSUMES]
    try:
        reader = TopicReader(settings, names, fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms)
    except KafkaSecurityError as exc:
        raise RebuildRefused(str(exc)) from exc
    try:
        await reader.start()
    except KafkaConnectionError as exc:
        raise RebuildRefused(
            f"cannot reach the Kafka broker at {settings.kafka_bootstrap_servers}: {exc}. Check KAFKA_BOOTSTRAP_SERVERS"
        ) from exc
    except MissingTopicsError as exc:
        raise RebuildRefused(f"{exc}. Check TOPIC_NAMESPACE (now {settings.topic_namespace!r})") from exc
    except KafkaError as exc:
        raise RebuildRefused(f"the Kafka broker at {settings.kafka_bootstrap_servers} refused: {exc!r}") from exc
    try:
        yield reader
    finally:
        with contextlib.suppress(Exception):
            await reader.stop()


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")))
