"""`make demo`'s casework: every step it takes is a request the case API accepts, and a case reaches closure."""

from __future__ import annotations

import random
from typing import Any

import pytest
from pydantic import BaseModel

from referral_intake.cases.requests import (
    ClosureRequest,
    ContactRequest,
    GoalsRequest,
    MeasuresRequest,
    SessionRequest,
)
from signpost_devstack.casework import next_step

pytestmark = pytest.mark.unit

REQUESTS: dict[str, type[BaseModel]] = {
    "contacts": ContactRequest,
    "goals": GoalsRequest,
    "measures": MeasuresRequest,
    "sessions": SessionRequest,
    "closure": ClosureRequest,
}


def _fresh_case(referral_id: str) -> dict[str, Any]:
    return {
        "referral_id": referral_id,
        "reached": False,
        "goals": [],
        "measures": {},
        "sessions_used": 0,
        "session_allowance": 6,
    }


def _apply(case: dict[str, Any], action: str, body: dict[str, Any]) -> None:
    """What the case API would record, as far as next_step looks."""
    if action == "contacts" and body["outcome"] == "reached":
        case["reached"] = True
    elif action == "goals":
        case["goals"] = body["goals"]
    elif action == "measures":
        case["measures"][body["stage"]] = body
    elif action == "sessions":
        case["sessions_used"] += 1
    elif action in ("closure",) or body.get("outcome") == "declined":
        case["closed"] = True


@pytest.mark.parametrize("seed", range(20))
def test_each_step_is_a_valid_request_and_every_case_ends_closed(seed):
    rng = random.Random(seed)
    case = _fresh_case(f"00000000-0000-4000-8000-00000000000{seed % 10}")
    actions = []
    for _ in range(60):
        step = next_step(case, rng)
        assert step is not None
        method, action, body = step
        REQUESTS[action].model_validate(body)  # raises if the case API would refuse the body's shape
        assert method == ("PUT" if action == "goals" else "POST")
        actions.append(action)
        _apply(case, action, body)
        if case.get("closed"):
            break
    assert case.get("closed"), actions
    if actions[-1] == "closure":
        assert actions.index("goals") < actions.index("sessions") < actions.index("closure")
        assert case["sessions_used"] <= case["session_allowance"]
        assert {"baseline", "closing"} <= set(case["measures"])
