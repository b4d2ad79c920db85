"""PostgreSQL access: one database per service, created on first start, migrated by plain SQL."""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

log = logging.getLogger(__name__)

RUNTIME_MIGRATIONS = Path(__file__).with_name("migrations")
# Any fixed number: every replica of a service takes the same lock, so migrations run once.
_MIGRATION_LOCK = 7_311_942_001
# A migration that builds from existing rows (an index, reporting's running totals over a million
# referrals) can take minutes; the pool's 30 s per-statement timeout is for requests, not for these.
MIGRATION_TIMEOUT_SECONDS = 3600.0


def service_migrations(package_dir: Path) -> Path:
    """A service's migrations: inside its installed wheel, or beside `src/` in the repository."""
    packaged = package_dir / "migrations"
    return packaged if packaged.is_dir() else package_dir.parents[1] / "migrations"


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


async def ensure_database(url: str) -> None:
    """Create the service's database if it does not exist (local stack; production pre-creates it)."""
    try:
        connection = await asyncpg.connect(url)
    except asyncpg.InvalidCatalogNameError:
        admin = await asyncpg.connect(with_database(url, "postgres"))
        try:
            await admin.execute(f'CREATE DATABASE "{database_name(url)}"')
        except asyncpg.DuplicateDatabaseError:
            pass  # another replica created it first
        finally:
            await admin.close()
    else:
        await connection.close()


@contextlib.asynccontextmanager
async def transaction(
    pool: asyncpg.Pool, *, isolation: str | None = None, readonly: bool = False
) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection inside a transaction (read committed unless `isolation` says otherwise).

    asyncpg raises if the connection dies while it is being returned to the pool, which can
    happen just after COMMIT during a database restart. The commit stands, so that error is
    logged rather than raised: callers must never believe committed work was not done.
    """
    conn = await pool.acquire()
    try:
        async with conn.transaction(isolation=isolation, readonly=readonly):
            yield conn
    finally:
        try:
            await pool.release(conn)
        except Exception as exc:
            log.warning("connection lost while returning it to the pool (%r); the pool replaces it", exc)


async def _end_stray_transaction(conn: asyncpg.Connection) -> None:
    """Reset for pooled connections, cheaper than asyncpg's default.

    The default runs `pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL` on every release:
    a round trip per checkout. Signpost never leaves session state on a pooled connection (LISTEN
    uses its own connections, the migration lock is released explicitly, settings are per
    transaction), so only a transaction left open by an error needs ending.
    """
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


async def create_pool(url: str, size: int, *, search_path: str | None = None) -> asyncpg.Pool:
    """`search_path` points every connection at one schema (a rebuild's); by default PostgreSQL's own."""
    settings = {"search_path": search_path} if search_path else None
    pool = await asyncpg.create_pool(
        url, min_size=1, max_size=size, command_timeout=30, reset=_end_stray_transaction, server_settings=settings
    )
    assert pool is not None
    return pool


def _migration_files(directory: Path, prefix: str) -> list[tuple[str, str]]:
    return [(f"{prefix}/{path.name}", path.read_text()) for path in sorted(directory.glob("*.sql"))]


async def apply_migrations(pool: asyncpg.Pool, service_migrations: Path) -> list[str]:
    """Apply runtime then service migrations not yet applied; refuse if an applied one was edited."""
    files = _migration_files(RUNTIME_MIGRATIONS, "runtime") + _migration_files(service_migrations, "service")
    applied_now: list[str] = []
    async with pool.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
        try:
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " name text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            known = {r["name"]: r["checksum"] for r in await conn.fetch("SELECT name, checksum FROM schema_migrations")}
            for name, sql in files:
                checksum = hashlib.sha256(sql.encode()).hexdigest()
                if name in known:
                    if known[name] != checksum:
                        raise RuntimeError(f"migration {name} was changed after it was applied; add a new one")
                    continue
                async with conn.transaction():
                    await conn.execute(sql, timeout=MIGRATION_TIMEOUT_SECONDS)
                    await conn.execute("INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)", name, checksum)
                applied_now.append(name)
                log.info("applied migration %s", name)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)
    return applied_now
