"""Settings for notifications, from the environment (SMTP_HOST, DELIVERY_MAX_ATTEMPTS, ...)."""

from __future__ import annotations

from email.utils import parseaddr

from pydantic import SecretStr, model_validator

from signpost_runtime.settings import ServiceSettings


class NotificationsSettings(ServiceSettings):
    service_name: str = "notifications"
    http_port: int = 8083
    database_url: str = "postgresql://postgres@127.0.0.1:5432/signpost_notifications"

    # Defaults reach the local SMTP sink (`signpost-smtp-sink`).
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_from: str = "Signpost <notifications@signpost.local>"
    smtp_use_tls: bool = False  # implicit TLS from the first byte (usually port 465)
    smtp_start_tls: bool | None = None  # None: upgrade with STARTTLS when the server offers it
    smtp_validate_certs: bool = True
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = 30.0

    # A failed send is retried after base * 2^(attempt-1) seconds, capped, until max attempts.
    delivery_max_attempts: int = 5
    delivery_retry_backoff_seconds: float = 30.0
    delivery_retry_backoff_max_seconds: float = 1800.0

    # The dispatcher is woken by NOTIFY when a delivery is created; the poll is the fallback.
    dispatcher_poll_seconds: float = 5.0
    dispatcher_batch_size: int = 10
    dispatcher_lease_seconds: float = 120.0

    @model_validator(mode="after")
    def _lease_outlives_a_send(self) -> NotificationsSettings:
        # A lease shorter than one SMTP exchange would let a second dispatcher send the same email.
        if self.dispatcher_lease_seconds <= self.smtp_timeout_seconds:
            raise ValueError(
                f"DISPATCHER_LEASE_SECONDS ({self.dispatcher_lease_seconds}) must be longer than "
                f"SMTP_TIMEOUT_SECONDS ({self.smtp_timeout_seconds}); raise the lease or lower the timeout"
            )
        if self.delivery_max_attempts < 1:
            raise ValueError(f"DELIVERY_MAX_ATTEMPTS must be at least 1, got {self.delivery_max_attempts}")
        if "@" not in parseaddr(self.smtp_from)[1]:
            raise ValueError(f"SMTP_FROM must be an email address such as 'Signpost <a@b.org>', got {self.smtp_from!r}")
        return self

    @property
    def message_id_domain(self) -> str:
        """Message-IDs use the sender's domain, as RFC 5322 recommends for uniqueness."""
        return parseaddr(self.smtp_from)[1].rpartition("@")[2]
