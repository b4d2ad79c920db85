"""A form's answers as a referral: the domain submission the use case takes, and the FHIR R4 ServiceRequest intake
keeps for it (every referral is kept as one, so the worklist, the contact card and the Task read it as they read a
GP's). The form's answers go where a GP system would put them: the person in a contained Patient, how they would
like to be contacted in patientInstruction, what they would like help with in reasonCode, consent in a note.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from referral_intake.adapters.codes import (
    BCP47,
    INTERPRETER_REQUIRED,
    NEED_CATEGORY,
    PARTNER_ORGANISATION,
    SNOMED,
    SOCIAL_PRESCRIBING_REFERRAL,
)
from referral_intake.domain.referral import Person, ReferralSubmission, Referrer
from referral_intake.forms.choices import FIRST_CONVERSATION, HELP_WITH, LANGUAGES
from referral_intake.forms.person_form import PersonDetails
from signpost_contracts.events.referrals import ChannelV2

PATIENT_ID = "person"


@dataclass(frozen=True)
class Consent:
    """What the person agreed to, as the form recorded it, and by whose word."""

    to_contact: bool
    tell_gp: bool
    recorded_by: str  # "the person, on the self-referral form", "Sam Jones of Leeds Mind", ...


def form_submission(
    person: PersonDetails,
    referrer: Referrer,
    channel: ChannelV2,
    consent: Consent,
    now: datetime,
    *,
    notes: tuple[str, ...] = (),
) -> ReferralSubmission:
    return ReferralSubmission(
        resource=_service_request(person, referrer, consent, now, notes),
        referrer=referrer,
        person=Person(
            birth_date=person.birth_date,
            postcode=person.postcode,
            preferred_language=person.language,
            interpreter_needed=person.interpreter,
            stated_age=person.stated_age,
        ),
        needs=person.needs,
        channel=channel,
    )


def _service_request(
    person: PersonDetails, referrer: Referrer, consent: Consent, now: datetime, notes: tuple[str, ...]
) -> dict[str, Any]:
    reasons: list[dict[str, Any]] = [
        {"coding": [{"system": NEED_CATEGORY, "code": need}], "text": HELP_WITH[need]} for need in person.needs
    ]
    if person.other_help:
        reasons.append({"text": person.other_help})
    consent_notes = [
        f"Consent to be contacted: given ({consent.recorded_by}).",
        "Their GP may be told about this referral"
        + (f" (practice: {person.gp_practice})." if person.gp_practice else ".")
        if consent.tell_gp
        else "Their GP is not to be told about this referral.",
    ]
    if person.stated_age is not None:
        consent_notes.append(f"Age given instead of a date of birth: {person.stated_age}.")
    return {
        "resourceType": "ServiceRequest",
        "status": "active",
        "intent": "order",
        "code": {
            "coding": [
                {
                    "system": SNOMED,
                    "code": SOCIAL_PRESCRIBING_REFERRAL,
                    "display": "Referral to social prescribing service",
                }
            ]
        },
        "contained": [_patient(person)],
        "subject": {"reference": f"#{PATIENT_ID}"},
        "requester": _requester(referrer),
        "authoredOn": now.isoformat(),
        "reasonCode": reasons,
        "patientInstruction": _instruction(person),
        "note": [{"text": text} for text in (*notes, *consent_notes)],
    }


def _patient(person: PersonDetails) -> dict[str, Any]:
    telecom = [{"system": "phone", "value": person.phone, "rank": 1}] if person.phone else []
    telecom += [{"system": "email", "value": person.email, "rank": 2}] if person.email else []
    communication: dict[str, Any] = {
        "language": {"coding": [{"system": BCP47, "code": person.language}], "text": LANGUAGES[person.language]},
        "preferred": True,
    }
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "id": PATIENT_ID,
        "name": [{"use": "usual", "text": person.name}],
        "telecom": telecom,
        "address": [{"use": "home", "postalCode": person.postcode}],
        "communication": [communication],
    }
    if person.birth_date is not None:
        patient["birthDate"] = person.birth_date.isoformat()
    if person.interpreter:
        patient["extension"] = [{"url": INTERPRETER_REQUIRED, "valueBoolean": True}]
    return patient


def _requester(referrer: Referrer) -> dict[str, Any]:
    if referrer.partner_id is not None:
        identifier = {"system": PARTNER_ORGANISATION, "value": referrer.partner_id}
        return {"identifier": identifier, "display": referrer.organisation_name}
    return {"reference": f"#{PATIENT_ID}", "display": "The person themselves"}


def _instruction(person: PersonDetails) -> str:
    parts = [f"First conversation: {FIRST_CONVERSATION[person.first_conversation].lower()}."]
    if person.contact_times:
        parts.append(f"Good times to get in touch: {person.contact_times}.")
    if person.interpreter:
        parts.append(f"Would like an interpreter ({LANGUAGES[person.language]}).")
    return " ".join(parts)
