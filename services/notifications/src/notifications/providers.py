"""The channels this deployment can send on, built from settings: senders, receipt readers, the notifier.

Email goes by SMTP or GOV.UK Notify (EMAIL_PROVIDER); SMS by Notify when NOTIFY_API_KEY is set;
BaRS responses when BARS_PROXY_URL is set. A channel without a provider is left out of every route.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from notifications.adapters.smtp import SmtpSender
from notifications.adapters.templates import EmailTemplates
from notifications.config import NotificationsSettings
from notifications.domain.messages import EMAIL, Channel, MessageSender, ReceiptReader
from notifications.domain.routing import ReferrerDirectory
from notifications.service import Channels, Notifier


@dataclass
class Providers:
    notifier: Notifier
    senders: dict[Channel, MessageSender]
    receipts: dict[Channel, ReceiptReader] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: NotificationsSettings) -> Providers:
        directory = (
            ReferrerDirectory.load(settings.referrer_directory_file)
            if settings.referrer_directory_file
            else ReferrerDirectory.empty()
        )
        senders: dict[Channel, MessageSender] = {EMAIL: SmtpSender(settings)}
        receipts: dict[Channel, ReceiptReader] = {}
        channels = Channels(
            available=frozenset(senders),
            directory=directory,
            duty_email=settings.duty_coordinator_email,
            duty_sms=settings.duty_coordinator_sms,
            urgent_confirm_seconds=settings.urgent_confirm_seconds,
        )
        notifier = Notifier(
            EmailTemplates(), closure_includes_scores=settings.closure_message_includes_scores, channels=channels
        )
        return cls(notifier, senders, receipts)

    async def aclose(self) -> None:
        for sender in self.senders.values():
            close = getattr(sender, "aclose", None)
            if close is not None:
                await close()
