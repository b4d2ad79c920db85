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


class ReferralAssigned(ContractModel):
    """An accepted referral was assigned a connector with room on their caseload."""

    referral_id: str
    assigned_at: datetime
    connector_id: Code
    connector_kind: ConnectorKind
    area: Code


class ReferralWaitlisted(ContractModel):
    """An accepted referral waits: no suitable connector had room."""

    referral_id: str
    waitlisted_at: datetime
    area: Code
    required_kind: ConnectorKind | None = None
    reason: Text
