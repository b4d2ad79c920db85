"""A BaRS message's referral, read by the very validation and mapping the REST route uses.

In a message the ServiceRequest references its Patient and requester as other Bundle entries, by fullUrl; a REST
ServiceRequest carries them in `contained`. So the entries the ServiceRequest reaches through `subject` and
`requester` (and what those reference in turn: a PractitionerRole's Organization) are contained, their
references made local, and the result goes through `validate_service_request` and `read_submission` unchanged:
one set of rules, one triage, whichever door a referral came by. Issues are then pointed back at the Bundle
entries they are about.

The sender's fullUrl of the ServiceRequest becomes one of the referral's identifiers (system urn:ietf:rfc:3986):
BaRS resends the same ServiceRequest, by the same fullUrl, when it updates or cancels the referral, so that is
how an update finds it; and a `new` sent twice is one referral, as a REST identifier sent twice is.
"""

from __future__ import annotations

import copy
import re
from dataclasses import replace
from datetime import date
from typing import Any

from referral_intake.adapters.fhir_json import Contained, JsonObject
from referral_intake.adapters.fhir_referral import read_submission
from referral_intake.adapters.fhir_requester import read_requester
from referral_intake.adapters.fhir_validation import validate_service_request
from referral_intake.adapters.outcome import FhirError, Issue
from referral_intake.bars.message import BarsMessage, Entry
from referral_intake.domain.referral import BarsOrigin, BusinessIdentifier, ReferralSubmission

URI_IDENTIFIER = "urn:ietf:rfc:3986"
_FOLLOWED = ("subject", "requester")
_MAX_CONTAINED = 10  # a Patient, a PractitionerRole, its Practitioner and Organization, with room to spare


def sender_key(message: BarsMessage) -> BusinessIdentifier:
    """The identifier the sender's ServiceRequest is known by across messages: its fullUrl."""
    return BusinessIdentifier(URI_IDENTIFIER, message.service_request.full_url)


def submission_of(
    message: BarsMessage, correlation_id: str, today: date, *, request_id_sent: bool
) -> ReferralSubmission:
    resource, contained = as_rest(message)
    try:
        validate_service_request(resource)
        submission = read_submission(resource, today, request_id_sent=request_id_sent)
    except FhirError as error:
        raise FhirError(
            [_pointed_at_bundle(issue, message.service_request, contained) for issue in error.issues]
        ) from None
    origin = BarsOrigin(message.message_id, message.source_endpoint, correlation_id, message.sender_ods)
    return replace(submission, bars=origin, channel="bars-message")


def requester_ods(message: BarsMessage) -> str | None:
    """The requesting organisation's ODS code when the message's ServiceRequest names one (an update may not)."""
    resource, _ = as_rest(message)
    if not resource.get("requester"):
        return None
    referrer = read_requester(resource, Contained(resource), [])
    return referrer.ods_code if referrer else None


def as_rest(message: BarsMessage) -> tuple[JsonObject, list[Entry]]:
    """The ServiceRequest with what it references contained, and which entry each contained resource came from."""
    resource = copy.deepcopy(message.service_request.resource)
    contained: list[Entry] = []
    local: dict[str, str] = {}
    pending = [resource.get(element) for element in _FOLLOWED]
    while pending and len(contained) < _MAX_CONTAINED:
        reference = pending.pop(0)
        url = reference.get("reference") if isinstance(reference, dict) else None
        entry = message.resolve(url)
        if entry is None or entry.full_url in local or entry is message.service_request:
            continue
        local[entry.full_url] = f"#c{len(contained)}"
        contained.append(entry)
        pending.extend(value for value in entry.resource.values() if isinstance(value, dict) and "reference" in value)
    resource["contained"] = [
        _localised({**copy.deepcopy(entry.resource), "id": local[entry.full_url][1:]}, local) for entry in contained
    ]
    if not resource["contained"]:
        del resource["contained"]
    resource = _localised(resource, local)
    resource["identifier"] = [
        *(resource.get("identifier") or []),
        {"system": URI_IDENTIFIER, "value": message.service_request.full_url},
    ]
    return resource, contained


def _localised(node: Any, local: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {
            key: (
                local.get(value, value) if key == "reference" and isinstance(value, str) else _localised(value, local)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_localised(item, local) for item in node]
    return node


_CONTAINED = re.compile(r"ServiceRequest\.contained\[(\d+)\]")


def _pointed_at_bundle(issue: Issue, service_request: Entry, contained: list[Entry]) -> Issue:
    def rewrite(text: str) -> str:
        text = _CONTAINED.sub(lambda found: contained[int(found.group(1))].path, text)
        return re.sub(r"(?<![\w.])ServiceRequest(?=\.)", service_request.path, text)

    expression = rewrite(issue.expression) if issue.expression else None
    return Issue(issue.code, rewrite(issue.diagnostics), expression, issue.status, issue.severity)
