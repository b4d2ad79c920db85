"""What triage's read API shows: the policy, the roster with its open cases, the waitlist, one decision."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from signpost_contracts.vocabulary import Scope
from signpost_runtime.auth import Principal
from triage.domain.policy import Policy
from triage.ports import TriageWork

log = logging.getLogger(__name__)


def policy_view(policy: Policy, source: str) -> dict[str, Any]:
    return {"version": policy.version, "source": source, "policy": policy.model_dump(mode="json")}


async def roster_view(unit: TriageWork, reader: Principal) -> dict[str, Any]:
    """Each connector with its room for new work and its open cases; the open cases of a connector who takes
    no new work (on leave, left, or no longer in the roster file) are marked as needing reassignment.

    The open cases are referrals of every organisation, so they are listed only to staff holding READ_ALL
    (as the waitlist is); anyone else with triage:read sees the caseloads and how many cases need moving.
    """
    staff = Scope.READ_ALL in reader.scopes
    open_cases = await unit.cases.open_cases()
    connectors = []
    needing = 0
    for connector in await unit.roster.roster_rows():
        takes_new_work = bool(connector["active"]) and connector["status"] == "available"
        room = max(connector["capacity"] - connector["caseload"], 0) if takes_new_work else 0
        cases = [{**case, "needs_reassignment": not takes_new_work} for case in open_cases.get(connector["id"], [])]
        needing += 0 if takes_new_work else len(cases)
        shown = {"open_cases": cases} if staff else {}
        connectors.append({**connector, "takes_new_work": takes_new_work, "room": room, **shown})
    listed = [case["referral_id"] for c in connectors for case in c.get("open_cases", []) if case["needs_reassignment"]]
    return {
        "connectors": connectors,
        "cases_needing_reassignment": needing,
        **({"needs_reassignment": listed} if staff else {}),
    }


async def waitlist_view(unit: TriageWork, limit: int) -> dict[str, Any]:
    """The waiting entries in the order places are offered (domain/waitlist.py), with the time each has waited."""
    now = datetime.now(UTC)
    entries = await unit.waitlist.entries(limit)
    waiting = [
        {**entry, "waited_days": round((now - entry["received_at"]).total_seconds() / 86400, 2)} for entry in entries
    ]
    for entry in waiting:
        entry["received_at"] = entry["received_at"].isoformat()
        entry["waitlisted_at"] = entry["waitlisted_at"].isoformat()
    total = entries[0]["total"] if entries else 0
    for entry in waiting:
        entry.pop("total", None)
    return {"total": total, "shown": len(waiting), "waiting": waiting}


async def decision_view(unit: TriageWork, referral_id: str, reader: Principal) -> dict[str, Any] | None:
    """The decision if `reader` may see it; otherwise None, exactly as for an unknown id, so that a
    decision (rules fired, crisis redirects) never tells one organisation about another's referral."""
    view = await unit.decisions.decision_view(referral_id)
    if view is not None and not reader.may_read_referrer(view["requester_ods"], view["requester_partner"]):
        log.info("refused %s the decision on referral %s of another organisation", reader.subject, referral_id)
        return None
    return view
