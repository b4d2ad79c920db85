"""Recording that a caller was shown a person's record (the access audit), and the coordinators' query of it.

Use cases call `shown` with the referrals they are about to answer with, after the access rules have
passed, inside the read's unit of work: a read that could not be recorded fails rather than answering
unrecorded. Refused and not-found reads show nothing, so they record nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from referral_intake.domain.record_access import AccessQuery, RecordAccess, RecordKind
from referral_intake.ports import IntakeWork
from signpost_runtime.auth import Principal


async def shown(unit: IntakeWork, principal: Principal, record: RecordKind, referral_ids: Iterable[str]) -> None:
    await unit.access_log.record(
        who=principal.subject,
        organisation=principal.ods_code or principal.partner_id,
        record=record,
        referral_ids=list(referral_ids),
    )


async def accesses(unit: IntakeWork, query: AccessQuery, *, limit: int, offset: int) -> tuple[int, list[RecordAccess]]:
    return await unit.access_log.find(query, limit=limit, offset=offset)
