"""PostgreSQL storage of referrals and their identifiers (asyncpg, plain SQL), on a unit's connection."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg

from referral_intake.access import ReadScope
from referral_intake.adapters.search_sql import Where
from referral_intake.domain.referral import (
    AlreadyClaimedError,
    BusinessIdentifier,
    ReferralSubmission,
    RequestAction,
    Sender,
    StoredReferral,
)
from referral_intake.domain.search import AnyOf

_COLUMNS = (
    "id, task_id, requester_ods, nhs_number, resource, received_at, last_updated, sender_system, sender_ods,"
    " status, version, withdrawn_at, replaces_referral_id"
)


def stored_resource(resource: dict[str, Any], referral_id: str, now: datetime, version: int = 1) -> dict[str, Any]:
    """The resource as kept and answered: the server's id, and meta.versionId and lastUpdated (FHIR 3.1.0.5.1)."""
    instant = now.astimezone(UTC).isoformat().replace("+00:00", "Z")
    meta = {**resource.get("meta", {}), "versionId": str(version), "lastUpdated": instant}
    return {"resourceType": "ServiceRequest", "id": referral_id, "meta": meta, **_without(resource, "meta", "id")}


def _without(resource: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in resource.items() if k not in keys and k != "resourceType"}


class ReferralRepository:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def insert(
        self,
        submission: ReferralSubmission,
        *,
        referral_id: str,
        task_id: str,
        now: datetime,
        request_id: str | None = None,
        sender: Sender | None = None,
        replaces_referral_id: str | None = None,
    ) -> StoredReferral:
        """Store a new referral; raises AlreadyClaimedError (the caller's transaction must roll back)."""
        resource = stored_resource(submission.resource, referral_id, now)
        first = submission.identifiers[0] if submission.identifiers else None
        await self.connection.execute(
            "INSERT INTO referrals (id, task_id, requester_ods, nhs_number, identifier_system, identifier_value,"
            " resource, received_at, last_updated, sender_system, sender_ods, replaces_referral_id)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $8, $9, $10, $11)",
            referral_id,
            task_id,
            submission.referrer.requester,
            submission.nhs_number,
            first.system if first else None,
            first.value if first else None,
            json.dumps(resource),
            now,
            sender.system if sender else None,
            sender.ods_code if sender else None,
            replaces_referral_id,
        )
        # A concurrent insert of the same key waits here for the other transaction, then conflicts. Keys are
        # claimed in one global order (the request id, then identifiers sorted) so that two requests sharing
        # keys wait for each other in the same order and can never deadlock, whatever order they listed them.
        if request_id is not None:
            await self.claim_request(submission.referrer.requester, request_id, referral_id, now, "create")
        for identifier in sorted(submission.identifiers, key=lambda i: (i.system, i.value)):
            claimed = await self.connection.fetchval(
                "INSERT INTO referral_identifiers (requester_ods, system, value, referral_id) VALUES ($1, $2, $3, $4)"
                " ON CONFLICT DO NOTHING RETURNING true",
                submission.referrer.requester,
                identifier.system,
                identifier.value,
                referral_id,
            )
            if not claimed:
                raise AlreadyClaimedError(f"{identifier.system}|{identifier.value}")
        if submission.bars is not None:
            origin = submission.bars
            await self.connection.execute(
                "INSERT INTO referral_bars_origin"
                " (referral_id, message_id, source_endpoint, sender_ods, correlation_id) VALUES ($1, $2, $3, $4, $5)",
                referral_id,
                origin.message_id,
                origin.source_endpoint,
                origin.sender_ods,
                origin.correlation_id,
            )
        return StoredReferral(
            id=referral_id,
            task_id=task_id,
            requester_ods=submission.referrer.requester,
            resource=resource,
            received_at=now,
            last_updated=now,
            nhs_number=submission.nhs_number,
            sender=sender,
            replaces_referral_id=replaces_referral_id,
        )

    async def find_by_identifiers(
        self, requester_ods: str, identifiers: Sequence[BusinessIdentifier]
    ) -> StoredReferral | None:
        if not identifiers:
            return None
        row = await self.connection.fetchrow(
            f"SELECT {_COLUMNS} FROM referrals WHERE id = ("
            " SELECT referral_id FROM referral_identifiers"
            " WHERE requester_ods = $1 AND (system, value) IN (SELECT * FROM unnest($2::text[], $3::text[])) LIMIT 1)",
            requester_ods,
            [i.system for i in identifiers],
            [i.value for i in identifiers],
        )
        return _referral(row) if row else None

    async def search_by_identifier(
        self, conditions: Sequence[AnyOf], scope: ReadScope, *, limit: int
    ) -> tuple[int, list[StoredReferral]]:
        where = Where()
        where.identified_by(conditions)
        where.readable_by(scope)
        total = await self.connection.fetchval(f"SELECT count(*) FROM referrals r WHERE {where.sql}", *where.args)
        rows = await self.connection.fetch(
            f"SELECT {_COLUMNS} FROM referrals r WHERE {where.sql} ORDER BY received_at, id LIMIT {where.arg(limit)}",
            *where.args,
        )
        return int(total), [_referral(row) for row in rows]

    async def claim_request(
        self, requester_ods: str, request_id: str, referral_id: str, now: datetime, action: RequestAction
    ) -> None:
        """Spend an X-Request-ID; AlreadyClaimedError when it was spent (the caller's transaction must roll back)."""
        claimed = await self.connection.fetchval(
            "INSERT INTO referral_requests (requester_ods, request_id, referral_id, received_at, action)"
            " VALUES ($1, $2::uuid, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING true",
            requester_ods,
            request_id,
            referral_id,
            now,
            action,
        )
        if not claimed:
            raise AlreadyClaimedError(f"X-Request-ID {request_id}")

    async def find_by_request(self, requester_ods: str, request_id: str) -> str | None:
        """The id of the referral an earlier request with this X-Request-ID created, if any."""
        found = await self.connection.fetchval(
            "SELECT referral_id FROM referral_requests WHERE requester_ods = $1 AND request_id = $2::uuid",
            requester_ods,
            request_id,
        )
        return str(found) if found is not None else None

    async def get(self, referral_id: str) -> StoredReferral | None:
        row = await self.connection.fetchrow(f"SELECT {_COLUMNS} FROM referrals WHERE id = $1", referral_id)
        return _referral(row) if row else None

    async def get_for_update(self, referral_id: str) -> StoredReferral | None:
        row = await self.connection.fetchrow(f"SELECT {_COLUMNS} FROM referrals WHERE id = $1 FOR UPDATE", referral_id)
        return _referral(row) if row else None

    async def get_many(self, referral_ids: Sequence[str]) -> dict[str, StoredReferral]:
        rows = await self.connection.fetch(
            f"SELECT {_COLUMNS} FROM referrals WHERE id = ANY($1::text[])", list(referral_ids)
        )
        return {row["id"]: _referral(row) for row in rows}

    async def get_by_task(self, task_id: str) -> StoredReferral | None:
        row = await self.connection.fetchrow(f"SELECT {_COLUMNS} FROM referrals WHERE task_id = $1", task_id)
        return _referral(row) if row else None

    async def withdraw(self, referral_id: str, *, status: str, now: datetime) -> StoredReferral:
        """The referral's next version with its new status (the caller holds its row lock from get_for_update)."""
        current = await self.get(referral_id)
        assert current is not None, "withdraw a referral read under its lock"
        version = current.version + 1
        resource = stored_resource({**current.resource, "status": status}, referral_id, now, version)
        row = await self.connection.fetchrow(
            "UPDATE referrals SET resource = $2::jsonb, status = $3, version = $4, last_updated = $5,"
            f" withdrawn_at = $5 WHERE id = $1 RETURNING {_COLUMNS}",
            referral_id,
            json.dumps(resource),
            status,
            version,
            now,
        )
        return _referral(row)


def _referral(row: asyncpg.Record) -> StoredReferral:
    return StoredReferral(
        id=row["id"],
        task_id=row["task_id"],
        requester_ods=row["requester_ods"],
        resource=json.loads(row["resource"]),
        received_at=row["received_at"],
        last_updated=row["last_updated"],
        nhs_number=row["nhs_number"],
        sender=Sender(row["sender_system"], row["sender_ods"]) if row["sender_system"] else None,
        status=row["status"],
        version=row["version"],
        withdrawn_at=row["withdrawn_at"],
        replaces_referral_id=row["replaces_referral_id"],
    )
