"""Events produced by triage on the `triage` stream."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from signpost_contracts.base import ContractModel
from signpost_contracts.events.common import LIST_LIMIT, Code, Complexity, ConnectorKind, Name, Text

Outcome = Literal["accepted", "declined", "redirected"]


class FiredRule(ContractModel):
    """One policy rule that fired, so every decision can be explained."""

    rule_id: Code
    description: Text


class Redirect(ContractModel):
    service: Name = Field(description="where the person should be supported instead")
    contact: Name | None = None
    urgent: bool = False


class ReferralTriaged(ContractModel):
    """Triage decided whether the service can help and how complex the situation is."""

    referral_id: str
    decided_at: datetime
    outcome: Outcome
    complexity: Complexity
    reasons: list[FiredRule] = Field(max_length=LIST_LIMIT)
    summary: Text = Field(description="plain-language explanation for the referrer")
    redirect: Redirect | None = None
    policy_version: Code


class CaseTerms(ContractModel):
    """What the policy in force at assignment gives the case; the case is run by these terms."""

    policy_version: Code
    session_allowance: int = Field(ge=0, description="sessions before an extension is needed")
    extension_sessions: int = Field(ge=0, description="sessions one extension adds")
    max_extensions: int = Field(ge=0)
    max_failed_contacts: int = Field(ge=1, description="unanswered attempts before 'could not contact'")
    stalled_after_days: int = Field(ge=1, description="days without a session before the case is flagged stalled")


class ReferralAssigned(ContractModel):
    """An accepted referral was assigned a connector with room on their caseload."""

    referral_id: str
    assigned_at: datetime
    connector_id: Code
    connector_kind: ConnectorKind
    area: Code
    complexity: Complexity | None = None
    terms: CaseTerms | None = None


class ReferralAssignedFromWaitlist(ContractModel):
    """A waiting referral took a place that freed up (closure, withdrawal, handover, more capacity)."""

    referral_id: str
    assigned_at: datetime
    connector_id: Code
    connector_kind: ConnectorKind
    area: Code
    complexity: Complexity
    terms: CaseTerms
    waiting_since: datetime


class ReferralHandedOver(ContractModel):
    """A low-complexity case with a plan in progress moved from its paid connector to a volunteer."""

    referral_id: str
    handed_over_at: datetime
    from_connector_id: Code
    connector_id: Code
    connector_kind: ConnectorKind


class ReferralReassigned(ContractModel):
    referral_id: str
    reassigned_at: datetime
    from_connector_id: Code
    connector_id: Code
    connector_kind: ConnectorKind
    reason: Text


class ChangeRefused(ContractModel):
    """A requested handover or reassignment could not be made; the case stays where it is."""

    referral_id: str
    refused_at: datetime
    reason: Text


class HandoverRefused(ChangeRefused):
    pass


class ReassignmentRefused(ChangeRefused):
    pass


class ReferralLinked(ContractModel):
    """The person already has an open case: this referral takes no second place and is linked to it."""

    referral_id: str
    linked_at: datetime
    linked_to_referral_id: str
    reason: Text


class ReferralWaitlisted(ContractModel):
    """An accepted referral waits: no suitable connector had room."""

    referral_id: str
    waitlisted_at: datetime
    area: Code
    required_kind: ConnectorKind | None = None
    reason: Text
    position: int | None = Field(
        default=None, ge=1, description="its place in its area's waiting list when it joined (1: next to be assigned)"
    )


# The Gravity SDOH Clinical Care IG's capacity codes (SDOHCC-ValueSetCapacityStatus, STU 3).
CapacityStatus = Literal["capacity", "no-capacity", "waitlist"]
PREFIX_LIMIT = 200  # a service area may list every district it covers


class ServiceStatus(ContractModel):
    """Who the service is for and whether it has room, for referrers: aggregates only, never a referral or a
    person. Published when it changes (checked every few seconds), so the newest `as_of` is the current one."""

    as_of: datetime
    policy_version: Code
    area_name: Name
    postcode_prefixes: list[Code] = Field(max_length=PREFIX_LIMIT, description="districts or areas covered")
    age_minimum: int = Field(ge=0, le=130)
    age_maximum: int | None = Field(default=None, ge=0, le=130)
    cohorts: list[Text] = Field(
        default_factory=list,
        max_length=LIST_LIMIT,
        description="who the service is for, in plain words; empty: everyone in the area and the age range",
    )
    exclusions: list[Text] = Field(
        default_factory=list, max_length=LIST_LIMIT, description="referrals it cannot take, and where to go instead"
    )
    capacity: CapacityStatus = Field(
        description="capacity: a connector has room now; waitlist: no room, people wait; no-capacity: no room and"
        " no one taking new work"
    )
    places_free: int = Field(ge=0, description="free places among connectors taking new work")
    waiting: int = Field(ge=0, description="people on the waiting list")
    typical_wait_days: float | None = Field(
        default=None, ge=0, description="median wait of people placed from the waiting list in the last 90 days"
    )


ROSTER_LIMIT = 1000  # connectors in one service's roster, generously


class ConnectorCaseload(ContractModel):
    """One connector's load, by roster id only: no name, no referral, no person."""

    connector_id: Code = Field(description="the connector's roster id")
    kind: ConnectorKind
    capacity: int = Field(ge=0, description="most open cases at once, as the roster gives it")
    open_cases: int = Field(ge=0, description="cases assigned and not yet ended")
    taking_new_work: bool = Field(
        description="in the roster and available (not on leave, not left); false: their open cases need moving"
    )


class RosterCaseloads(ContractModel):
    """Every connector triage knows, with caseload against capacity: aggregates only. Published when any
    figure changes (checked with the service status), so the newest `as_of` is the current one."""

    as_of: datetime
    connectors: list[ConnectorCaseload] = Field(max_length=ROSTER_LIMIT)
