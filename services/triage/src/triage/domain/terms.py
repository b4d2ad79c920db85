"""The terms a case is given when it is assigned: what the policy in force says for its complexity.

The case is run by these terms (intake counts sessions and contacts against them), so they are
stamped on the assignment with the policy's version: a later policy change never alters the terms
of a case already under way. A case keeps its terms when it is handed over or reassigned.
"""

from __future__ import annotations

from dataclasses import dataclass

from signpost_contracts.vocabulary import Complexity
from triage.domain.policy import Policy


@dataclass(frozen=True)
class Terms:
    policy_version: str
    session_allowance: int
    extension_sessions: int
    max_extensions: int
    max_failed_contacts: int
    stalled_after_days: int


def terms_for(policy: Policy, complexity: Complexity) -> Terms:
    sessions = policy.sessions
    allowance = {"low": sessions.low, "medium": sessions.medium, "high": sessions.high}[complexity]
    return Terms(
        policy_version=policy.version,
        session_allowance=allowance,
        extension_sessions=sessions.extension_sessions,
        max_extensions=sessions.max_extensions,
        max_failed_contacts=policy.contact.max_failed_attempts,
        stalled_after_days=policy.contact.stalled_after_days,
    )
