"""Withdrawal by the referrer, as FHIR says it: a ServiceRequest whose status becomes revoked or entered-in-error.

Two ways in, one rule. `PATCH` with a JSON Patch (RFC 6902, `application/json-patch+json`, applied
with the `jsonpatch` library) or `PUT` of the whole resource; either way the resource it would give
is compared with the stored one, and the only difference allowed is ServiceRequest.status becoming
`revoked` or `entered-in-error` (meta.versionId and lastUpdated are the server's and are ignored).
Every other difference is a 422 naming its element. A patch that is not a JSON Patch is a 400; one
that cannot be applied to the stored resource (a path that is not there, a failed `test`) is a 422.
"""

from __future__ import annotations

import copy
import json
from typing import Any, cast

import jsonpatch
import jsonpointer

from referral_intake.adapters.outcome import FhirError, Issue
from signpost_contracts.vocabulary import WithdrawalStatus

JSON_PATCH = "application/json-patch+json"
WITHDRAWN: tuple[WithdrawalStatus, ...] = ("revoked", "entered-in-error")
_EXAMPLE = '[{"op": "replace", "path": "/status", "value": "revoked"}]'
_SERVER_META = ("versionId", "lastUpdated")


def read_patch(content_type: str | None, body: bytes) -> jsonpatch.JsonPatch:
    """The JSON Patch in the body (its size the edge has limited), or a 415 / 400 saying what to send."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type != JSON_PATCH:
        shown = f"'{media_type}'" if media_type else "no Content-Type"
        raise FhirError.single(
            415,
            "not-supported",
            f"the patch was sent as {shown}; send a JSON Patch (RFC 6902) as 'Content-Type: {JSON_PATCH}', "
            f"e.g. {_EXAMPLE} (FHIRPath Patch is not supported)",
        )
    try:
        operations = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, RecursionError, ValueError) as exc:
        raise _malformed(f"the body is not JSON ({exc})") from None
    if not isinstance(operations, list) or not all(isinstance(op, dict) for op in operations):
        raise _malformed("a JSON Patch is an array of operation objects")
    try:
        return jsonpatch.JsonPatch(operations)
    except (jsonpatch.InvalidJsonPatch, jsonpointer.JsonPointerException) as exc:
        raise _malformed(str(exc)) from None


def patched(stored: dict[str, Any], patch: jsonpatch.JsonPatch) -> dict[str, Any]:
    """The stored resource with the patch applied (to a copy)."""
    try:
        result = patch.apply(copy.deepcopy(stored))
    except jsonpatch.InvalidJsonPatch as exc:
        raise _malformed(str(exc)) from None
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
        raise FhirError.single(
            422, "processing", f"the patch cannot be applied to the stored ServiceRequest: {exc}"
        ) from None
    if not isinstance(result, dict):
        raise FhirError.single(422, "processing", "the patch replaces the whole resource; replace /status only")
    return cast(dict[str, Any], result)


def replaced(sent: dict[str, Any], referral_id: str) -> dict[str, Any]:
    """A whole ServiceRequest sent with PUT, checked to be this one: before If-Match is compared, so that a body
    that is no ServiceRequest is a 400 whatever version it names (the content is wrong whichever version is
    current)."""
    if sent.get("resourceType") != "ServiceRequest":
        raise FhirError.single(
            400, "invalid", f"resourceType is {sent.get('resourceType')!r}; send the ServiceRequest", "resourceType"
        )
    if sent.get("id") != referral_id:
        raise FhirError.single(
            400,
            "invalid",
            f"ServiceRequest.id is {sent.get('id')!r} but the URL names '{referral_id}'; an update carries the id "
            "of the resource it updates",
            "ServiceRequest.id",
        )
    return sent


def requested_withdrawal(stored: dict[str, Any], proposed: dict[str, Any]) -> WithdrawalStatus:
    """The status the change asks for, when it is a withdrawal and nothing else; a 422 naming each element if not."""
    changes = jsonpatch.make_patch(_comparable(stored), _comparable(proposed)).patch
    issues = [
        Issue(
            "business-rule",
            f"{_element(path)} differs from the stored referral: only ServiceRequest.status may change, to revoked or "
            "entered-in-error, when a referral is withdrawn; send everything else as stored",
            _element(path),
            status=422,
        )
        for path in dict.fromkeys(str(change["path"]) for change in changes if change["path"] != "/status")
    ]
    status = proposed.get("status")
    if status not in WITHDRAWN:
        issues.append(
            Issue(
                "business-rule",
                f"ServiceRequest.status would be {status!r}: a referrer withdraws a referral by setting it to "
                f"revoked or entered-in-error, e.g. with the JSON Patch {_EXAMPLE}",
                "ServiceRequest.status",
                status=422,
            )
        )
    if issues:
        raise FhirError(issues)
    return cast(WithdrawalStatus, status)


def if_match(header: str | None) -> frozenset[int] | None:
    """The versions an If-Match header accepts; None when any will do (no header, or `*`)."""
    if header is None or header.strip() == "*":
        return None
    versions: set[int] = set()
    for tag in header.split(","):
        opaque = tag.strip().removeprefix("W/")
        if len(opaque) < 2 or not (opaque.startswith('"') and opaque.endswith('"')):
            raise FhirError.single(
                400,
                "value",
                f'If-Match {header[:60]!r} is not an entity tag; send the ETag your last read answered, e.g. W/"1"',
                "If-Match",
            )
        inner = opaque[1:-1]
        versions.add(int(inner) if inner.isdigit() else -1)  # a tag this server never gave matches no version
    return frozenset(versions)


def _comparable(resource: dict[str, Any]) -> dict[str, Any]:
    meta = {k: v for k, v in (resource.get("meta") or {}).items() if k not in _SERVER_META}
    rest = {k: v for k, v in resource.items() if k != "meta"}
    return {**rest, "meta": meta} if meta else rest


def _element(pointer: str) -> str:
    """A JSON Pointer as the FHIRPath of the element it names: /note/0/text -> ServiceRequest.note[0].text."""
    path = "ServiceRequest"
    for part in jsonpointer.JsonPointer(pointer).parts:
        path += f"[{part}]" if part.isdigit() else f".{part}"
    return path


def _malformed(why: str) -> FhirError:
    return FhirError.single(400, "structure", f"the body is not a JSON Patch: {why}; send e.g. {_EXAMPLE}")
