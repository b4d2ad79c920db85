"""Sending email over SMTP with aiosmtplib, and telling transient failures from permanent ones."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from notifications.config import NotificationsSettings
from notifications.domain.deliveries import OutgoingEmail, SendError

IDEMPOTENCY_HEADER = "X-Signpost-Idempotency-Key"
REFERRAL_HEADER = "X-Signpost-Referral-Id"


class SmtpSender:
    def __init__(self, settings: NotificationsSettings) -> None:
        self.settings = settings

    def compose(self, email: OutgoingEmail) -> EmailMessage:
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

    async def send(self, email: OutgoingEmail) -> None:
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
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [refused.code for refused in exc.recipients]
            detail = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
            raise SendError(
                self._where(f"recipient refused: {detail}"), permanent=bool(codes) and min(codes) >= 500
            ) from exc
        except aiosmtplib.SMTPAuthenticationError as exc:
            # The service's credentials are wrong, not the message: retry once an operator fixes them.
            raise SendError(self._where(f"authentication failed: {exc.code} {exc.message}"), permanent=False) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise SendError(self._where(f"SMTP {exc.code} {exc.message}"), permanent=exc.code >= 500) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            # Connection refused, timeouts, dropped connections: the server may be back soon.
            raise SendError(self._where(f"{type(exc).__name__}: {exc}"), permanent=False) from exc

    def _where(self, detail: str) -> str:
        return f"{detail} (server {self.settings.smtp_host}:{self.settings.smtp_port})"
