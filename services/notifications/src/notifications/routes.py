"""HTTP: a referral's deliveries (GET /deliveries?referral_id=...) and outcomes nobody can be told yet."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from notifications.config import NotificationsSettings
from notifications.domain.outcomes import AwaitingOutcome
from notifications.service import acknowledge_urgent as acknowledge_urgent_alert
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
    channel: Literal["email", "sms", "bars"]
    audience: Literal["referrer", "duty"] = Field(
        description="duty: an urgent message escalated to the service's duty coordinator"
    )
    recipient: str | None
    subject: str
    status: Literal["pending", "sent", "failed", "suppressed"] = Field(
        description="sent: the provider took it (see receipt and confirmed_at for whether it arrived); "
        "suppressed: never sent, because the referrer withdrew the referral (see suppressed_because)"
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
    provider_reference: str | None = Field(description="the provider's id for the message (GOV.UK Notify's)")
    receipt: Literal["pending", "delivered", "permanent-failure", "temporary-failure"] | None = Field(
        description="what the provider reported afterwards; pending while awaited; null when none comes (SMTP)"
    )
    receipt_detail: str | None
    confirmed_at: datetime | None = Field(
        description="when it is known to have reached its recipient (a delivered receipt, or a BaRS receiver's answer)"
    )


class DeliveriesView(BaseModel):
    referral_id: str
    deliveries: list[DeliveryView]


class FailedDeliveriesView(BaseModel):
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


@router.get("/deliveries/failed", responses=problem_responses(401, 403, 503))
async def failed_deliveries(
    request: Request, principal: NotificationsReader, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> FailedDeliveriesView:
    """Failed deliveries, most recent first, for operations staff to follow up or re-drive
    (`signpost-notifications redrive --notification-id ...`)."""
    if Scope.READ_ALL not in principal.scopes:
        raise AuthError(403, f"token lacks the '{Scope.READ_ALL}' scope: this list spans every organisation")
    async with _units(request)() as unit:
        rows = await unit.deliveries.failed(limit)
    return FailedDeliveriesView(deliveries=[DeliveryView(**row, next_attempt_at=None) for row in rows])


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


class UrgentAlertView(BaseModel):
    outcome_event_id: str
    referral_id: str
    raised_at: datetime
    escalate_at: datetime = Field(description="when the next step is taken unless it is confirmed or acknowledged")
    escalations: int
    last_escalation: str | None


class UrgentAlertsView(BaseModel):
    alerts: list[UrgentAlertView]


class AcknowledgedView(BaseModel):
    outcome_event_id: str
    acknowledged_at: datetime
    acknowledged_by: str


def _staff(principal: Principal) -> None:
    if Scope.READ_ALL not in principal.scopes:
        raise AuthError(403, f"token lacks the '{Scope.READ_ALL}' scope: urgent alerts span every organisation")


@router.get("/urgent", responses=problem_responses(401, 403, 503))
async def urgent_alerts(request: Request, principal: NotificationsReader) -> UrgentAlertsView:
    """Urgent messages not yet confirmed delivered to the referrer nor acknowledged by staff, oldest first."""
    _staff(principal)
    async with _units(request)() as unit:
        alerts = await unit.deliveries.open_urgent()
    return UrgentAlertsView(alerts=[UrgentAlertView(**vars(alert)) for alert in alerts])


@router.post("/urgent/{outcome_event_id}/acknowledge", responses=problem_responses(401, 403, 404, 503))
async def acknowledge_urgent(
    request: Request,
    principal: NotificationsReader,
    outcome_event_id: Annotated[str, Path(min_length=1, max_length=200)],
) -> AcknowledgedView:
    """Someone has it in hand: it stops escalating and leaves the list. The first acknowledgement stands."""
    _staff(principal)
    async with _units(request)() as unit:
        done = await acknowledge_urgent_alert(unit, outcome_event_id, principal.subject)
    if done is None:
        raise Problem(404, f"no urgent alert for outcome event {outcome_event_id}")
    return AcknowledgedView(outcome_event_id=outcome_event_id, acknowledged_at=done.at, acknowledged_by=done.by)
