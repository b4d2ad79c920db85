"""A fake intake unit: referrals, Task facts and cases in dictionaries, events in a list (ports.py's shapes)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

from referral_intake.access import ReadScope
from referral_intake.adapters.repository import stored_resource
from referral_intake.domain.case import Case
from referral_intake.domain.record_access import AccessQuery, RecordAccess, RecordKind
from referral_intake.domain.referral import (
    AlreadyClaimedError,
    BusinessIdentifier,
    ReferralSubmission,
    RequestAction,
    Sender,
    StoredReferral,
)
from referral_intake.domain.search import AnyOf, TaskPosition, TaskQuery
from referral_intake.domain.task_status import ReferralProgress, TaskStatus
from referral_intake.ports import WorklistStatus
from signpost_contracts import EventEnvelope


class FakeReferrals:
    def __init__(self) -> None:
        self.by_id: dict[str, StoredReferral] = {}
        self.identifiers: dict[tuple[str, str, str], str] = {}
        self.requests: dict[tuple[str, str], str] = {}

    async def insert(
        self,
        submission: ReferralSubmission,
        *,
        referral_id: str,
        task_id: str,
        now: datetime,
        request_id: str | None,
        sender: Sender | None,
        replaces_referral_id: str | None = None,
    ) -> StoredReferral:
        ods = submission.referrer.requester
        keys = [(ods, i.system, i.value) for i in submission.identifiers]
        if (request_id and (ods, request_id) in self.requests) or any(key in self.identifiers for key in keys):
            raise AlreadyClaimedError("claimed")
        stored = StoredReferral(
            id=referral_id,
            task_id=task_id,
            requester_ods=ods,
            resource=stored_resource(submission.resource, referral_id, now),
            received_at=now,
            last_updated=now,
            nhs_number=submission.nhs_number,
            sender=sender,
            replaces_referral_id=replaces_referral_id,
        )
        self.by_id[referral_id] = stored
        self.identifiers.update(dict.fromkeys(keys, referral_id))
        if request_id:
            self.requests[(ods, request_id)] = referral_id
        return stored

    async def find_by_identifiers(
        self, requester_ods: str, identifiers: Sequence[BusinessIdentifier]
    ) -> StoredReferral | None:
        for identifier in identifiers:
            if (found := self.identifiers.get((requester_ods, identifier.system, identifier.value))) is not None:
                return self.by_id[found]
        return None

    async def search_by_identifier(
        self, conditions: Sequence[AnyOf], scope: ReadScope, *, limit: int
    ) -> tuple[int, list[StoredReferral]]:
        def identified(referral_id: str, any_of: AnyOf) -> bool:
            held = [(system, value) for (_, system, value), rid in self.identifiers.items() if rid == referral_id]
            return any(token.matches(system, value) for token in any_of for system, value in held)

        found = [r for r in self.by_id.values() if scope.covers(r) and all(identified(r.id, c) for c in conditions)]
        found.sort(key=lambda r: (r.received_at, r.id))
        return len(found), found[:limit]

    async def claim_request(
        self, requester_ods: str, request_id: str, referral_id: str, now: datetime, action: RequestAction
    ) -> None:
        if (requester_ods, request_id) in self.requests:
            raise AlreadyClaimedError("claimed")
        self.requests[(requester_ods, request_id)] = referral_id

    async def find_by_request(self, requester_ods: str, request_id: str) -> str | None:
        return self.requests.get((requester_ods, request_id))

    async def get(self, referral_id: str) -> StoredReferral | None:
        return self.by_id.get(referral_id)

    async def get_for_update(self, referral_id: str) -> StoredReferral | None:
        return self.by_id.get(referral_id)

    async def get_many(self, referral_ids: Sequence[str]) -> dict[str, StoredReferral]:
        return {i: self.by_id[i] for i in referral_ids if i in self.by_id}

    async def get_by_task(self, task_id: str) -> StoredReferral | None:
        return next((r for r in self.by_id.values() if r.task_id == task_id), None)

    async def withdraw(self, referral_id: str, *, status: str, now: datetime) -> StoredReferral:
        current = self.by_id[referral_id]
        version = current.version + 1
        resource = stored_resource({**current.resource, "status": status}, referral_id, now, version)
        withdrawn = replace(current, resource=resource, status=status, version=version, last_updated=now,
                            withdrawn_at=now)  # fmt: skip
        self.by_id[referral_id] = withdrawn
        return withdrawn


class FakeProgress:
    def __init__(self) -> None:
        self.by_referral: dict[str, ReferralProgress] = {}

    async def load_for_update(self, referral_id: str) -> ReferralProgress:
        return self.by_referral.get(referral_id, ReferralProgress())

    async def load(self, referral_id: str) -> ReferralProgress:
        return self.by_referral.get(referral_id, ReferralProgress())

    async def save(self, referral_id: str, progress: ReferralProgress) -> None:
        self.by_referral[referral_id] = progress


class FakeCases:
    """The worklist's statuses as adapters/case_store.py's SQL states them, over the fake referrals."""

    def __init__(self, referrals: FakeReferrals) -> None:
        self.by_referral: dict[str, Case] = {}
        self.referrals = referrals

    async def load(self, referral_id: str) -> Case | None:
        return self.by_referral.get(referral_id)

    async def load_for_update(self, referral_id: str, *, create: bool = False) -> Case | None:
        if create:
            self.by_referral.setdefault(referral_id, Case(referral_id))
        return self.by_referral.get(referral_id)

    async def save(self, case: Case) -> None:
        self.by_referral[case.referral_id] = case

    async def worklist(
        self, connector_id: str | None, status: WorklistStatus, *, limit: int, offset: int
    ) -> list[Case]:
        def shown(case: Case) -> bool:
            referral = self.referrals.by_id.get(case.referral_id)
            active = referral is None or referral.status == "active"
            wanted = {
                "open": active and case.status in ("assigned", "in-progress"),
                "withdrawn": not active,
                "all": True,
            }.get(status, active and case.status == status)
            return wanted and (connector_id is None or case.connector_id == connector_id)

        found = sorted(
            (c for c in self.by_referral.values() if shown(c)),
            key=lambda c: (c.holding is None, c.holding.at if c.holding else None, c.referral_id),
        )
        return found[offset : offset + limit]


class FakeTaskIndex:
    """The SQL of adapters/task_index_store.py, over the fake referrals."""

    def __init__(self, referrals: FakeReferrals) -> None:
        self.rows: dict[str, tuple[TaskStatus, datetime]] = {}
        self.referrals = referrals

    async def lock(self, referral_id: str, task_id: str) -> None:
        self.rows.setdefault(referral_id, ("requested", datetime.min.replace(tzinfo=UTC)))

    async def record(self, referral_id: str, *, status: TaskStatus, last_updated: datetime) -> None:
        self.rows[referral_id] = (status, max(self.rows[referral_id][1], last_updated))

    async def last_updated(self, referral_id: str) -> datetime | None:
        return self.rows[referral_id][1] if referral_id in self.rows else None

    async def search(
        self, query: TaskQuery, scope: ReadScope, *, limit: int, after: TaskPosition | None
    ) -> tuple[int, list[str]]:
        def matches(referral_id: str) -> bool:
            referral, (status, updated) = self.referrals.by_id[referral_id], self.rows[referral_id]
            return (
                scope.covers(referral)
                and not query.owner_is_elsewhere
                and query.referral_id in (None, referral_id)
                and (query.statuses is None or status in query.statuses)
                and all(interval.holds(updated) for interval in query.updated)
            )

        def position(referral_id: str) -> tuple[datetime, str]:
            return self.rows[referral_id][1], self.referrals.by_id[referral_id].task_id

        found = sorted((r for r in self.rows if matches(r)), key=position)
        page = [r for r in found if after is None or position(r) > (after.last_updated, after.task_id)]
        return len(found), page[:limit]

    async def unindexed(self, limit: int) -> list[str]:
        return [r for r in self.referrals.by_id if r not in self.rows][:limit]


class FakeAccessLog:
    def __init__(self) -> None:
        self.rows: list[RecordAccess] = []

    async def record(
        self, *, who: str, organisation: str | None, record: RecordKind, referral_ids: Sequence[str]
    ) -> None:
        at = datetime.now(UTC)
        self.rows.extend(RecordAccess(at, who, organisation, record, referral_id) for referral_id in referral_ids)

    async def find(self, query: AccessQuery, *, limit: int, offset: int) -> tuple[int, list[RecordAccess]]:
        found = [
            row
            for row in reversed(self.rows)
            if query.referral_id in (None, row.referral_id)
            and query.who in (None, row.who)
            and (query.since is None or row.at >= query.since)
            and (query.until is None or row.at < query.until)
        ]
        return len(found), found[offset : offset + limit]


class FakeIntakeUnit:
    """Keeps its state across uses, like the database: each test makes one and uses it for every call."""

    def __init__(self) -> None:
        self.referrals = FakeReferrals()
        self.progress = FakeProgress()
        self.cases = FakeCases(self.referrals)
        self.tasks = FakeTaskIndex(self.referrals)
        self.access_log = FakeAccessLog()
        self.events: list[EventEnvelope] = []

    def publish(self, *events: EventEnvelope) -> None:
        self.events.extend(events)
