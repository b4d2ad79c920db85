"""referral_intake settings, read from the environment (no prefix) with working local defaults."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator

from referral_intake.domain.person import DEVELOPMENT_PERSON_KEY_SECRET
from signpost_runtime.settings import ServiceSettings

log = logging.getLogger(__name__)
MIN_SECRET_LENGTH = 32  # 128 bits as hex: enough that the key cannot be guessed


class IntakeSettings(ServiceSettings):
    service_name: str = "referral_intake"
    http_port: int = 8081
    database_url: str = "postgresql://postgres@127.0.0.1:5432/signpost_referral_intake"

    # Inputs are size- and depth-limited before they are parsed (ARCHITECTURE: data protection): the body's
    # size by the kit (max_body_bytes), its nesting here. FHIR resources rarely nest deeper than ~20 levels,
    # even with contained resources and extensions.
    max_json_depth: int = 64
    # Base URL of Location headers, fullUrls and the CapabilityStatement: set it in production to the
    # public address (https://signpost.example.org). Unset, it is the address the service listens on,
    # never the request's Host header, which any client can set to anything.
    public_base_url: str | None = None

    # Mark the connector pages' token cookie Secure. Off for http://localhost; on wherever TLS is served
    # (behind a TLS-terminating proxy the request itself arrives as http, so say so here).
    pages_cookie_secure: bool = False

    # Who may send referrals on the inbound topic (inbound/producers.py): a TOML file. Unset, nobody may, and
    # every message on it is refused and dead-lettered. `make run` sets it to examples/inbound-producers.toml.
    inbound_producers: Path | None = None

    # The partner register: organisations without ODS codes whose staff refer (their tokens' `org` claim).
    # Unset, the demo register in the package (referral_intake/demo/partners.toml). Read and checked at start.
    partners_file: Path | None = None

    # The Index of Multiple Deprivation lookup (adapters/deprivation.py): the ONS Postcode Directory (or NSPL) CSV
    # and the English Indices of Deprivation CSV, both or neither. Neither: no referral carries a decile.
    # `make run` sets them to the SYNTHETIC demo files in referral_intake/demo/deprivation/.
    imd_postcode_file: Path | None = None
    imd_deprivation_file: Path | None = None

    # The public self-referral form's abuse controls: at most this many submissions per client per window
    # (counted per replica), and the largest form body accepted.
    form_rate_limit: int = 5
    form_rate_window_seconds: int = 3600
    form_max_bytes: int = 16_384
    # Behind a reverse proxy: the header it sets to the client's address (e.g. X-Forwarded-For). Only its last
    # address is used, the one the proxy appended. Unset, the connection's own address is the client.
    form_client_ip_header: str | None = None

    # Retention (issue 11): a closed case's personal data is erased this many days after its closure, as if the
    # person had asked (erasure_service.erase_referral), by a job every RETENTION_EVERY_SECONDS on each replica.
    # Unset: kept until someone asks. The period is the service's information governance policy, not a default.
    retention_days: float | None = Field(default=None, ge=0)
    retention_every_seconds: float = Field(default=3600, gt=0)

    # `production` refuses to start with development defaults for secrets (the manifests set it).
    environment: Literal["development", "production"] = "development"
    # The key of person_key, the HMAC-SHA256 of an NHS number that lets triage recognise the same person
    # referred twice without ever seeing the number. Keep it secret and never change it in a deployment:
    # a new key gives everyone a new person_key, and open cases would no longer be recognised.
    person_key_secret: SecretStr = SecretStr(DEVELOPMENT_PERSON_KEY_SECRET)

    @model_validator(mode="after")
    def _deprivation_files_come_together(self) -> Self:
        if (self.imd_postcode_file is None) != (self.imd_deprivation_file is None):
            given, missing = (
                ("IMD_POSTCODE_FILE", "IMD_DEPRIVATION_FILE")
                if self.imd_deprivation_file is None
                else ("IMD_DEPRIVATION_FILE", "IMD_POSTCODE_FILE")
            )
            raise ValueError(
                f"{given} is set but {missing} is not: the IMD lookup needs both the ONS postcode directory CSV "
                "(IMD_POSTCODE_FILE) and the English Indices of Deprivation CSV (IMD_DEPRIVATION_FILE), or neither"
            )
        return self

    @model_validator(mode="after")
    def _secrets_are_set_in_production(self) -> Self:
        development_key = self.person_key_secret.get_secret_value() == DEVELOPMENT_PERSON_KEY_SECRET
        if development_key and self.environment == "production":
            raise ValueError(
                "PERSON_KEY_SECRET is not set, and ENVIRONMENT is production: set PERSON_KEY_SECRET to a long random "
                "value kept in your secret store (e.g. `openssl rand -hex 32`), the same in every intake replica"
            )
        if len(self.person_key_secret.get_secret_value()) < MIN_SECRET_LENGTH:
            raise ValueError("PERSON_KEY_SECRET is shorter than 32 characters; use e.g. `openssl rand -hex 32`")
        return self

    @property
    def base_url(self) -> str:
        return (self.public_base_url or f"http://{self.http_host}:{self.http_port}").rstrip("/")

    def warn_about_development_defaults(self) -> None:
        if self.person_key_secret.get_secret_value() == DEVELOPMENT_PERSON_KEY_SECRET:
            log.warning(
                "PERSON_KEY_SECRET is the development default: person keys are not secret. Set it (and "
                "ENVIRONMENT=production) in any deployment that holds real referrals"
            )
