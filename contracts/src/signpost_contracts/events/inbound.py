"""Events produced by referral_intake on the `inbound.replies` stream: its answer to each inbound message.

An integration engine that sends referrals on the inbound topic reads its answers here, matching each
to the message it sent by `answers` (that message's CloudEvents id and source, also the reply's
`ce_causationid` and record key). Every inbound message is answered once: accepted, with Signpost's
referral id, or refused, with the FHIR OperationOutcome the REST route would have answered.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, field_validator

from signpost_contracts.base import ContractModel
from signpost_contracts.events.common import IDENTIFIER_VALUE_LIMIT, Uri

# An OperationOutcome larger than this is cut to fewer issues by the producer (the last issue says how many
# were left out), so a refusal always fits the broker, however much was wrong with the message.
OUTCOME_LIMIT_BYTES = 16 * 1024


class AnsweredMessage(ContractModel):
    """The inbound message a reply answers, as its producer sent it (CloudEvents `id` and `source`)."""

    event_id: Annotated[str, Field(max_length=IDENTIFIER_VALUE_LIMIT)]
    source: Uri


class InboundAccepted(ContractModel):
    """An inbound referral was accepted: the referral Signpost holds for it, new or received before."""

    answers: AnsweredMessage
    accepted_at: datetime
    referral_id: str = Field(description="Signpost's id: GET /fhir/ServiceRequest/<referral_id>")
    task_id: str = Field(description="the Task that follows the referral: GET /fhir/Task/<task_id>")
    duplicate: bool = Field(
        description="true when the referral had been received before (the same ServiceRequest.identifier from the"
        " same organisation): this message made no new referral, and `referral_id` is the first one's"
    )


class InboundRefused(ContractModel):
    """An inbound message was refused and dead-lettered; nothing was stored. The OperationOutcome says why."""

    answers: AnsweredMessage
    refused_at: datetime
    status: int = Field(ge=400, le=599, description="the HTTP status the FHIR REST route answers for this problem")
    operation_outcome: dict[str, Any] = Field(
        description=f"a FHIR R4 OperationOutcome, at most {OUTCOME_LIMIT_BYTES} bytes as JSON: each issue names the"
        " element at fault (expression) and says what was expected (diagnostics)"
    )

    @field_validator("operation_outcome")
    @classmethod
    def _is_a_bounded_operation_outcome(cls, outcome: dict[str, Any]) -> dict[str, Any]:
        if outcome.get("resourceType") != "OperationOutcome":
            raise ValueError("operation_outcome must be a FHIR OperationOutcome")
        size = len(json.dumps(outcome, separators=(",", ":"), ensure_ascii=False).encode())
        if size > OUTCOME_LIMIT_BYTES:
            raise ValueError(f"operation_outcome is {size} bytes; at most {OUTCOME_LIMIT_BYTES}")
        return outcome
