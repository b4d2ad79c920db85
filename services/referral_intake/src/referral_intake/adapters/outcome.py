"""FHIR OperationOutcome errors, shaped like the NHS BaRS receiver (`REC_*`) examples.

Every error names the element at fault (`issue.expression`, a FHIRPath) and says in
`diagnostics` what was expected and what to do about it. The details coding is spelt exactly as
in NHS England's published BaRS examples (system `.../Codesystem/http-error-codes`, a `REC_*`
code and no display), because BaRS senders match on those strings.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from fhir.resources.R4B.operationoutcome import OperationOutcome

FHIR_JSON = "application/fhir+json"
MAX_ISSUES = 50  # a hostile body could otherwise ask for an answer as large as itself
# Lower-case 's' in 'Codesystem': that is how every BaRS receiver example spells it.
HTTP_ERROR_CODES = "https://fhir.nhs.uk/Codesystem/http-error-codes"
UK_CORE_OPERATION_OUTCOME = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-OperationOutcome"

# The NHS http-error-codes CodeSystem has no codes of its own for 413 and 415, so those travel
# as REC_BAD_REQUEST with issue codes `too-long` and `not-supported` saying which.
ERROR_CODES = {
    400: "REC_BAD_REQUEST",
    401: "REC_UNAUTHORIZED",
    403: "REC_FORBIDDEN",
    404: "REC_NOT_FOUND",
    405: "REC_METHOD_NOT_ALLOWED",
    406: "REC_NOT_ACCEPTABLE",
    409: "REC_CONFLICT",
    412: "REC_CONFLICT",  # no code of its own: a stale If-Match conflicts with the current version
    413: "REC_BAD_REQUEST",
    415: "REC_BAD_REQUEST",
    422: "REC_UNPROCESSABLE_ENTITY",
    500: "REC_SERVER_ERROR",
    503: "REC_SERVICE_UNAVAILABLE",
}


@dataclass(frozen=True)
class Issue:
    """One problem. `code` is a FHIR issue-type (invalid, required, value, not-supported, ...)."""

    code: str
    diagnostics: str
    expression: str | None = None
    status: int = 400
    severity: str = "error"


class FhirError(Exception):
    """Answer the request with an OperationOutcome; raised anywhere a FHIR request is handled."""

    def __init__(self, issues: list[Issue] | Issue, status: int | None = None) -> None:
        issues = issues if isinstance(issues, list) else [issues]
        # Several problems at once: a malformed request (400) outranks a well-formed one we cannot act on (422).
        self.status = status or min(issue.status for issue in issues)
        self.issues = issues[:MAX_ISSUES]
        if len(issues) > MAX_ISSUES:
            more = f"{len(issues) - MAX_ISSUES} more problems like these were found; fix these and send again"
            self.issues.append(Issue("too-costly", more, severity="information", status=self.status))
        super().__init__("; ".join(issue.diagnostics for issue in self.issues))

    @classmethod
    def single(cls, status: int, code: str, diagnostics: str, expression: str | None = None) -> FhirError:
        return cls(Issue(code, diagnostics, expression, status), status)


def error_code(status: int) -> str:
    return ERROR_CODES.get(status, "REC_SERVER_ERROR" if status >= 500 else "REC_BAD_REQUEST")


def operation_outcome(issues: list[Issue], status: int) -> dict[str, Any]:
    details = {"coding": [{"system": HTTP_ERROR_CODES, "code": error_code(status)}]}
    outcome = OperationOutcome(
        id=str(uuid.uuid4()),
        meta={"profile": [UK_CORE_OPERATION_OUTCOME]},
        issue=[
            {
                "severity": issue.severity,
                "code": issue.code,
                "details": details,
                "diagnostics": issue.diagnostics,
                **({"expression": [issue.expression]} if issue.expression else {}),
            }
            for issue in issues
        ],
    )
    result: dict[str, Any] = outcome.model_dump(mode="json", by_alias=True, exclude_none=True)
    return result
