"""The channels this deployment can send on, built from settings: senders, receipt readers, the notifier.

Email goes by SMTP or GOV.UK Notify (EMAIL_PROVIDER); SMS by Notify when NOTIFY_API_KEY is set;
BaRS responses when BARS_PROXY_URL is set. A channel without a provider is left out of every route.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

from notifications.adapters.bars import BarsSender
from notifications.adapters.bars_reply import SignpostIdentity, compose_response
from notifications.adapters.notify import NotifyEmailSender, NotifyReceipts, NotifySmsSender
from notifications.adapters.smtp import SmtpSender
from notifications.adapters.templates import EmailTemplates
from notifications.config import NotificationsSettings
from notifications.domain.messages import BARS, EMAIL, SMS, Channel, MessageSender, ReceiptReader
from notifications.domain.outcomes import Outcome, ReferrerContact
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
        if settings.govuk_notify_api_key is not None:
            key, url = settings.govuk_notify_api_key, settings.govuk_notify_base_url
            timeout = settings.govuk_notify_timeout_seconds
            templates = notify_templates(settings.govuk_notify_templates_file)
            senders[SMS] = NotifySmsSender(
                api_key=key,
                templates=templates[SMS],
                base_url=url,
                sms_sender_id=settings.govuk_notify_sms_sender_id,
                timeout_seconds=timeout,
            )
            receipts[SMS] = NotifyReceipts(api_key=key, base_url=url, timeout_seconds=timeout)
            if settings.email_provider == "notify":
                senders[EMAIL] = NotifyEmailSender(
                    api_key=key,
                    templates=templates[EMAIL],
                    base_url=url,
                    email_reply_to_id=settings.govuk_notify_email_reply_to_id,
                    timeout_seconds=timeout,
                )
                receipts[EMAIL] = receipts[SMS]
        bars_composer = None
        if settings.bars_proxy_url:
            senders[BARS] = BarsSender(
                settings.bars_proxy_url,
                organisation_ods=settings.bars_service_ods_code or "",
                organisation_name=settings.bars_service_name,
                token=settings.bars_token,
                timeout_seconds=settings.bars_timeout_seconds,
            )
            identity = SignpostIdentity(
                service_name=settings.bars_service_name,
                endpoint=settings.bars_source_endpoint,
                ods_code=settings.bars_service_ods_code,
            )
            bars_composer = functools.partial(_bars_response, identity)
        channels = Channels(
            available=frozenset(senders),
            directory=directory,
            bars=bars_composer,
            duty_email=settings.duty_coordinator_email,
            duty_sms=settings.duty_coordinator_sms,
            urgent_confirm_seconds=settings.urgent_confirm_seconds,
        )
        notifier = Notifier(
            EmailTemplates(), closure_includes_scores=settings.closure_message_includes_scores, channels=channels
        )
        return cls(notifier, senders, receipts)

    async def aclose(self) -> None:
        """Close the providers' HTTP clients (BaRS)."""
        for sender in self.senders.values():
            close = getattr(sender, "aclose", None)
            if close is not None:
                await close()


def _bars_response(
    identity: SignpostIdentity, outcome: Outcome, contact: ReferrerContact, key: str, destination: str
) -> str:
    return compose_response(outcome, contact, key, destination, identity)


def notify_templates(path: Path) -> dict[Channel, dict[str, str]]:
    """The Notify template id of each message name, per channel, from the templates file."""
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
        by_channel: dict[Channel, dict[str, str]] = {EMAIL: {}, SMS: {}}
        for entry in entries:
            by_channel[entry["type"]][entry["name"]] = str(entry["id"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(
            f"GOVUK_NOTIFY_TEMPLATES_FILE {path}: expected a JSON list of {{id, type (email or sms), name, ...}}:"
            f" {exc!r}"
        ) from exc
    return by_channel
