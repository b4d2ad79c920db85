"""The facts each event contributes to the projection.

Each kind of fact owns a disjoint set of projection fields and writes only those, so applying
the same facts in any order, or twice, leaves the same row. Nothing here can identify a person:
the producer's richer payload is reduced to these fields before it reaches the domain.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reporting.domain.status import Decision


@dataclass(frozen=True)
class _Fact:
    referral_id: str

    def fields(self) -> dict[str, Any]:
        """The projection fields this fact sets (everything but the key it is stored under)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "referral_id"}


@dataclass(frozen=True)
class Received(_Fact):
    received_at: datetime
    channel: str
    priority: str
    age_band: str | None
    postcode_district: str | None
    needs: tuple[str, ...]
    referrer_kind: str
    referrer_ods_code: str | None
    imd_decile: int | None


@dataclass(frozen=True)
class Triaged(_Fact):
    decided_at: datetime
    outcome: Decision
    complexity: str
    fired_rules: tuple[str, ...]  # the fired rules' ids, never their text
    redirect_urgent: bool | None  # None unless redirected


@dataclass(frozen=True)
class ConnectorChanged(_Fact):
    """The case now sits with another connector (handed over to a volunteer, or reassigned).

    The connector fields are shared with Assigned; the store keeps the ones with the latest
    connector_since, so a handover replayed before its assignment still leaves the volunteer's kind.
    Never the connector's id: a staff code can be a person's name.
    """

    connector_kind: str
    connector_since: datetime


@dataclass(frozen=True)
class Assigned(ConnectorChanged):
    assigned_at: datetime
    area: str
    stalled_after_days: int | None  # from the case terms, when the event carries them


@dataclass(frozen=True)
class Waitlisted(_Fact):
    waitlisted_at: datetime
    waitlist_area: str


@dataclass(frozen=True)
class FirstContact(_Fact):
    """The person was reached for the first time: support started (the earliest one is kept)."""

    first_reached_at: datetime


@dataclass(frozen=True)
class CouldNotContact(_Fact):
    unreachable_at: datetime


@dataclass(frozen=True)
class SessionHeld(_Fact):
    """A session was held (the latest one is kept: a stalled case has none for a while)."""

    last_session_at: datetime


@dataclass(frozen=True)
class Closed(_Fact):
    closed_at: datetime
    closure: str
    sessions_used: int


@dataclass(frozen=True)
class Withdrawn(_Fact):
    withdrawn_at: datetime


@dataclass(frozen=True)
class Linked(_Fact):
    linked_at: datetime


ReferralFact = (
    Received
    | Triaged
    | Assigned
    | ConnectorChanged
    | Waitlisted
    | FirstContact
    | CouldNotContact
    | SessionHeld
    | Closed
    | Withdrawn
    | Linked
)


@dataclass(frozen=True)
class Measures:
    """A case's outcome measures at one stage: only the numbers (and the ONS answer), any of them missing."""

    referral_id: str
    stage: str
    recorded_at: datetime
    event_id: str  # breaks a tie between two recordings of one stage at the same moment
    ucla3_total: int | None
    ons_loneliness: str | None
    life_satisfaction: int | None
    worthwhile: int | None
    happiness: int | None
    anxiety: int | None


@dataclass(frozen=True)
class NotificationOutcome:
    """A notification was sent (`succeeded`) or gave up after its retries."""

    notification_id: str
    referral_id: str
    channel: str
    about_event_type: str
    at: datetime
    attempts: int
    succeeded: bool
