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
