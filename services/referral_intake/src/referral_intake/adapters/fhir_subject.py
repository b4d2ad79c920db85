"""ServiceRequest.subject: a contained Patient, or a Patient identified by NHS number."""

from __future__ import annotations

from datetime import date

from referral_intake.adapters.codes import NHS_NUMBER
from referral_intake.adapters.fhir_json import Contained, JsonObject, Located, identifiers, same_system
from referral_intake.adapters.outcome import Issue
from referral_intake.domain.nhs_number import nhs_number_problem
from referral_intake.domain.person import MAX_AGE_YEARS, age_on
from referral_intake.domain.referral import Person

SUBJECT = "ServiceRequest.subject"
_HOW = (
    f"put the Patient in 'contained' and set {SUBJECT}.reference to '#<its id>', or identify the person "
    f"with {SUBJECT}.identifier (system '{NHS_NUMBER}', value the 10-digit NHS number)"
)


def check_nhs_numbers(resource: JsonObject, contained: Contained, issues: list[Issue]) -> None:
    """Every NHS number in the request passes Modulus 11, wherever it appears."""
    found: list[tuple[str, str]] = []
    identified = (resource.get("subject") or {}).get("identifier") or {}
    if same_system(identified.get("system"), NHS_NUMBER) and identified.get("value"):
        found.append((str(identified["value"]), f"{SUBJECT}.identifier.value"))
    for located in contained.all:
        found.extend(identifiers(located.resource, NHS_NUMBER, located.path))
    for value, path in found:
        problem = nhs_number_problem(value)
        if problem:
            issues.append(Issue("value", f"{path}: {problem}", path))


def read_subject(
    resource: JsonObject, contained: Contained, today: date, issues: list[Issue]
) -> tuple[Person, str | None]:
    subject = resource.get("subject")
    if not subject:
        issues.append(Issue("required", f"{SUBJECT} is missing: say who the referral is for; {_HOW}", SUBJECT))
        return Person(), None
    patient = contained.resolve(subject.get("reference"))
    # Another kind of identifier beside a contained Patient is harmless; on its own it identifies nobody.
    identified = _identified_nhs_number(subject, issues if patient is None else [])
    if patient is None:
        if subject.get("reference") and identified is None:
            issues.append(_unresolved(subject["reference"]))
        elif identified is None and not subject.get("identifier"):
            issues.append(Issue("required", f"{SUBJECT} has neither a reference nor an identifier; {_HOW}", SUBJECT))
        return Person(), identified
    if patient.type != "Patient":
        issues.append(
            Issue(
                "invalid",
                f"{SUBJECT}.reference points to a contained {patient.type}; it must be a Patient",
                f"{SUBJECT}.reference",
            )
        )
        return Person(), identified
    own = next(identifiers(patient.resource, NHS_NUMBER, patient.path), (None, None))[0]
    if identified and own and identified != own:
        issues.append(
            Issue(
                "invalid",
                f"{SUBJECT}.identifier NHS number {identified} differs from the contained Patient's {own}; use one",
                f"{SUBJECT}.identifier",
            )
        )
    return _person(patient, today, issues), own or identified


def _identified_nhs_number(subject: JsonObject, issues: list[Issue]) -> str | None:
    identifier = subject.get("identifier")
    if not identifier:
        return None
    if not same_system(identifier.get("system"), NHS_NUMBER):
        issues.append(
            Issue(
                "value",
                f"{SUBJECT}.identifier.system is '{identifier.get('system')}'; a Patient is identified here "
                f"only by NHS number (system '{NHS_NUMBER}')",
                f"{SUBJECT}.identifier.system",
            )
        )
        return None
    value = identifier.get("value")
    if not value:
        issues.append(
            Issue(
                "required", f"{SUBJECT}.identifier.value is missing: send the NHS number", f"{SUBJECT}.identifier.value"
            )
        )
    return str(value) if value else None


def _unresolved(reference: str) -> Issue:
    if reference.startswith("#"):
        return Issue(
            "invalid",
            f"{SUBJECT}.reference '{reference}' names no contained resource; "
            f"add the Patient to 'contained' with id '{reference[1:]}'",
            f"{SUBJECT}.reference",
        )
    return Issue(
        "not-supported",
        f"{SUBJECT}.reference '{reference}' points outside this request, and this endpoint cannot resolve it; {_HOW}",
        f"{SUBJECT}.reference",
        status=422,
    )


def _person(patient: Located, today: date, issues: list[Issue]) -> Person:
    resource = patient.resource
    return Person(
        birth_date=_birth_date(resource.get("birthDate"), f"{patient.path}.birthDate", today, issues),
        postcode=_postcode(resource),
        preferred_language=preferred_language_of(resource),
        interpreter_needed=interpreter_needed(resource),
    )


def _birth_date(value: str | None, path: str, today: date, issues: list[Issue]) -> date | None:
    if not value:
        return None
    # A partial date (YYYY or YYYY-MM) is read as the middle of its range, so the age is at most a year out.
    year, month, day = [*value.split("-"), "", ""][:3]
    born = date(int(year), int(month or 7), int(day or (15 if month else 1)))
    if born > today:
        issues.append(Issue("value", f"{path} {value} is in the future; send the person's date of birth", path))
        return None
    if age_on(born, today) > MAX_AGE_YEARS:
        issues.append(
            Issue("value", f"{path} {value} gives an age over {MAX_AGE_YEARS}; check the date of birth", path)
        )
        return None
    return born


def _postcode(patient: JsonObject) -> str | None:
    addresses = [a for a in patient.get("address") or [] if a.get("postalCode")]
    home = [a for a in addresses if a.get("use") == "home"]
    chosen = (home or addresses or [None])[0]
    return str(chosen["postalCode"]) if chosen else None


def preferred_language_of(patient: JsonObject) -> str | None:
    spoken = patient.get("communication") or []
    preferred = [c for c in spoken if c.get("preferred")] or spoken
    for communication in preferred:
        for coding in (communication.get("language") or {}).get("coding") or []:
            if coding.get("code"):
                return str(coding["code"])
    return None


def interpreter_needed(patient: JsonObject) -> bool:
    # HL7's patient-interpreterRequired, or UK Core's NHSCommunication 'interpreterRequired' sub-extension.
    pending = list(patient.get("extension") or [])
    for communication in patient.get("communication") or []:
        pending.extend(communication.get("extension") or [])
    while pending:
        extension = pending.pop()
        if str(extension.get("url", "")).endswith("interpreterRequired") and extension.get("valueBoolean") is True:
            return True
        pending.extend(extension.get("extension") or [])
    return False
