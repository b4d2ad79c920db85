"""Sending email over SMTP with aiosmtplib, telling a refusal of the message from a provider out of reach."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from notifications.config import NotificationsSettings
from notifications.domain.deliveries import ProviderUnavailableError, SendError
from notifications.domain.messages import OutgoingMessage, Sent

IDEMPOTENCY_HEADER = "X-Signpost-Idempotency-Key"
REFERRAL_HEADER = "X-Signpost-Referral-Id"
SERVICE_NOT_AVAILABLE = 421  # RFC 5321: the server is closing the channel; try again later


class SmtpSender:
    provider = "smtp"

    def __init__(self, settings: NotificationsSettings) -> None:
        self.settings = settings

    def compose(self, email: OutgoingMessage) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.settings.smtp_from
        message["To"] = email.recipient
        message["Subject"] = email.subject
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = email.message_id
        message[IDEMPOTENCY_HEADER] = email.idempotency_key
        message[REFERRAL_HEADER] = email.referral_id
        # RFC 3834: marks the message as automatic so auto-responders do not reply to it.
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(email.text)
        return message

    async def send(self, email: OutgoingMessage) -> Sent:
        """Handed to the relay: SMTP says no more, so no receipt follows and delivery is never confirmed."""
        settings = self.settings
        try:
            await aiosmtplib.send(
                self.compose(email),
                hostname=settings.smtp_host,
                port=settings.smtp_port,
                username=settings.smtp_username,
                password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
                use_tls=settings.smtp_use_tls,
                start_tls=settings.smtp_start_tls,
                validate_certs=settings.smtp_validate_certs,
                timeout=settings.smtp_timeout_seconds,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise self._classified(exc) from exc
        return Sent()

    def _classified(self, exc: Exception) -> SendError | ProviderUnavailableError:
        """A refusal of this message (an attempt), or the provider being out of reach (an outage, not one).

        Only a reply to the message itself (MAIL, RCPT, DATA) refuses it; 4xx may pass on retry, 5xx
        will not. Everything before that (connecting, the greeting, EHLO, STARTTLS and the TLS
        handshake, our credentials) and 421 at any stage says the provider cannot take mail now.
        A read timeout after connecting is counted as an attempt: the message may have been taken.
        """
        if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
            codes = [refused.code for refused in exc.recipients]
            detail = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
            if SERVICE_NOT_AVAILABLE in codes:
                return ProviderUnavailableError(self._where(f"recipient not accepted now: {detail}"))
            return SendError(self._where(f"recipient refused: {detail}"), permanent=bool(codes) and min(codes) >= 500)
        refusal = (aiosmtplib.SMTPSenderRefused, aiosmtplib.SMTPRecipientRefused, aiosmtplib.SMTPDataError)
        if isinstance(exc, refusal) and exc.code != SERVICE_NOT_AVAILABLE:
            return SendError(self._where(f"SMTP {exc.code} {exc.message}"), permanent=exc.code >= 500)
        if isinstance(exc, aiosmtplib.SMTPReadTimeoutError):
            return SendError(self._where(f"no reply in time: {exc}"), permanent=False)
        if isinstance(exc, aiosmtplib.SMTPNotSupported):
            # e.g. an internationalised address and a server without SMTPUTF8: this message, every time.
            return SendError(self._where(f"not supported by the server: {exc}"), permanent=True)
        if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
            return ProviderUnavailableError(
                self._where(f"authentication failed: {exc.code} {exc.message}; check SMTP_USERNAME and SMTP_PASSWORD")
            )
        if isinstance(exc, aiosmtplib.SMTPResponseException):
            return ProviderUnavailableError(self._where(f"SMTP {exc.code} {exc.message}"))
        return ProviderUnavailableError(self._where(f"{type(exc).__name__}: {exc}"))

    def _where(self, detail: str) -> str:
        return f"{detail} (server {self.settings.smtp_host}:{self.settings.smtp_port})"
