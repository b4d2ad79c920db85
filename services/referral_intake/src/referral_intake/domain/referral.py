"""A referral as Signpost understands it, once the FHIR adapter has read and checked it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from referral_intake.domain.person import MAX_AGE_YEARS, age_on
from referral_intake.domain.task_outcome import Withdrawal
from signpost_contracts.events.referrals import ChannelV2, age_band
from signpost_contracts.vocabulary import Priority, ReferrerKind, postcode_district

# What a spent X-Request-ID did: created a referral, or withdrew one (a BaRS update or delete).
RequestAction = Literal["create", "withdraw"]


class AlreadyClaimedError(Exception):
    """Another referral from the same organisation already holds this X-Request-ID or one of these identifiers."""


@dataclass(frozen=True)
class BusinessIdentifier:
    """The referrer's own identifier for the referral (ServiceRequest.identifier)."""

    system: str
    value: str


# The requester key of a referral nobody's organisation sent: a person's own, from the public form or met
# through outreach. No ODS code or partner key can take this form (neither contains a colon).
SELF_REQUESTER = "self:person"


def partner_requester(partner_id: str) -> str:
    return f"partner:{partner_id}"


@dataclass(frozen=True)
class Referrer:
    """Who referred: an organisation with an ODS code, a registered partner organisation, or the person themselves."""

    ods_code: str | None
    kind: ReferrerKind
    organisation_name: str | None = None
    email: str | None = None
    phone: str | None = None
    partner_id: str | None = None  # a partner in PARTNERS_FILE (no ODS code)

    @property
    def requester(self) -> str:
        """The key the referral is held under: who may read and withdraw it, and whose identifiers and
        X-Request-IDs it is deduplicated among (stored as referrals.requester_ods)."""
        if self.ods_code is not None:
            return self.ods_code
        return partner_requester(self.partner_id) if self.partner_id is not None else SELF_REQUESTER


@dataclass(frozen=True)
class Person:
    birth_date: date | None = None
    postcode: str | None = None
    preferred_language: str | None = None
    interpreter_needed: bool = False
    # An age the person told us instead of a date of birth (the forms ask for either).
    stated_age: int | None = None


@dataclass(frozen=True)
class PersonSummary:
    """What leaves this service about the person: never a name, birth date or full address."""

    age_years: int | None
    age_band: str | None
    postcode_district: str | None
    preferred_language: str | None
    interpreter_needed: bool
    imd_decile: int | None = None  # the area's deprivation decile, looked up by the caller; never the postcode


@dataclass(frozen=True)
class BarsOrigin:
    """Where a referral sent as a BaRS message came from, so that status can go back as servicerequest-response."""

    message_id: str  # the request's Bundle.id (else MessageHeader.id): responses name it in response.identifier
    source_endpoint: str  # MessageHeader.source.endpoint: the sender's own $process-message
    correlation_id: str  # X-Correlation-ID: the conversation, echoed on every message of it
    sender_ods: str | None = None  # MessageHeader.sender's ODS code, when it names one


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
    channel: ChannelV2 = "fhir-rest"  # the door it came in by
    bars: BarsOrigin | None = None  # set when it came as a BaRS message rather than by REST


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
    channel: ChannelV2 = "fhir-rest"  # the door it came in by
    bars: BarsOrigin | None = None


def summarise_person(person: Person, on: date, imd_decile: int | None = None) -> PersonSummary:
    age = age_on(person.birth_date, on) if person.birth_date else person.stated_age
    if age is not None and not 0 <= age <= MAX_AGE_YEARS:
        age = None  # the adapter rejects such dates; never publish an impossible age
    return PersonSummary(
        age_years=age,
        age_band=age_band(age) if age is not None else None,
        postcode_district=postcode_district(person.postcode) if person.postcode else None,
        preferred_language=person.preferred_language,
        interpreter_needed=person.interpreter_needed,
        imd_decile=imd_decile,
    )


def accepted(
    submission: ReferralSubmission,
    stored: StoredReferral,
    person_key: str | None = None,
    imd_decile: int | None = None,
) -> ReferralAccepted:
    return ReferralAccepted(
        referral_id=stored.id,
        received_at=stored.received_at,
        referrer=submission.referrer,
        person=summarise_person(submission.person, stored.received_at.date(), imd_decile),
        reference=submission.identifiers[0] if submission.identifiers else None,
        needs=submission.needs,
        risk_flags=submission.risk_flags,
        priority=submission.priority,
        sender=stored.sender,
        person_key=person_key,
        replaces_referral_id=stored.replaces_referral_id,
        channel=submission.channel,
        bars=submission.bars,
    )
