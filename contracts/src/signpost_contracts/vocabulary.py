"""Terms every service shares, defined once: imported, never re-spelt.

Priority, referrer kind, connector kind and complexity are the values events carry; the outward
postcode parser is the one reading of a postcode district; SERVICES names the deployable services
(each is also its consumer group, dead-letter topic and database suffix); Scope lists every bearer
token scope a Signpost API checks.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Literal

Priority = Literal["routine", "urgent", "asap", "stat"]
PRIORITIES: tuple[Priority, ...] = ("routine", "urgent", "asap", "stat")
ReferrerKind = Literal["gp", "social-worker", "community-organisation", "self", "other"]
ConnectorKind = Literal["paid", "volunteer"]
Complexity = Literal["low", "medium", "high"]

# A referral's case, as connectors record it (see ARCHITECTURE: a referral's life).
ContactMode = Literal["telephone", "online", "home-visit", "community-venue", "walk"]
CONTACT_MODES: tuple[ContactMode, ...] = ("telephone", "online", "home-visit", "community-venue", "walk")
ContactOutcome = Literal["reached", "no-answer", "declined"]
ClosureReason = Literal["goals-met", "connected-onward", "disengaged", "declined", "moved-away", "other"]
CLOSURE_REASONS: tuple[ClosureReason, ...] = (
    "goals-met",
    "connected-onward",
    "disengaged",
    "declined",
    "moved-away",
    "other",
)
MeasureStage = Literal["baseline", "closing"]
# The ONS direct loneliness question, "How often do you feel lonely?", most to least often.
OnsLoneliness = Literal["often-always", "some-of-the-time", "occasionally", "hardly-ever", "never"]
# How a referral stops being active at its referrer's request (FHIR ServiceRequest.status).
WithdrawalStatus = Literal["revoked", "entered-in-error"]

# The four services, in the order a referral meets them.
SERVICES: tuple[str, ...] = ("referral_intake", "triage", "notifications", "reporting")


class Scope(StrEnum):
    """Bearer token scopes. Per-referral reads show the caller's own organisation (`ods` claim) only;
    READ_ALL is the one staff scope that reads across organisations, in every service."""

    REFERRALS_WRITE = "referrals:write"  # send referrals as the token's own organisation
    # An integration engine or hub sending for other organisations: every one, or those listed in the
    # token's `ods_on_behalf` claim. The sending system is recorded on the referral and its events.
    REFERRALS_WRITE_ON_BEHALF = "referrals:write-on-behalf"
    REFERRALS_READ = "referrals:read"  # the caller's own organisation's referrals and Tasks
    READ_ALL = "referrals:read-all"  # staff: every organisation's records, in every service
    TRIAGE_READ = "triage:read"  # roster, policy, and decisions (own organisation unless READ_ALL)
    NOTIFICATIONS_READ = "notifications:read"  # deliveries (own organisation unless READ_ALL)
    REPORTING_READ = "reporting:read"  # staff: aggregate counts, never a single referral
    CASES_WRITE = "cases:write"  # a connector (token `sub` = roster id): their own cases only
    CASES_COORDINATE = "cases:coordinate"  # staff: every case, and reassignment
    ROSTER_ADMIN = "roster:admin"  # staff: reload the roster (leave, capacity) and work the waitlist


# A full postcode is an outward code (area letters, district digits, optional letter or digit)
# then an inward code (one digit, two letters); systems also send the outward code on its own.
_OUTWARD = r"[A-Z]{1,2}[0-9][A-Z0-9]?"
_FULL_POSTCODE = re.compile(rf"^(?P<outward>{_OUTWARD})(?P<inward>[0-9][A-Z]{{2}})$")
_OUTWARD_ONLY = re.compile(rf"^{_OUTWARD}$")
_LONGEST_POSTCODE = 16  # generous for spaces; real ones are at most 8 characters


def postcode_district(postcode: str | None) -> str | None:
    """The outward code ('LS6' of 'LS6 2AB', 'ls62ab' or 'LS6'), or None when it is not a UK postcode."""
    if not postcode or len(postcode) > _LONGEST_POSTCODE:
        return None
    compact = re.sub(r"\s+", "", postcode).upper()
    full = _FULL_POSTCODE.match(compact)
    if full:
        return full["outward"]
    return compact if _OUTWARD_ONLY.match(compact) else None
