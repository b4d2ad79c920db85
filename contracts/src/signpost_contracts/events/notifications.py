"""Events produced by notifications on the `notifications` stream."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from signpost_contracts.base import ContractModel
from signpost_contracts.events.common import Code, Text

NotificationChannel = Literal["email", "sms", "fhir-callback"]


class NotificationSent(ContractModel):
    """The referrer was told about an outcome."""

    referral_id: str
    notification_id: str
    about_event_type: Code
    channel: NotificationChannel
    sent_at: datetime
    attempts: int


class NotificationFailed(ContractModel):
    """Telling the referrer failed after every retry; someone needs to follow it up."""

    referral_id: str
    notification_id: str
    about_event_type: Code
    channel: NotificationChannel
    failed_at: datetime
    attempts: int
    last_error: Text


class UrgentUnconfirmed(ContractModel):
    """An urgent message (an urgent redirect) is not yet known to have reached the referrer.

    Announced when it is raised (escalations 0) and at each escalation step, so the dashboard shows it
    until `notification.urgent-settled.v1` says someone has it.
    """

    referral_id: str
    outcome_event_id: str
    raised_at: datetime
    escalations: int
    last_escalation: Text | None = None
    at: datetime


class UrgentSettled(ContractModel):
    """Someone has the urgent message: a delivery of it was confirmed, or staff acknowledged the alert."""

    referral_id: str
    outcome_event_id: str
    settled_at: datetime
    how: Literal["confirmed", "acknowledged"]
