"""The answers on the replies topic: an acknowledgement with Signpost's ids, or the refusal's OperationOutcome.

Each is keyed by, and caused by (`ce_causationid`), the id of the inbound message it answers, and carries
that message's correlation id, so a producer can match every answer to what it sent.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from typing import Any

from referral_intake.adapters.outcome import FhirError, Issue, operation_outcome
from referral_intake.domain.referral import StoredReferral
from signpost_contracts import EventEnvelope, new_event
from signpost_contracts.events.common import IDENTIFIER_VALUE_LIMIT, TEXT_LIMIT, URI_LIMIT, clip
from signpost_contracts.events.inbound import OUTCOME_LIMIT_BYTES, AnsweredMessage, InboundAccepted, InboundRefused


def accepted(message: EventEnvelope, referral: StoredReferral, *, duplicate: bool, at: datetime) -> EventEnvelope:
    payload = InboundAccepted(
        answers=_answers(message),
        accepted_at=at,
        referral_id=referral.id,
        task_id=referral.task_id,
        duplicate=duplicate,
    )
    return _reply(payload, message)


def refused(message: EventEnvelope, error: FhirError, *, at: datetime) -> EventEnvelope:
    payload = InboundRefused(
        answers=_answers(message), refused_at=at, status=error.status, operation_outcome=bounded_outcome(error)
    )
    return _reply(payload, message)


def bounded_outcome(error: FhirError) -> dict[str, Any]:
    """The OperationOutcome of `error`, with as many of its issues as fit OUTCOME_LIMIT_BYTES and a note of the rest."""
    issues = [
        replace(issue, diagnostics=clip(issue.diagnostics, TEXT_LIMIT) or "", expression=clip(issue.expression, 500))
        for issue in error.issues
    ]
    kept = len(issues)
    while True:
        left_out = len(issues) - kept
        note = Issue(
            "too-costly",
            f"{left_out} more problem(s) were left out to keep this refusal small; fix these and send again",
            severity="information",
        )
        outcome = operation_outcome(issues[:kept] + ([note] if left_out else []), error.status)
        if kept == 0 or len(json.dumps(outcome, ensure_ascii=False).encode()) <= OUTCOME_LIMIT_BYTES:
            return outcome
        kept -= 1


def _answers(message: EventEnvelope) -> AnsweredMessage:
    # Values the producer chose: cut to the contract's limits (a producer's own ids are far shorter).
    return AnsweredMessage(
        event_id=clip(message.id, IDENTIFIER_VALUE_LIMIT) or "", source=clip(message.source, URI_LIMIT) or ""
    )


def _reply(payload: InboundAccepted | InboundRefused, message: EventEnvelope) -> EventEnvelope:
    answered = payload.answers.event_id
    return new_event(
        payload, subject=answered, correlation_id=clip(message.correlationid, 200) or answered, causation_id=answered
    )
