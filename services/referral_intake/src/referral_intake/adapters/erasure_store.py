"""PostgreSQL side of erasure: finding a person's referrals, and overwriting what identifies them."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import asyncpg

from signpost_runtime.erasure import forget_sent_events


class ErasureRepository:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def referrals_of_person(self, *, referral_id: str | None = None, nhs_number: str | None = None) -> list[str]:
        """The ids of every referral of the person, oldest first, locked for the erasure.

        A person is recognised across referrals by their NHS number (what person_key hashes for triage's
        duplicate link); a referral without one (a form's) is only its own person's.
        """
        rows = await self.connection.fetch(
            "SELECT id FROM referrals WHERE id = $1"
            " OR nhs_number = $2"
            " OR nhs_number = (SELECT nhs_number FROM referrals WHERE id = $1 AND nhs_number IS NOT NULL)"
            " ORDER BY received_at, id FOR UPDATE",
            referral_id,
            nhs_number,
        )
        return [row["id"] for row in rows]

    async def closed_before(self, cutoff: datetime, limit: int) -> list[str]:
        """Referrals not yet erased whose case closed before `cutoff`, locked; those another replica is purging
        are skipped (SKIP LOCKED), so replicas share the work instead of queueing on each other."""
        rows = await self.connection.fetch(
            "SELECT r.id FROM referrals r JOIN cases c ON c.referral_id = r.id"
            " WHERE r.erased_at IS NULL AND c.status = 'closed' AND (c.record -> 'closure' ->> 'at')::timestamptz < $1"
            " ORDER BY r.received_at, r.id LIMIT $2 FOR UPDATE OF r SKIP LOCKED",
            cutoff,
            limit,
        )
        return [row["id"] for row in rows]

    async def erased_at(self, referral_id: str) -> datetime | None:
        erased: datetime | None = await self.connection.fetchval(
            "SELECT erased_at FROM referrals WHERE id = $1", referral_id
        )
        return erased

    async def resource(self, referral_id: str) -> dict[str, Any]:
        stored: dict[str, Any] = json.loads(
            await self.connection.fetchval("SELECT resource FROM referrals WHERE id = $1", referral_id)
        )
        return stored

    async def erase(self, referral_id: str, resource: dict[str, Any], now: datetime) -> None:
        # identifier_value is the referrer's own id for the referral (conditional create needs it), not the person's.
        await self.connection.execute(
            "UPDATE referrals SET nhs_number = NULL, resource = $2::jsonb, erased_at = $3 WHERE id = $1",
            referral_id,
            json.dumps(resource),
            now,
        )
        await forget_sent_events(self.connection, referral_id)
