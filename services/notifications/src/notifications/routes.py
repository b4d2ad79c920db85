"""HTTP: the delivery status of a referral's notifications (GET /deliveries?referral_id=...)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from notifications.adapters.delivery_store import deliveries_of
from notifications.adapters.repository import load_contact
from signpost_runtime.auth import AuthError, Principal, scope_required
from signpost_runtime.openapi import problem_responses

router = APIRouter(tags=["deliveries"])
NotificationsReader = Annotated[Principal, Depends(scope_required("notifications:read"))]


class DeliveryView(BaseModel):
    notification_id: uuid.UUID
    idempotency_key: str
    about_event_type: str
    outcome: str
    channel: str
    recipient: str | None
    subject: str
    status: Literal["pending", "sent", "failed"]
    attempts: int
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None
    failed_at: datetime | None


class DeliveriesView(BaseModel):
    referral_id: str
    deliveries: list[DeliveryView]


@router.get("/deliveries", responses=problem_responses(401, 403, 503))
async def list_deliveries(
    request: Request,
    principal: NotificationsReader,
    referral_id: Annotated[str, Query(min_length=1, max_length=200, description="the Signpost referral id")],
) -> DeliveriesView:
    pool = request.app.state.runtime.pool
    contact = await load_contact(pool, referral_id)
    if contact is not None and not principal.may_read_organisation(contact.ods_code):
        raise AuthError(
            403,
            f"referral {referral_id} was made by another organisation; your token may read only referrals of "
            "its own organisation (claim 'ods'), or needs the 'referrals:read-all' scope",
        )
    views = [DeliveryView(**row) for row in await deliveries_of(pool, referral_id)]
    for view in views:
        if view.status != "pending":
            view.next_attempt_at = None  # only meaningful while a send is still to come
    return DeliveriesView(referral_id=referral_id, deliveries=views)
