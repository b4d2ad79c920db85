"""Settings for notifications, from the environment (SMTP_HOST, DELIVERY_MAX_ATTEMPTS, ...)."""

from __future__ import annotations

from email.utils import parseaddr
from pathlib import Path
from typing import Literal

from pydantic import SecretStr, model_validator

from notifications.domain.deliveries import address_problem
from notifications.domain.routing import uk_mobile
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

    # A send the provider refused (4xx) is retried after base * 2^(attempt-1) seconds, capped, until
    # max attempts; 5xx fails at once. An unreachable provider is not an attempt (see below).
    delivery_max_attempts: int = 5
    delivery_retry_backoff_seconds: float = 30.0
    delivery_retry_backoff_max_seconds: float = 1800.0
    # A delivery claimed this many times with no result recorded (its dispatcher dies with it) is failed.
    delivery_max_unrecorded_claims: int = 5
    # While the SMTP server cannot be reached, nothing is sent; one delivery probes it after a wait
    # that doubles from the first value up to the second (with jitter), and the rest follow once it is back.
    smtp_outage_backoff_seconds: float = 1.0
    smtp_outage_backoff_max_seconds: float = 60.0

    # The dispatcher is woken by NOTIFY when a delivery is created; the poll is the fallback.
    dispatcher_poll_seconds: float = 5.0
    dispatcher_batch_size: int = 10
    dispatcher_lease_seconds: float = 120.0

    # An outcome still waiting for its referral's details (referral.received.v1) after this long is
    # counted in signpost_notification_outcomes_awaiting_referral and listed by
    # GET /outcomes/awaiting-referral and `signpost-notifications awaiting`.
    outcome_awaiting_referral_alert_seconds: float = 600.0
    awaiting_referral_check_seconds: float = 30.0

    # Email the referrer when the person is first reached (support has started). Off: most referrers
    # want the closure's summary, not a message for every step.
    notify_first_contact: bool = False
    # Give the UCLA-3 and ONS scores at baseline and closing in the message back at closure. Off: the
    # PRSB message back to GP gives support, goals and onward connections, and scores only where the
    # service's policy allows; when off, case.measures-recorded.v1 is not read or kept at all.
    closure_message_includes_scores: bool = False

    # Who to tell, and how: a JSON list of referrers (ODS code or partner id), each with its channels in
    # order and their addresses (domain/routing.py). Unset: only what arrives on each referral is used.
    referrer_directory_file: Path | None = None

    # Email goes by SMTP (e.g. an NHSmail relay) or by GOV.UK Notify.
    email_provider: Literal["smtp", "notify"] = "smtp"
    # GOV.UK Notify: set the API key to send SMS (and email, with EMAIL_PROVIDER=notify). The templates
    # file lists the service's Notify templates ({id, type, name, subject, body}); a message is sent with the
    # template whose type is its channel and whose name is the message's (e.g. "self/assigned"). The file
    # shipped (notify-templates.json) describes the templates to create; the local fake Notify loads it.
    govuk_notify_api_key: SecretStr | None = None
    govuk_notify_base_url: str = "https://api.notifications.service.gov.uk"
    govuk_notify_templates_file: Path = Path(__file__).resolve().parent / "notify-templates.json"
    govuk_notify_timeout_seconds: float = 10.0
    govuk_notify_email_reply_to_id: str | None = None
    govuk_notify_sms_sender_id: str | None = None

    # BaRS: set the proxy's base URL to answer referrals that came by BaRS with servicerequest-response messages.
    bars_proxy_url: str | None = None
    bars_token: SecretStr | None = None
    bars_timeout_seconds: float = 10.0
    # Who Signpost is in a BaRS response: its own endpoint identifier, ODS code and name.
    bars_source_endpoint: str = "https://signpost.dev/fhir/Id/service|signpost"
    bars_service_ods_code: str | None = None
    bars_service_name: str = "Signpost community connector service"

    # Receipts are asked for this often while awaited, and no longer after the second value (Notify keeps 7 days).
    receipt_poll_seconds: float = 30.0
    receipt_give_up_seconds: float = 7 * 24 * 3600.0
    # An urgent message (an urgent redirect) not confirmed delivered within this many seconds goes to the
    # next channel, then to the duty coordinator, and stays listed (GET /urgent) until acknowledged.
    urgent_confirm_seconds: float = 900.0
    follow_up_every_seconds: float = 5.0
    duty_coordinator_email: str | None = None
    duty_coordinator_sms: str | None = None

    @model_validator(mode="after")
    def _lease_outlives_a_send(self) -> NotificationsSettings:
        # A lease shorter than one send would let a second dispatcher send the same message.
        timeouts = [("SMTP_TIMEOUT_SECONDS", self.smtp_timeout_seconds)]
        if self.govuk_notify_api_key is not None:
            timeouts.append(("GOVUK_NOTIFY_TIMEOUT_SECONDS", self.govuk_notify_timeout_seconds))
        if self.bars_proxy_url is not None:
            timeouts.append(("BARS_TIMEOUT_SECONDS", self.bars_timeout_seconds))
        for name, timeout in timeouts:
            if self.dispatcher_lease_seconds <= timeout:
                raise ValueError(
                    f"DISPATCHER_LEASE_SECONDS ({self.dispatcher_lease_seconds}) must be longer than "
                    f"{name} ({timeout}); raise the lease or lower the timeout"
                )
        # A duty coordinator who cannot be reached would be found out only when an urgent message needs them.
        if self.duty_coordinator_email is not None and (problem := address_problem(self.duty_coordinator_email)):
            raise ValueError(f"DUTY_COORDINATOR_EMAIL {self.duty_coordinator_email!r} cannot be emailed: {problem}")
        if self.duty_coordinator_sms is not None and uk_mobile(self.duty_coordinator_sms) is None:
            raise ValueError(f"DUTY_COORDINATOR_SMS {self.duty_coordinator_sms!r} is not a UK mobile number")
        if self.bars_proxy_url is not None and not self.bars_service_ods_code:
            raise ValueError("BARS_PROXY_URL needs BARS_SERVICE_ODS_CODE: BaRS names the sending organisation by it")
        if self.email_provider == "notify" and self.govuk_notify_api_key is None:
            raise ValueError("EMAIL_PROVIDER=notify needs GOVUK_NOTIFY_API_KEY")
        if self.delivery_max_attempts < 1:
            raise ValueError(f"DELIVERY_MAX_ATTEMPTS must be at least 1, got {self.delivery_max_attempts}")
        if self.delivery_max_unrecorded_claims < 1:
            raise ValueError(
                f"DELIVERY_MAX_UNRECORDED_CLAIMS must be at least 1, got {self.delivery_max_unrecorded_claims}"
            )
        if not 0 < self.smtp_outage_backoff_seconds <= self.smtp_outage_backoff_max_seconds:
            raise ValueError(
                "SMTP_OUTAGE_BACKOFF_SECONDS must be above 0 and at most SMTP_OUTAGE_BACKOFF_MAX_SECONDS, got "
                f"{self.smtp_outage_backoff_seconds} and {self.smtp_outage_backoff_max_seconds}"
            )
        if "@" not in parseaddr(self.smtp_from)[1]:
            raise ValueError(f"SMTP_FROM must be an email address such as 'Signpost <a@b.org>', got {self.smtp_from!r}")
        return self

    @property
    def message_id_domain(self) -> str:
        """Message-IDs use the sender's domain, as RFC 5322 recommends for uniqueness."""
        return parseaddr(self.smtp_from)[1].rpartition("@")[2]
