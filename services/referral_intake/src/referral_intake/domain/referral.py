"""A referral as Signpost understands it, once the FHIR adapter has read and checked it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from referral_intake.domain.person import MAX_AGE_YEARS, age_on
from referral_intake.domain.task_outcome import Withdrawal
from signpost_contracts.events.referrals import age_band
from signpost_contracts.vocabulary import Priority, ReferrerKind, postcode_district


class AlreadyClaimedError(Exception):
    """Another referral from the same organisation already holds this X-Request-ID or one of these identifiers."""


@dataclass(frozen=True)
class BusinessIdentifier:
    """The referrer's own identifier for the referral (ServiceRequest.identifier)."""

    system: str
    value: str


@dataclass(frozen=True)
class Referrer:
    ods_code: str
    kind: ReferrerKind
    organisation_name: str | None = None
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class Person:
    birth_date: date | None = None
    postcode: str | None = None
    preferred_language: str | None = None
    interpreter_needed: bool = False


@dataclass(frozen=True)
class PersonSummary:
    """What leaves this service about the person: never a name, birth date or full address."""

    age_years: int | None
    age_band: str | None
    postcode_district: str | None
    preferred_language: str | None
    interpreter_needed: bool


@dataclass(frozen=True)
class ReferralSubmission:
    """A valid referral, ready to store. `resource` is the FHIR JSON exactly as it will be kept."""

    resource: dict[str, Any]
    referrer: Referrer
    person: Person
    nhs_number: str | None = None
    identifiers: tuple[BusinessIdentifier, ...] = ()
    needs: tuple[str, ...] = ()
    risk_flags: tuple[str, ...] = ()
    priority: Priority = "routine"
    # The ids of the referrals it says it replaces (ServiceRequest.replaces, each a ServiceRequest/<id>);
    # the use case keeps the first that is one of this organisation's referrals.
    replaces: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sender:
    """The system that sent a referral for its requester: an integration engine or hub."""

    system: str
    ods_code: str | None = None


@dataclass(frozen=True)
class StoredReferral:
    id: str
    task_id: str
    requester_ods: str
    resource: dict[str, Any]
    received_at: datetime
    last_updated: datetime
    nhs_number: str | None = None
    sender: Sender | None = None
    status: str = "active"  # ServiceRequest.status: active until its referrer withdraws it
    version: int = 1  # meta.versionId: 2 once withdrawn
    withdrawn_at: datetime | None = None
    replaces_referral_id: str | None = None

    @property
    def withdrawal(self) -> Withdrawal | None:
        if self.status in ("revoked", "entered-in-error") and self.withdrawn_at is not None:
            return Withdrawal(self.status, self.withdrawn_at)  # type: ignore[arg-type]  # checked just above
        return None


@dataclass(frozen=True)
class ReferralAccepted:
    """Domain event: a new referral was accepted at the door and stored."""

    referral_id: str
    received_at: datetime
    referrer: Referrer
    person: PersonSummary
    reference: BusinessIdentifier | None
    needs: tuple[str, ...] = field(default_factory=tuple)
    risk_flags: tuple[str, ...] = field(default_factory=tuple)
    priority: Priority = "routine"
    sender: Sender | None = None
    person_key: str | None = None
    replaces_referral_id: str | None = None


def summarise_person(person: Person, on: date) -> PersonSummary:
    age = age_on(person.birth_date, on) if person.birth_date else None
    if age is not None and not 0 <= age <= MAX_AGE_YEARS:
        age = None  # the adapter rejects such dates; never publish an impossible age
    return PersonSummary(
        age_years=age,
        age_band=age_band(age) if age is not None else None,
        postcode_district=postcode_district(person.postcode) if person.postcode else None,
        preferred_language=person.preferred_language,
        interpreter_needed=person.interpreter_needed,
    )


def accepted(submission: ReferralSubmission, stored: StoredReferral, person_key: str | None = None) -> ReferralAccepted:
    return ReferralAccepted(
        referral_id=stored.id,
        received_at=stored.received_at,
        referrer=submission.referrer,
        person=summarise_person(submission.person, stored.received_at.date()),
        reference=submission.identifiers[0] if submission.identifiers else None,
        needs=submission.needs,
        risk_flags=submission.risk_flags,
        priority=submission.priority,
        sender=stored.sender,
        person_key=person_key,
        replaces_referral_id=stored.replaces_referral_id,
    )
