"""HTTP: a referral's deliveries (GET /deliveries?referral_id=...) and outcomes nobody can be told yet."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from notifications.config import NotificationsSettings
from notifications.domain.outcomes import AwaitingOutcome
from notifications.service import deliveries_visible_to
from notifications.unit import NotificationsUnit
from signpost_contracts.vocabulary import Scope
from signpost_runtime.auth import AuthError, Principal, scope_required
from signpost_runtime.openapi import problem_responses
from signpost_runtime.problems import Problem
from signpost_runtime.runtime import ServiceRuntime
from signpost_runtime.unit_of_work import UnitOfWork

router = APIRouter(tags=["deliveries"])
NotificationsReader = Annotated[Principal, Depends(scope_required("notifications:read"))]


def _units(request: Request) -> UnitOfWork[NotificationsUnit]:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime.units(NotificationsUnit)


class DeliveryView(BaseModel):
    notification_id: uuid.UUID
    idempotency_key: str
    about_event_type: str
    outcome: str
    channel: str
    recipient: str | None
    subject: str
    status: Literal["pending", "sent", "failed", "suppressed"] = Field(
        description="suppressed: never sent, because the referrer withdrew the referral (see suppressed_because)"
    )
    attempts: int
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None
    failed_at: datetime | None
    redriven_at: datetime | None
    suppressed_at: datetime | None
    suppressed_because: str | None


class DeliveriesView(BaseModel):
    referral_id: str
    deliveries: list[DeliveryView]


class AwaitingReferralView(BaseModel):
    longer_than_seconds: float
    outcomes: list[AwaitingOutcome]


@router.get("/deliveries", responses=problem_responses(401, 403, 404, 503))
async def list_deliveries(
    request: Request,
    principal: NotificationsReader,
    referral_id: Annotated[str, Query(min_length=1, max_length=200, description="the Signpost referral id")],
) -> DeliveriesView:
    async with _units(request)() as unit:
        rows = await deliveries_visible_to(unit, principal, referral_id)
    if rows is None:
        # The same answer whether the referral is unknown or another organisation's: existence must not leak.
        raise Problem(
            404,
            f"no referral {referral_id} that this token may read: a token reads its own organisation's "
            "referrals (claim 'ods'), or every referral with the 'referrals:read-all' scope",
        )
    views = [DeliveryView(**row) for row in rows]
    for view in views:
        if view.status != "pending":
            view.next_attempt_at = None  # only meaningful while a send is still to come
    return DeliveriesView(referral_id=referral_id, deliveries=views)


@router.get("/outcomes/awaiting-referral", responses=problem_responses(401, 403, 503))
async def outcomes_awaiting_referral(
    request: Request,
    principal: NotificationsReader,
    longer_than_seconds: Annotated[
        float | None, Query(ge=0, le=31_536_000, description="default: OUTCOME_AWAITING_REFERRAL_ALERT_SECONDS")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AwaitingReferralView:
    """Outcomes waiting for their referral's details (referral.received.v1), oldest first. Staff only."""
    if Scope.READ_ALL not in principal.scopes:
        raise AuthError(403, f"token lacks the '{Scope.READ_ALL}' scope: this list spans every organisation")
    settings: NotificationsSettings = request.app.state.runtime.settings
    waited = settings.outcome_awaiting_referral_alert_seconds if longer_than_seconds is None else longer_than_seconds
    async with _units(request)() as unit:
        outcomes = await unit.referrals.awaiting_referral(waited, limit)
    return AwaitingReferralView(longer_than_seconds=waited, outcomes=outcomes)
