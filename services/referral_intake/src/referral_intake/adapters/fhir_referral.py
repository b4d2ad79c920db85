"""A structurally valid R4 ServiceRequest, read into a Signpost referral or rejected precisely.

All problems are collected and returned together, so a sender fixes them in one round.
"""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

from referral_intake.adapters.codes import (
    ACCEPTED_SERVICE_CODES,
    BARS_USE_CASES,
    NEED_CATEGORIES,
    NEED_CATEGORY,
    RISK_FLAG,
    RISK_FLAGS,
    SNOMED,
    SNOMED_NEEDS,
    SNOMED_RISKS,
    SOCIAL_PRESCRIBING_REFERRAL,
)
from referral_intake.adapters.fhir_json import Contained, JsonObject, codings
from referral_intake.adapters.fhir_requester import read_requester
from referral_intake.adapters.fhir_subject import check_nhs_numbers, read_subject
from referral_intake.adapters.outcome import FhirError, Issue
from referral_intake.domain.referral import BusinessIdentifier, ReferralSubmission
from signpost_contracts.events.common import IDENTIFIER_VALUE_LIMIT

_SCOPE = (
    f"Signpost takes social prescribing referrals only: ServiceRequest.code, when sent, must include "
    f"system '{SNOMED}' code '{SOCIAL_PRESCRIBING_REFERRAL}' (Referral to social prescribing service). "
    "Send other referrals to the service that provides them"
)

# Without a key that a retry repeats, a request resent after a timeout is a second referral and the
# person is triaged and contacted twice.
_NO_RETRY_KEY = Issue(
    "required",
    "ServiceRequest.identifier has no value and no X-Request-ID header was sent. Without either, a request "
    "retried after a timeout cannot be told from a second referral, and the person would be referred "
    "twice. Send your own reference for this referral as ServiceRequest.identifier (system: a URI of "
    "your organisation, value: your reference; resending it returns the first referral), or a new UUID "
    "as the X-Request-ID header (sent again unchanged on a retry, it is answered 409 duplicate)",
    "ServiceRequest.identifier",
)


def read_submission(data: dict[str, Any], today: date, *, request_id_sent: bool = False) -> ReferralSubmission:
    issues: list[Issue] = []
    contained = Contained(data)
    identifiers = _identifiers(data, issues)
    if not identifiers and not request_id_sent:
        issues.append(_NO_RETRY_KEY)
    _check_status(data, issues)
    check_scope(data, issues)
    check_nhs_numbers(data, contained, issues)
    person, nhs_number = read_subject(data, contained, today, issues)
    referrer = read_requester(data, contained, issues)
    needs, risk_flags = _reasons(data, issues)
    if issues or referrer is None:
        raise FhirError(issues)
    return ReferralSubmission(
        resource=_as_stored(data),
        referrer=referrer,
        person=person,
        nhs_number=nhs_number,
        identifiers=identifiers,
        needs=needs,
        risk_flags=risk_flags,
        priority=data.get("priority") or "routine",
        replaces=_replaced(data),
    )


def _replaced(data: JsonObject) -> tuple[str, ...]:
    """The referral ids ServiceRequest.replaces names: `ServiceRequest/<id>`, relative or as a full URL (a version
    suffix `/_history/<n>` aside). Other references are not Signpost referrals; the use case checks the ids."""
    found: list[str] = []
    for reference in data.get("replaces") or []:
        parts = str(reference.get("reference") or "").split("/")
        if "_history" in parts:
            parts = parts[: parts.index("_history")]
        if len(parts) >= 2 and parts[-2] == "ServiceRequest" and parts[-1]:
            found.append(parts[-1])
    return tuple(dict.fromkeys(found))


def _check_status(data: JsonObject, issues: list[Issue]) -> None:
    if data.get("status") != "active":
        issues.append(
            Issue(
                "business-rule",
                f"ServiceRequest.status is '{data.get('status')}'; a new referral must be 'active'",
                "ServiceRequest.status",
                status=422,
            )
        )


def check_scope(data: JsonObject, issues: list[Issue]) -> None:
    """Refuse (422) a ServiceRequest for another service: its SNOMED code, or a BaRS use case in its category."""
    code = data.get("code")
    if code:
        accepted = any(
            c.get("system") == SNOMED and c.get("code") in ACCEPTED_SERVICE_CODES for c, _ in codings([code], "")
        )
        if not accepted:
            shown = ", ".join(f"{c.get('system')}|{c.get('code')}" for c, _ in codings([code], "")) or repr(
                code.get("text")
            )
            issues.append(
                Issue("not-supported", f"ServiceRequest.code is {shown}. {_SCOPE}", "ServiceRequest.code", 422)
            )
    for coding, path in codings(data.get("category"), "ServiceRequest.category"):
        if coding.get("system") == BARS_USE_CASES:
            use_case = f"'{coding.get('code')}' ({coding.get('display') or 'no display'})"
            issues.append(
                Issue(
                    "not-supported", f"{path} is the BaRS use case {use_case}, a different service. {_SCOPE}", path, 422
                )
            )


def _reasons(data: JsonObject, issues: list[Issue]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    needs: list[str] = []
    risks: list[str] = []
    for coding, path in codings(data.get("reasonCode"), "ServiceRequest.reasonCode"):
        system, code = coding.get("system"), coding.get("code")
        if system == NEED_CATEGORY:
            _collect(code, NEED_CATEGORIES, needs, f"{path}.code", "need category", issues)
        elif system == RISK_FLAG:
            _collect(code, RISK_FLAGS, risks, f"{path}.code", "risk flag", issues)
        elif system == SNOMED and code in SNOMED_NEEDS and SNOMED_NEEDS[code] not in needs:
            needs.append(SNOMED_NEEDS[code])
        elif system == SNOMED and code in SNOMED_RISKS and SNOMED_RISKS[code] not in risks:
            risks.append(SNOMED_RISKS[code])
    return tuple(needs), tuple(risks)


def _collect(
    code: str | None, allowed: tuple[str, ...], into: list[str], path: str, what: str, issues: list[Issue]
) -> None:
    if code not in allowed:
        issues.append(
            Issue("code-invalid", f"{path} '{code}' is not a Signpost {what}; use one of: {', '.join(allowed)}", path)
        )
    elif code not in into:
        into.append(code)


# Identifiers are the key a retry is recognised by, stored in a unique index: bounded in bytes so that
# no identifier can exceed what a PostgreSQL index entry holds (about 2.7 kB).
IDENTIFIER_SYSTEM_MAX_BYTES = 1024
IDENTIFIER_VALUE_MAX_BYTES = 1024


def _identifiers(data: JsonObject, issues: list[Issue]) -> tuple[BusinessIdentifier, ...]:
    found: list[BusinessIdentifier] = []
    for index, identifier in enumerate(data.get("identifier") or []):
        path = f"ServiceRequest.identifier[{index}]"
        system, value = str(identifier.get("system") or ""), identifier.get("value")
        if value is None:
            continue  # an identifier with only a system or type identifies nothing; harmless
        if not str(value).strip():
            issues.append(
                Issue("value", f"{path}.value is blank; send your reference for this referral, or leave it out", path)
            )
            continue
        value = str(value)
        if len(value) > IDENTIFIER_VALUE_LIMIT or len(value.encode()) > IDENTIFIER_VALUE_MAX_BYTES:
            issues.append(_too_long(f"{path}.value", len(value), f"{IDENTIFIER_VALUE_LIMIT} characters"))
        elif len(system.encode()) > IDENTIFIER_SYSTEM_MAX_BYTES:
            issues.append(_too_long(f"{path}.system", len(system), f"{IDENTIFIER_SYSTEM_MAX_BYTES} bytes"))
        else:
            found.append(BusinessIdentifier(system, value))
    return tuple(dict.fromkeys(found))  # one identifier sent twice is still one


def _too_long(path: str, length: int, limit: str) -> Issue:
    return Issue("too-long", f"{path} is {length} characters long; at most {limit} are accepted", path)


def _as_stored(data: JsonObject) -> JsonObject:
    # On create the server assigns id and meta (FHIR RESTful API, 3.1.0.5.1); what the client sent there is dropped.
    stored = copy.deepcopy(data)
    stored.pop("id", None)
    meta = {k: v for k, v in (stored.pop("meta", None) or {}).items() if k in ("profile", "security", "tag")}
    if meta:
        stored["meta"] = meta
    return stored
