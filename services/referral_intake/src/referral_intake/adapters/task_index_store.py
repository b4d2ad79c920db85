"""PostgreSQL storage of each referral's Task as searched (migrations/0006_task_index.sql), on a unit's connection."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from referral_intake.access import ReadScope
from referral_intake.adapters.search_sql import Where
from referral_intake.domain.search import TaskPosition, TaskQuery
from referral_intake.domain.task import TaskStatus


class TaskIndexRepository:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def lock(self, referral_id: str, task_id: str) -> None:
        # Taken after every other lock of the transaction (task_index.refresh_task runs last), so it never
        # waits in a cycle; and every refresh of one Task takes turns, each reading the facts the last committed.
        await self.connection.execute(
            "INSERT INTO task_index (referral_id, task_id, status, last_updated)"
            " VALUES ($1, $2, 'requested', '-infinity') ON CONFLICT DO NOTHING",
            referral_id,
            task_id,
        )
        await self.connection.execute("SELECT 1 FROM task_index WHERE referral_id = $1 FOR UPDATE", referral_id)

    async def record(self, referral_id: str, *, status: TaskStatus, last_updated: datetime) -> None:
        await self.connection.execute(
            # Never backwards: two refreshes that waited for each other commit in lock order, not clock order.
            "UPDATE task_index SET status = $2, last_updated = greatest(last_updated, $3) WHERE referral_id = $1",
            referral_id,
            status,
            last_updated,
        )

    async def last_updated(self, referral_id: str) -> datetime | None:
        found: datetime | None = await self.connection.fetchval(
            "SELECT last_updated FROM task_index WHERE referral_id = $1", referral_id
        )
        return found

    async def search(
        self, query: TaskQuery, scope: ReadScope, *, limit: int, after: TaskPosition | None
    ) -> tuple[int, list[str]]:
        """How many Tasks match, and the referral ids of one page of them in (last_updated, task_id) order."""
        where = Where()
        where.readable_by(scope)
        if query.owner_is_elsewhere:
            where.add("false")
        if query.referral_id is not None:
            where.add(f"t.referral_id = {where.arg(query.referral_id)}")
        if query.statuses is not None:
            where.add(f"t.status = ANY({where.arg(sorted(query.statuses))}::text[])")
        for interval in query.updated:
            where.add(f"t.last_updated >= coalesce({where.arg(interval.start)}::timestamptz, '-infinity')")
            where.add(f"t.last_updated < coalesce({where.arg(interval.end)}::timestamptz, 'infinity')")
        source = f"FROM task_index t JOIN referrals r ON r.id = t.referral_id WHERE {where.sql}"
        total = await self.connection.fetchval(f"SELECT count(*) {source}", *where.args)
        if after is not None:
            position = f"({where.arg(after.last_updated)}::timestamptz, {where.arg(after.task_id)}::text)"
            source += f" AND (t.last_updated, t.task_id) > {position}"
        rows = await self.connection.fetch(
            f"SELECT t.referral_id {source} ORDER BY t.last_updated, t.task_id LIMIT {where.arg(limit)}", *where.args
        )
        return int(total), [row["referral_id"] for row in rows]

    async def unindexed(self, limit: int) -> list[str]:
        """Referrals stored before the index existed (or whose indexing was lost): their Tasks are not searchable."""
        rows = await self.connection.fetch(
            "SELECT r.id FROM referrals r LEFT JOIN task_index t ON t.referral_id = r.id WHERE t.referral_id IS NULL"
            " ORDER BY r.received_at LIMIT $1",
            limit,
        )
        return [row["id"] for row in rows]
