"""The projection's PostgreSQL schemas: a fresh one to rebuild into, the swap, and the old one's removal.

The service itself names no schema: its tables are found through the connection's search_path,
which is PostgreSQL's default (`"$user", public`) for the live service and the rebuild schema alone
for the rebuild's own connections. The migrations name no schema either, so they build the same
tables wherever search_path points.
"""

from __future__ import annotations

import re
from datetime import datetime

import asyncpg

LIVE = "public"
REBUILD_PREFIX = "reporting_rebuild_"
OLD_PREFIX = "reporting_old_"
# Any fixed number: held by a running rebuild for its whole life, so a second one refuses to start.
REBUILD_LOCK = 7_311_942_101
_OUR_SCHEMA = re.compile(rf"^({REBUILD_PREFIX}|{OLD_PREFIX})\d{{8}}t\d{{6}}z?$")


def schema_names(moment: datetime) -> tuple[str, str]:
    """The rebuild schema and the name the live one will be kept under, both stamped with `moment` (UTC)."""
    stamp = moment.strftime("%Y%m%dt%H%M%Sz")
    return REBUILD_PREFIX + stamp, OLD_PREFIX + stamp


def quoted(name: str) -> str:
    """A schema name made here or checked by `is_ours`: letters, digits and underscores, quoted anyway."""
    if not _OUR_SCHEMA.match(name):
        raise ValueError(f"{name!r} is not a schema a rebuild made ({REBUILD_PREFIX}... or {OLD_PREFIX}...)")
    return f'"{name}"'


def is_ours(name: str) -> bool:
    return bool(_OUR_SCHEMA.match(name))


async def take_rebuild_lock(conn: asyncpg.Connection) -> bool:
    """True if no other rebuild holds the lock; it is then held until `conn` closes."""
    return bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", REBUILD_LOCK))


async def schemas_like(conn: asyncpg.Connection, prefix: str) -> list[str]:
    rows = await conn.fetch("SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1) ORDER BY nspname", prefix)
    return [row["nspname"] for row in rows]


async def create_schema(conn: asyncpg.Connection, name: str) -> None:
    await conn.execute(f"CREATE SCHEMA {quoted(name)}")


async def drop_schema(conn: asyncpg.Connection, name: str) -> None:
    await conn.execute(f"DROP SCHEMA {quoted(name)} CASCADE")


async def live_tables(conn: asyncpg.Connection) -> list[str]:
    """The live schema's tables, the inbox first: the live consumer claims there first in every transaction,
    so locking it first makes the rebuild wait behind a message in hand instead of deadlocking with it."""
    rows = await conn.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename <> 'inbox', tablename", LIVE
    )
    return [row["tablename"] for row in rows]


async def lock_live_tables(conn: asyncpg.Connection, tables: list[str]) -> None:
    """Pause the live service: its consumer, relay and readers wait on these locks until the swap commits."""
    names = ", ".join(f'{LIVE}."{table}"' for table in tables)
    await conn.execute(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE")


async def carry_outbox(conn: asyncpg.Connection, rebuild: str) -> int:
    """Copy the live outbox into the rebuild: its rows are not facts from the topics (reporting publishes
    nothing; what it holds is dead-letter copies parked because they were too large), so they must come along."""
    target = quoted(rebuild)
    copied = await conn.fetchval(
        f"WITH copied AS (INSERT INTO {target}.outbox SELECT * FROM {LIVE}.outbox RETURNING 1)"
        " SELECT count(*) FROM copied"
    )
    await conn.execute(
        f"SELECT setval('{target}.outbox_id_seq', greatest((SELECT last_value FROM {LIVE}.outbox_id_seq), 1))"
    )
    return int(copied)


async def carry_pipeline_health(conn: asyncpg.Connection, rebuild: str) -> None:
    """Copy the services' newest pipeline health reports into the rebuild: current figures from a topic the
    rebuild does not read (its reports are replaced every few seconds, not history), so the dashboard keeps
    showing them across the swap instead of an empty table until every service has reported again."""
    await conn.execute(f"INSERT INTO {quoted(rebuild)}.pipeline_health SELECT * FROM {LIVE}.pipeline_health")


async def events_claimed(conn: asyncpg.Connection, schema: str, consumer: str) -> int:
    """Events `consumer` has applied in `schema`, by its inbox."""
    return int(await conn.fetchval(f"SELECT count(*) FROM {quoted(schema)}.inbox WHERE consumer = $1", consumer))


async def swap(conn: asyncpg.Connection, rebuild: str, old: str) -> None:
    """Within the caller's transaction: the live schema is kept as `old`, the rebuild becomes the live one.

    Renaming keeps every table's identity, so a statement the live service prepared against the old
    tables would still reach them, were it not that PostgreSQL re-parses cached statements when a schema
    changes (plan invalidation on pg_namespace) and so resolves the names afresh: the live service's
    next write goes to the new tables, as tests/reporting/test_rebuild.py shows.
    """
    await conn.execute(f"ALTER SCHEMA {LIVE} RENAME TO {quoted(old)}")
    await conn.execute(f"ALTER SCHEMA {quoted(rebuild)} RENAME TO {LIVE}")
