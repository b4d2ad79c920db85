"""Erasing a person's identifiers: at intake in the caller's unit of work, and everywhere else by the event.

`erase_referral` erases one referral's and its case's identifiers and announces referral.erased.v1, which
notifications (addresses, messages) and triage (the person's key) act on, with the tombstone of the referral's
key on the compacted contacts stream, so the broker forgets a self-referrer's own address too; reporting holds
no identifiers and keeps counting. It is the one step both the person's request (`erase_person`) and the
retention purge (`purge_closed_before`, run by retention.py) take, so the two can never differ in what they
leave behind.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from referral_intake.adapters.events import person_contact_erased
from referral_intake.domain.erasure import erased_case, erased_resource
from referral_intake.ports import IntakeWork
from signpost_contracts import new_event
from signpost_contracts.events.erasure import ErasureReason, ReferralErased

log = logging.getLogger(__name__)


class PersonNotFound(Exception):  # noqa: N818 (an answer, not a fault)
    """No referral of that id, nor any holding that NHS number."""


class Erasures(Protocol):
    async def referrals_of_person(
        self, *, referral_id: str | None = None, nhs_number: str | None = None
    ) -> list[str]: ...

    async def closed_before(self, cutoff: datetime, limit: int) -> list[str]: ...

    async def erased_at(self, referral_id: str) -> datetime | None: ...

    async def resource(self, referral_id: str) -> dict[str, Any]: ...

    async def erase(self, referral_id: str, resource: dict[str, Any], now: datetime) -> None: ...


class ErasureWork(IntakeWork, Protocol):
    @property
    def erasure(self) -> Erasures: ...


@dataclass(frozen=True)
class PersonErased:
    erased: list[str]  # referral ids erased now
    already_erased: list[str]  # erased before: nothing more to do, nothing announced again


async def erase_referral(
    unit: ErasureWork, referral_id: str, *, now: datetime, because: ErasureReason, correlation_id: str
) -> bool:
    """Erase one referral's identifiers and its case's free text, and announce it; False if it already was.

    The caller holds the referral's row lock (referrals_of_person), so two erasures of one referral cannot
    both announce it.
    """
    if await unit.erasure.erased_at(referral_id) is not None:
        return False
    await unit.erasure.erase(referral_id, erased_resource(await unit.erasure.resource(referral_id)), now)
    case = await unit.cases.load_for_update(referral_id)
    if case is not None:
        await unit.cases.save(erased_case(case))
    payload = ReferralErased(referral_id=referral_id, erased_at=now, because=because)
    unit.publish(
        new_event(payload, subject=referral_id, correlation_id=correlation_id),
        person_contact_erased(referral_id, correlation_id),
    )
    return True


async def purge_closed_before(unit: ErasureWork, cutoff: datetime, *, now: datetime, limit: int = 100) -> list[str]:
    """Retention: erase up to `limit` referrals whose case closed before `cutoff`; the ids erased."""
    purged = [
        referral_id
        for referral_id in await unit.erasure.closed_before(cutoff, limit)
        if await erase_referral(unit, referral_id, now=now, because="retention", correlation_id=referral_id)
    ]
    if purged:
        log.info("retention: erased the identifiers of %d referral(s) closed before %s", len(purged), cutoff)
    return purged


class ErasureService:
    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.clock = clock or (lambda: datetime.now(UTC))

    async def erase_person(
        self,
        unit: ErasureWork,
        *,
        referral_id: str | None = None,
        nhs_number: str | None = None,
        by: str,
        correlation_id: str | None = None,
    ) -> PersonErased:
        """Erase every referral of the person one of their referrals, or their NHS number, names.

        Raises PersonNotFound when there is none: an NHS number already erased is no longer known here.
        """
        number = "".join(nhs_number.split()) if nhs_number else None
        referrals = await unit.erasure.referrals_of_person(referral_id=referral_id, nhs_number=number)
        if not referrals:
            raise PersonNotFound
        now = self.clock()
        erased: list[str] = []
        already: list[str] = []
        for each in referrals:
            done = await erase_referral(unit, each, now=now, because="request", correlation_id=correlation_id or each)
            (erased if done else already).append(each)
        # The ids only: a log line naming what was erased would keep it.
        log.info("erased the identifiers of referral(s) %s at the request of %s", ", ".join(erased) or "-", by)
        return PersonErased(erased, already)
