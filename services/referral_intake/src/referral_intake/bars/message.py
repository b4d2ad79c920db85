"""A BaRS message Bundle read into what Signpost acts on, or refused precisely.

The checks follow the order BaRS tells a receiver to work in (the Bundle is a message whose first entry is the
MessageHeader; then its eventCoding, its reason and its focus), then the service asked for: a message for a BaRS
use case Signpost does not provide (111 to ED, 999 to CAS, community pharmacy...) is refused with 422 naming that
use case before anything else about the referral is judged. Paths in errors are FHIRPath from the Bundle.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from fhir.resources.R4B.messageheader import MessageHeader
from pydantic import ValidationError

from referral_intake.adapters.codes import ODS_ORGANISATION
from referral_intake.adapters.fhir_json import JsonObject, identifiers, same_system
from referral_intake.adapters.fhir_referral import check_scope
from referral_intake.adapters.fhir_validation import fhirpath
from referral_intake.adapters.outcome import FhirError, Issue
from signpost_contracts.events.common import URI_LIMIT

MESSAGE_EVENTS = "https://fhir.nhs.uk/CodeSystem/message-events-bars"
MESSAGE_REASONS = "https://fhir.nhs.uk/CodeSystem/message-reason-bars"
REFERRAL_REQUEST = "servicerequest-request"
HEADER = "Bundle.entry[0].resource"
Reason = Literal["new", "update", "delete"]
_REASONS: tuple[Reason, ...] = ("new", "update", "delete")
_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


@dataclass(frozen=True)
class Entry:
    index: int
    full_url: str
    resource: JsonObject

    @property
    def path(self) -> str:
        return f"Bundle.entry[{self.index}].resource"


@dataclass(frozen=True)
class BarsMessage:
    reason: Reason
    message_id: str  # Bundle.id (what BaRS responses name), else MessageHeader.id, else the urn:uuid of its entry
    source_endpoint: str
    sender_ods: str | None
    service_request: Entry  # the MessageHeader's focus
    entries: dict[str, Entry]  # every entry by fullUrl, for resolving references

    def resolve(self, reference: str | None) -> Entry | None:
        return self.entries.get(reference or "")


def read_message(data: dict[str, Any]) -> BarsMessage:
    """The message in `data` (already parsed JSON), or FhirError naming what is wrong."""
    entries = _entries(data)
    header = entries[0].resource
    _check_header_model(header)
    _check_event(header)
    reason = _reason(header)
    focus = _focus(header, {entry.full_url: entry for entry in entries})
    scope: list[Issue] = []
    check_scope(focus.resource, scope)
    if scope:
        raise FhirError([_in_bundle(issue, focus.path) for issue in scope])
    by_url = {entry.full_url: entry for entry in entries}
    return BarsMessage(
        reason=reason,
        message_id=_message_id(data, header, entries[0]),
        source_endpoint=_source_endpoint(header),
        sender_ods=_sender_ods(header, by_url),
        service_request=focus,
        entries=by_url,
    )


def _entries(data: dict[str, Any]) -> list[Entry]:
    if data.get("resourceType") != "Bundle":
        shown = data.get("resourceType")
        raise FhirError.single(
            400,
            "invalid",
            f"resourceType is {shown!r}; $process-message takes a FHIR R4 Bundle of type 'message' whose first entry "
            "is a MessageHeader (a plain ServiceRequest goes to POST /fhir/ServiceRequest)",
            "resourceType",
        )
    if data.get("type") != "message":
        raise FhirError.single(
            400,
            "value",
            f"Bundle.type is {data.get('type')!r}; a BaRS message Bundle has type 'message'",
            "Bundle.type",
        )
    raw = data.get("entry")
    if not isinstance(raw, list) or not raw:
        raise FhirError.single(
            400, "required", "Bundle.entry is missing: a message needs a MessageHeader first", "Bundle.entry"
        )
    entries, issues = [], []
    for index, entry in enumerate(raw):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        full_url = entry.get("fullUrl") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or not isinstance(full_url, str) or not full_url:
            issues.append(
                Issue(
                    "required",
                    f"Bundle.entry[{index}] needs a resource and a fullUrl (e.g. urn:uuid:<uuid>): the message's "
                    "resources reference each other by fullUrl",
                    f"Bundle.entry[{index}]",
                )
            )
            continue
        entries.append(Entry(index, full_url, resource))
    if issues:
        raise FhirError(issues)
    if entries[0].resource.get("resourceType") != "MessageHeader":
        raise FhirError.single(
            400, "invalid", "Bundle.entry[0] must be the MessageHeader (BaRS and FHIR messaging)", "Bundle.entry[0]"
        )
    return entries


def _check_header_model(header: JsonObject) -> None:
    try:
        MessageHeader.model_validate(header)
    except ValidationError as exc:
        raise FhirError(
            [
                Issue(
                    "structure",
                    f"{fhirpath(tuple(error['loc']), HEADER)}: {error['msg']}",
                    fhirpath(tuple(error["loc"]), HEADER),
                )
                for error in exc.errors()[:20]
            ]
        ) from None


def _check_event(header: JsonObject) -> None:
    event = header.get("eventCoding") or {}
    path = f"{HEADER}.eventCoding"
    if event.get("system") != MESSAGE_EVENTS:
        raise FhirError.single(
            400,
            "code-invalid",
            f"{path}.system is {event.get('system')!r}; a BaRS message's event is from {MESSAGE_EVENTS}",
            f"{path}.system",
        )
    if event.get("code") != REFERRAL_REQUEST:
        raise FhirError.single(
            422,
            "not-supported",
            f"{path}.code is {event.get('code')!r}: Signpost receives referral requests ({REFERRAL_REQUEST}) only. "
            "It does not take bookings, and it sends servicerequest-response messages rather than receiving them",
            f"{path}.code",
        )


def _reason(header: JsonObject) -> Reason:
    path = f"{HEADER}.reason"
    coding = next(
        (c for c in (header.get("reason") or {}).get("coding") or [] if c.get("system") == MESSAGE_REASONS), None
    )
    if coding is None:
        raise FhirError.single(
            400, "required", f"{path} has no coding from {MESSAGE_REASONS}; send new, update or delete", path
        )
    code = coding.get("code")
    if code not in _REASONS:
        raise FhirError.single(
            422, "not-supported", f"{path} is {code!r}; Signpost acts on new, update and delete", f"{path}.coding"
        )
    return code  # type: ignore[no-any-return]  # one of _REASONS, checked just above


def _focus(header: JsonObject, by_url: dict[str, Entry]) -> Entry:
    path = f"{HEADER}.focus"
    focus = header.get("focus") or []
    targets = [by_url.get(str(reference.get("reference") or "")) for reference in focus]
    requests = [t for t in targets if t is not None and t.resource.get("resourceType") == "ServiceRequest"]
    if len(focus) != 1 or len(requests) != 1:
        raise FhirError.single(
            400,
            "invalid",
            f"{path} must reference exactly one entry of this Bundle, the ServiceRequest, by its fullUrl "
            f"(it names {len(focus)} reference(s), {len(requests)} of them a ServiceRequest here)",
            path,
        )
    return requests[0]


def _message_id(bundle: JsonObject, header: JsonObject, entry: Entry) -> str:
    # A BaRS response names the request's Bundle.id in MessageHeader.response.identifier (the BaRS message
    # headers guidance, and the NHS examples: REFRESP01 answers REFREQ01's Bundle.id); a message without one
    # is named by its MessageHeader.id, as FHIR R4 messaging has it, else by the header entry's urn:uuid.
    found = str(
        bundle.get("id") or header.get("id") or entry.full_url.removeprefix("urn:uuid:").rstrip("/").rsplit("/", 1)[-1]
    )
    if not _FHIR_ID.match(found):
        raise FhirError.single(
            400,
            "value",
            "the message has no usable id: give the Bundle an id (a UUID), as BaRS requires, so that Signpost's "
            "responses can name the message they answer",
            f"{HEADER}.id",
        )
    return found


def _source_endpoint(header: JsonObject) -> str:
    path = f"{HEADER}.source.endpoint"
    endpoint = str((header.get("source") or {}).get("endpoint") or "")
    if not endpoint:
        raise FhirError.single(
            400,
            "required",
            f"{path} is missing: BaRS senders give the endpoint their responses go to, and Signpost replies there",
            path,
        )
    if len(endpoint) > URI_LIMIT:
        raise FhirError.single(400, "too-long", f"{path} is over {URI_LIMIT} characters", path)
    return endpoint


def _sender_ods(header: JsonObject, by_url: dict[str, Entry]) -> str | None:
    sender = header.get("sender") or {}
    identifier = sender.get("identifier") or {}
    if same_system(identifier.get("system"), ODS_ORGANISATION) and identifier.get("value"):
        return str(identifier["value"]).strip().upper()
    target = by_url.get(str(sender.get("reference") or ""))
    if target is None:
        return None
    found = next(identifiers(target.resource, ODS_ORGANISATION, target.path), None)
    return found[0].strip().upper() if found else None


def _in_bundle(issue: Issue, path: str) -> Issue:
    """An issue about the focal ServiceRequest, its paths made FHIRPath from the Bundle."""
    expression = issue.expression.replace("ServiceRequest.", f"{path}.", 1) if issue.expression else None
    return Issue(issue.code, issue.diagnostics.replace("ServiceRequest.", f"{path}.", 1), expression, issue.status)
