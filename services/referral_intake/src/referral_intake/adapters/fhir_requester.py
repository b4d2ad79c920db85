"""ServiceRequest.requester: the referring organisation (by ODS code) and how to reach the referrer.

Accepted shapes: requester.identifier with an ODS code; a reference to a contained Organization;
or a reference to a contained PractitionerRole whose organization carries the ODS code. A partner
organisation without an ODS code is identified the same ways with system PARTNER_ORGANISATION and
its id in the partner register; the use case then gives it the registered name, kind and contact. The
contact (email, phone) comes from the PractitionerRole's telecom, then the Organization's:
notifications write to the referrer, never to the person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from referral_intake.adapters.codes import (
    GENERAL_MEDICAL_PRACTICE,
    GP_PRACTICE_ODS_PATTERN,
    ODS_ORGANISATION,
    PARTNER_ORGANISATION,
    SNOMED,
)
from referral_intake.adapters.fhir_json import Contained, JsonObject, codings, first_telecom, identifiers, same_system
from referral_intake.adapters.outcome import Issue
from referral_intake.domain.referral import Referrer
from signpost_contracts.vocabulary import ReferrerKind

REQUESTER = "ServiceRequest.requester"
_ODS_FORMAT = re.compile(r"^[A-Z0-9]{3,10}$")
_HOW = (
    f"set {REQUESTER}.identifier (system '{ODS_ORGANISATION}', value the ODS code), or reference a contained "
    "Organization, or a contained PractitionerRole whose organization has that identifier"
)


@dataclass(frozen=True)
class _Found:
    ods: str | None
    ods_path: str
    organisation: JsonObject | None = None
    role: JsonObject | None = None
    display: str | None = None


def read_requester(resource: JsonObject, contained: Contained, issues: list[Issue]) -> Referrer | None:
    requester = resource.get("requester")
    if not requester:
        issues.append(Issue("required", f"{REQUESTER} is missing: say which organisation refers; {_HOW}", REQUESTER))
        return None
    partner = _partner_id(requester, contained)
    if partner is not None:
        # A placeholder kind: the use case replaces the whole referrer with the registered partner's.
        return Referrer(ods_code=None, kind="other", organisation_name=requester.get("display"), partner_id=partner)
    found = _find(requester, contained, issues)
    if found is None:
        return None
    if not found.ods:
        issues.append(Issue("required", f"the requesting organisation has no ODS code; {_HOW}", found.ods_path))
        return None
    ods = found.ods.strip().upper()
    if not _ODS_FORMAT.match(ods):
        issues.append(
            Issue("value", f"ODS code '{found.ods}' is not an ODS code (3 to 10 letters and digits)", found.ods_path)
        )
        return None
    return Referrer(
        ods_code=ods,
        kind=_kind(ods, found),
        organisation_name=(found.organisation or {}).get("name") or found.display,
        email=first_telecom("email", found.role, found.organisation),
        phone=first_telecom("phone", found.role, found.organisation),
    )


def _partner_id(requester: JsonObject, contained: Contained) -> str | None:
    identifier = requester.get("identifier") or {}
    if same_system(identifier.get("system"), PARTNER_ORGANISATION) and identifier.get("value"):
        return str(identifier["value"]).strip()
    target = contained.resolve(requester.get("reference"))
    if target is not None and target.type == "Organization":
        found = next(identifiers(target.resource, PARTNER_ORGANISATION, target.path), None)
        return str(found[0]).strip() if found and found[0] else None
    return None


def _find(requester: JsonObject, contained: Contained, issues: list[Issue]) -> _Found | None:
    identifier = requester.get("identifier")
    display = requester.get("display")
    if identifier and same_system(identifier.get("system"), ODS_ORGANISATION):
        organisation = _contained_organisation(requester, contained)
        return _Found(identifier.get("value"), f"{REQUESTER}.identifier.value", organisation, None, display)
    reference = requester.get("reference")
    target = contained.resolve(reference)
    if target is None:
        issues.append(_unresolved(reference, identifier))
        return None
    if target.type == "Organization":
        ods = next(identifiers(target.resource, ODS_ORGANISATION, target.path), (None, ""))[0]
        return _Found(ods, f"{target.path}.identifier", target.resource, None, display)
    if target.type == "PractitionerRole":
        return _from_role(target.resource, target.path, contained, display)
    issues.append(
        Issue(
            "invalid",
            f"{REQUESTER}.reference points to a contained {target.type}; {_HOW}",
            f"{REQUESTER}.reference",
        )
    )
    return None


def _from_role(role: JsonObject, path: str, contained: Contained, display: str | None) -> _Found:
    link = role.get("organization") or {}
    identifier = link.get("identifier") or {}
    organisation = contained.resolve(link.get("reference"))
    if same_system(identifier.get("system"), ODS_ORGANISATION):
        org = organisation.resource if organisation else None
        return _Found(identifier.get("value"), f"{path}.organization.identifier.value", org, role, display)
    if organisation is not None and organisation.type == "Organization":
        ods = next(identifiers(organisation.resource, ODS_ORGANISATION, organisation.path), (None, ""))[0]
        return _Found(ods, f"{organisation.path}.identifier", organisation.resource, role, display)
    return _Found(None, f"{path}.organization", None, role, display)


def _contained_organisation(requester: JsonObject, contained: Contained) -> JsonObject | None:
    target = contained.resolve(requester.get("reference"))
    return target.resource if target is not None and target.type == "Organization" else None


def _unresolved(reference: str | None, identifier: JsonObject | None) -> Issue:
    if identifier and not reference:
        return Issue(
            "value",
            f"{REQUESTER}.identifier.system is '{identifier.get('system')}'; expected '{ODS_ORGANISATION}'",
            f"{REQUESTER}.identifier.system",
        )
    if reference and reference.startswith("#"):
        return Issue(
            "invalid",
            f"{REQUESTER}.reference '{reference}' names no contained resource; {_HOW}",
            f"{REQUESTER}.reference",
        )
    if reference:
        return Issue(
            "not-supported",
            f"{REQUESTER}.reference '{reference}' points outside this request, which cannot be resolved here; {_HOW}",
            f"{REQUESTER}.reference",
            status=422,
        )
    return Issue("required", f"{REQUESTER} has neither an identifier nor a reference; {_HOW}", REQUESTER)


def _kind(ods: str, found: _Found) -> ReferrerKind:
    if re.match(GP_PRACTICE_ODS_PATTERN, ods):
        return "gp"
    concepts = [*((found.role or {}).get("specialty") or []), *((found.organisation or {}).get("type") or [])]
    gp_coded = any(
        c.get("system") == SNOMED and c.get("code") in GENERAL_MEDICAL_PRACTICE for c, _ in codings(concepts, "")
    )
    return "gp" if gp_coded else "other"
