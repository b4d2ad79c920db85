"""A fake intake unit: the referral store and Task facts in dictionaries, events in a list."""

from __future__ import annotations

from datetime import datetime

from referral_intake.adapters.repository import stored_resource
from referral_intake.domain.referral import AlreadyClaimedError, ReferralSubmission, Sender, StoredReferral
from referral_intake.domain.task_status import ReferralProgress
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
    ) -> StoredReferral:
        ods = submission.referrer.ods_code
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
        )
        self.by_id[referral_id] = stored
        self.identifiers.update(dict.fromkeys(keys, referral_id))
        if request_id:
            self.requests[(ods, request_id)] = referral_id
        return stored

    async def find_by_identifiers(self, submission: ReferralSubmission) -> StoredReferral | None:
        ods = submission.referrer.ods_code
        for identifier in submission.identifiers:
            if (found := self.identifiers.get((ods, identifier.system, identifier.value))) is not None:
                return self.by_id[found]
        return None

    async def find_by_request(self, requester_ods: str, request_id: str) -> str | None:
        return self.requests.get((requester_ods, request_id))

    async def get(self, referral_id: str) -> StoredReferral | None:
        return self.by_id.get(referral_id)

    async def get_by_task(self, task_id: str) -> StoredReferral | None:
        return next((r for r in self.by_id.values() if r.task_id == task_id), None)


class FakeProgress:
    def __init__(self) -> None:
        self.by_referral: dict[str, ReferralProgress] = {}

    async def load_for_update(self, referral_id: str) -> ReferralProgress:
        return self.by_referral.get(referral_id, ReferralProgress())

    async def load(self, referral_id: str) -> ReferralProgress:
        return self.by_referral.get(referral_id, ReferralProgress())

    async def save(self, referral_id: str, progress: ReferralProgress) -> None:
        self.by_referral[referral_id] = progress


class FakeIntakeUnit:
    """Keeps its state across uses, like the database: each test makes one and uses it for every call."""

    def __init__(self) -> None:
        self.referrals = FakeReferrals()
        self.progress = FakeProgress()
        self.events: list[EventEnvelope] = []

    def publish(self, *events: EventEnvelope) -> None:
        self.events.extend(events)
