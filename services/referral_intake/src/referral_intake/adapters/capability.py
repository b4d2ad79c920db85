"""GET /fhir/metadata: what this FHIR endpoint does, as an R4 CapabilityStatement."""

from __future__ import annotations

from datetime import date
from typing import Any

from fhir.resources.R4B.capabilitystatement import CapabilityStatement

SERVICE_REQUEST_PROFILE = "http://hl7.org/fhir/StructureDefinition/ServiceRequest"


_PROCESS_MESSAGE = (
    "BaRS message Bundles whose MessageHeader.eventCoding is servicerequest-request "
    "(https://fhir.nhs.uk/CodeSystem/message-events-bars), reason new (a social prescribing referral: the focal "
    "ServiceRequest and the Patient and requester it references, by fullUrl), update (the ServiceRequest now revoked "
    "or entered-in-error: a withdrawal) or delete (entered in error). X-Request-ID and X-Correlation-ID are required "
    "and echoed; a repeated X-Request-ID is 409 duplicate. A message for another BaRS use case is 422 naming it. The "
    "200 answer is a response message (MessageHeader.response.code ok) whose focus is Signpost's ServiceRequest."
)


def capability_statement(base_url: str, version: str) -> dict[str, Any]:
    statement = CapabilityStatement.model_validate(
        {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": date.today().isoformat(),
            "publisher": "Signpost",
            "kind": "instance",
            "software": {"name": "Signpost referral_intake", "version": version},
            "implementation": {
                "description": "Signpost referral intake: social prescribing referrals",
                "url": f"{base_url}/fhir",
            },
            "fhirVersion": "4.0.1",
            "format": ["application/fhir+json", "json"],
            "rest": [
                {
                    "mode": "server",
                    "documentation": "Send social prescribing referrals as ServiceRequests; follow each by its Task.",
                    "security": {
                        "service": [
                            {
                                "coding": [
                                    {
                                        "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                        "code": "OAuth",
                                    }
                                ]
                            }
                        ],
                        "description": (
                            "OAuth2 bearer tokens (signed JWT). POST, PUT and PATCH need scope referrals:write (or "
                            "referrals:write-on-behalf); reads need referrals:read and show only the caller's "
                            "organisation (the token's 'ods' claim) unless the token has referrals:read-all. "
                            "/fhir/metadata needs no token."
                        ),
                    },
                    "resource": [_service_request(), _task()],
                    "operation": [
                        {
                            "name": "process-message",
                            "definition": "http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message",
                            "documentation": _PROCESS_MESSAGE,
                        }
                    ],
                }
            ],
            # BaRS: referral requests arrive as messages on $process-message, answered synchronously.
            "messaging": [
                {
                    "endpoint": [
                        {
                            "protocol": {
                                "system": "http://terminology.hl7.org/CodeSystem/message-transport",
                                "code": "http",
                            },
                            "address": f"{base_url}/fhir/$process-message",
                        }
                    ],
                    "documentation": _PROCESS_MESSAGE,
                    "supportedMessage": [
                        {
                            "mode": "receiver",
                            "definition": "https://fhir.nhs.uk/MessageDefinition/bars-message-servicerequest-request-referral",
                        }
                    ],
                }
            ],
        }
    )
    result: dict[str, Any] = statement.model_dump(mode="json", by_alias=True, exclude_none=True)
    return result


def _service_request() -> dict[str, Any]:
    return {
        "type": "ServiceRequest",
        "profile": SERVICE_REQUEST_PROFILE,
        "documentation": (
            "subject: a contained Patient or an NHS number; requester: an organisation with an ODS code; "
            "code, when present: SNOMED CT 871731000000106. Each POST carries an identifier or an "
            "X-Request-ID header (a UUID): a repeated identifier returns the existing referral, a repeated "
            "X-Request-ID is answered 409 duplicate. update (PUT of the whole resource) and patch (a JSON Patch, "
            "application/json-patch+json) withdraw an active referral: status becomes revoked or entered-in-error, "
            "and nothing else may change (422 naming the element); a referral that is not active is answered 409. "
            "If-Match is honoured when sent (a stale ETag is 412); a withdrawn referral is version 2. "
            "ServiceRequest.replaces may name an earlier referral of the same organisation (ServiceRequest/<id>); "
            "any other reference there is ignored. Conditional create: If-None-Exist takes identifier "
            "(system|value); one match is answered 200 with it and nothing stored, more than one 412, and a match "
            "among the requester's referrals that the caller may not read 412 naming none. Searches show only "
            "referrals the caller may read; unsupported parameters are 400 unless Prefer: handling=lenient."
        ),
        "interaction": [
            {"code": "create"},
            {"code": "read"},
            {"code": "update"},
            {"code": "patch"},
            {"code": "search-type"},
        ],
        # meta.versionId and the ETag follow each version; an update or patch takes If-Match when it is sent.
        "versioning": "versioned-update",
        "readHistory": False,
        "updateCreate": False,
        "conditionalCreate": True,
        "conditionalUpdate": False,
        "searchParam": [
            {
                "name": "identifier",
                "definition": "http://hl7.org/fhir/SearchParameter/clinical-identifier",
                "type": "token",
                "documentation": "system|value, value (any system), |value or system|; ',' is OR",
            }
        ],
    }


def _task() -> dict[str, Any]:
    return {
        "type": "Task",
        "documentation": (
            "One Task per referral (Gravity SDOH referral management), kept current as the referral is triaged, "
            "assigned, supported and closed: requested, accepted, in-progress, completed (outputs: goals, sessions "
            "used, UCLA-3 and ONS4 at baseline and closing, onward connections), or rejected, failed, cancelled, "
            "entered-in-error, each with statusReason. Search pages are in meta.lastUpdated order (oldest change "
            "first), _count Tasks each (default 50, at most 100), with a next link: poll with _lastUpdated=ge<the "
            "start of your last poll, less a minute>, as a change is stamped just before its transaction commits. "
            "Only the caller's organisation's Tasks, unless referrals:read-all."
        ),
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        # A Task changes as the referral moves on, but is derived afresh on each read: it has no versionId.
        # meta.lastUpdated is when intake recorded its latest change (the task index), what _lastUpdated searches.
        "versioning": "no-version",
        "searchParam": [
            {
                "name": "focus",
                "definition": "http://hl7.org/fhir/SearchParameter/Task-focus",
                "type": "reference",
                "documentation": "ServiceRequest/<id>: the Task following that referral",
            },
            {
                "name": "owner",
                "definition": "http://hl7.org/fhir/SearchParameter/Task-owner",
                "type": "reference",
                "documentation": (
                    "Only with the :identifier modifier (Task.owner carries an identifier, not a reference): every "
                    "Task is owned by this service, https://signpost.dev/fhir/Id/service|signpost-community-connectors"
                ),
            },
            {
                "name": "status",
                "definition": "http://hl7.org/fhir/SearchParameter/Task-status",
                "type": "token",
                "documentation": "Task status codes; ',' is OR",
            },
            {
                "name": "_lastUpdated",
                "definition": "http://hl7.org/fhir/SearchParameter/Resource-lastUpdated",
                "type": "date",
                "documentation": "Prefixes eq, gt, ge, lt, le; any precision (a date is a UTC day); repeated, AND",
            },
        ],
    }
