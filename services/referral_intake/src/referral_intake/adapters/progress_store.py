"""PostgreSQL storage of what later events told us about each referral (its Task facts), on a unit's connection."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from typing import Any, TypeVar

import asyncpg

from referral_intake.domain.task_status import Assignment, Linking, ReferralProgress, Triage, Waitlisting

FactT = TypeVar("FactT", Triage, Assignment, Waitlisting, Linking)
_TIMES = ("decided_at", "assigned_at", "waitlisted_at", "linked_at")
_FACTS = "triage, assignment, waitlist, linked"


class ProgressRepository:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def load_for_update(self, referral_id: str) -> ReferralProgress:
        """The referral's facts, locked until the unit's transaction ends, so merges never interleave."""
        await self.connection.execute(
            "INSERT INTO referral_progress (referral_id) VALUES ($1) ON CONFLICT DO NOTHING", referral_id
        )
        row = await self.connection.fetchrow(
            f"SELECT {_FACTS} FROM referral_progress WHERE referral_id = $1 FOR UPDATE", referral_id
        )
        return _progress(row)

    async def load(self, referral_id: str) -> ReferralProgress:
        row = await self.connection.fetchrow(
            f"SELECT {_FACTS} FROM referral_progress WHERE referral_id = $1", referral_id
        )
        return _progress(row)

    async def save(self, referral_id: str, progress: ReferralProgress) -> None:
        await self.connection.execute(
            "UPDATE referral_progress SET triage = $2::jsonb, assignment = $3::jsonb, waitlist = $4::jsonb,"
            " linked = $5::jsonb, updated_at = now() WHERE referral_id = $1",
            referral_id,
            _dump(progress.triage),
            _dump(progress.assignment),
            _dump(progress.waitlist),
            _dump(progress.linked),
        )


def _progress(row: asyncpg.Record | None) -> ReferralProgress:
    if row is None:
        return ReferralProgress()
    return ReferralProgress(
        triage=_load(Triage, row["triage"]),
        assignment=_load(Assignment, row["assignment"]),
        waitlist=_load(Waitlisting, row["waitlist"]),
        linked=_load(Linking, row["linked"]),
    )


def _dump(fact: Triage | Assignment | Waitlisting | Linking | None) -> str | None:
    return json.dumps(dataclasses.asdict(fact), default=_encode) if fact is not None else None


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__}")


def _load(kind: type[FactT], raw: str | None) -> FactT | None:
    if raw is None:
        return None
    values: dict[str, Any] = json.loads(raw)
    for name in _TIMES:
        if name in values:
            values[name] = datetime.fromisoformat(values[name])
    if "reasons" in values:
        values["reasons"] = tuple(values["reasons"])
    return kind(**values)
