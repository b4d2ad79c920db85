"""roster.caseloads.v1: every connector's caseload against capacity, as one event about the service."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime

from signpost_contracts import EventEnvelope, new_event
from signpost_contracts.events.triage import ConnectorCaseload, RosterCaseloads
from signpost_contracts.registry import ROSTER_CASELOADS, SERVICE_SUBJECT
from triage.adapters.events import Cause
from triage.domain.caseloads import Caseload

# A fixed namespace, so that the same figures at the same moment always make the same event id.
_NAMESPACE = uuid.UUID("6f0b7f2e-3c1a-4d8e-9a51-2b7c4e0d9f13")


def caseloads_event_id(payload: RosterCaseloads) -> str:
    """Derived from the payload: a unit retried after a failure, or the relay sending the row again, repeats
    the same id, which every consumer's inbox drops; a new check (a new `as_of`) is a new event."""
    canonical = json.dumps(payload.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return str(uuid.uuid5(_NAMESPACE, f"{ROSTER_CASELOADS.name}:{canonical}"))


def roster_caseloads_event(loads: Sequence[Caseload], at: datetime, cause: Cause) -> EventEnvelope:
    payload = RosterCaseloads(
        as_of=at,
        connectors=[
            ConnectorCaseload(
                connector_id=load.connector_id,
                kind=load.kind,
                capacity=load.capacity,
                open_cases=load.open_cases,
                taking_new_work=load.taking_new_work,
            )
            for load in loads
        ],
    )
    envelope = new_event(
        payload, subject=SERVICE_SUBJECT, correlation_id=cause.correlation_id, causation_id=cause.event_id
    )
    return envelope.model_copy(update={"id": caseloads_event_id(payload)})
