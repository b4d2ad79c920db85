"""Settings shared by every service, read from the environment with working local defaults."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from signpost_contracts import DEFAULT_NAMESPACE


class KafkaClientSettings(BaseSettings):
    """How every Kafka client connects: the services, and the commands that run beside them (signpost-dlq).

    PLAINTEXT (the default) is the local stack's embedded broker and compose's Kafka. A cluster that
    authenticates (Strimzi's TLS listener) needs SASL_SSL with a SCRAM-SHA-512 user, or SSL with a client
    certificate (mutual TLS); either way the brokers' certificate is checked against KAFKA_SSL_CA_FILE or
    KAFKA_SSL_CA_PEM (the system's CAs when neither is set). kafka_security.py turns these into the clients'
    options. A half-configured connection is refused here, at start, naming the variable to set: a client
    that quietly fell back to plaintext, or to no login, would only fail later with an opaque broker error.
    """

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_SSL"] = "PLAINTEXT"
    # The one mechanism Strimzi's KafkaUser generates passwords for; PLAIN would send the password itself.
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512"] = "SCRAM-SHA-512"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    # Or read from a mounted Secret, so the password never sits in the process environment.
    kafka_sasl_password_file: Path | None = None
    kafka_ssl_ca_file: Path | None = None
    # The CA certificate itself (PEM), as a Secret key exposed through an env entry.
    kafka_ssl_ca_pem: SecretStr | None = None
    # Mutual TLS: the client's certificate and its private key (PEM files, e.g. a KafkaUser's user.crt, user.key).
    kafka_ssl_cert_file: Path | None = None
    kafka_ssl_key_file: Path | None = None

    @model_validator(mode="after")
    def _kafka_security_is_complete(self) -> Self:
        problems = _kafka_security_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _kafka_security_problems(settings: KafkaClientSettings) -> list[str]:
    protocol = settings.kafka_security_protocol
    sasl = settings.kafka_sasl_username or settings.kafka_sasl_password or settings.kafka_sasl_password_file
    tls = settings.kafka_ssl_ca_file or settings.kafka_ssl_ca_pem or settings.kafka_ssl_cert_file
    problems: list[str] = []
    if protocol == "PLAINTEXT" and (sasl or tls or settings.kafka_ssl_key_file):
        problems.append(
            "KAFKA_SECURITY_PROTOCOL is PLAINTEXT but Kafka credentials or certificates are set "
            "(KAFKA_SASL_* / KAFKA_SSL_*): set KAFKA_SECURITY_PROTOCOL=SASL_SSL (SCRAM login over TLS) or SSL "
            "(TLS, optionally with a client certificate), or remove them"
        )
    if protocol == "SSL" and sasl:
        problems.append(
            "KAFKA_SASL_USERNAME/KAFKA_SASL_PASSWORD are set but KAFKA_SECURITY_PROTOCOL is SSL, which never sends "
            "them: set KAFKA_SECURITY_PROTOCOL=SASL_SSL to log in with them, or remove them"
        )
    if protocol == "SASL_SSL":
        if not settings.kafka_sasl_username:
            problems.append(
                "KAFKA_SASL_USERNAME is required with KAFKA_SECURITY_PROTOCOL=SASL_SSL: the KafkaUser's name"
            )
        if not (settings.kafka_sasl_password or settings.kafka_sasl_password_file):
            problems.append(
                "KAFKA_SASL_PASSWORD (or KAFKA_SASL_PASSWORD_FILE) is required with KAFKA_SECURITY_PROTOCOL=SASL_SSL: "
                "the `password` key of the KafkaUser's Secret"
            )
    if settings.kafka_sasl_password and settings.kafka_sasl_password_file:
        problems.append("KAFKA_SASL_PASSWORD and KAFKA_SASL_PASSWORD_FILE are both set: configure one")
    if settings.kafka_ssl_ca_file and settings.kafka_ssl_ca_pem:
        problems.append("KAFKA_SSL_CA_FILE and KAFKA_SSL_CA_PEM are both set: configure one")
    if bool(settings.kafka_ssl_cert_file) != bool(settings.kafka_ssl_key_file):
        given, missing = (
            ("KAFKA_SSL_CERT_FILE", "KAFKA_SSL_KEY_FILE")
            if settings.kafka_ssl_cert_file
            else ("KAFKA_SSL_KEY_FILE", "KAFKA_SSL_CERT_FILE")
        )
        problems.append(f"{missing} is required with {given}: mutual TLS needs the client certificate and its key")
    return problems


class ServiceSettings(KafkaClientSettings):
    """Each service subclasses this and sets its own `service_name`, port and database default."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    service_name: str = "signpost"
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    # Request bodies over this are answered 413 (ARCHITECTURE: inputs are size-limited). The rest of such a
    # body is read and discarded up to the drain limit first, so a client that writes its whole body before
    # reading (urllib, requests, httpx) gets the 413 instead of a reset connection; beyond it, we hang up.
    max_body_bytes: int = 1024 * 1024
    max_body_drain_bytes: int = 16 * 1024 * 1024
    # The longest path segment or query value taken, in characters (decoded): longer than any id, reference
    # or token a route takes, so anything longer is refused before a route sees it.
    max_parameter_length: int = 2048
    database_url: str = "postgresql://postgres@127.0.0.1:5432/signpost"
    database_pool_size: int = 10
    topic_namespace: str = DEFAULT_NAMESPACE
    # A consumer joining its group waits about half the session timeout; tests and the local stack shorten it.
    kafka_session_timeout_ms: int = 10_000
    kafka_heartbeat_interval_ms: int = 3_000
    # A member that has not asked for its next record this long after the last (its handler is still busy) is
    # put out of its group, and its partitions go to another member, which handles the record again (the inbox
    # makes that a no-op). Kafka's default; the fault suite shortens it to force that.
    kafka_max_poll_interval_ms: int = 300_000
    # How long a fetch may wait for data. Tansu holds a fetch this long when some assigned partitions
    # are empty, so it bounds each hop's latency there; on Apache Kafka it only sets the idle poll rate.
    kafka_fetch_max_wait_ms: int = 100
    # The producer refuses records larger than this (its max_request_size); the relay parks such rows
    # rather than retrying them for ever. The brokers' message.max.bytes must be at least as large.
    kafka_max_request_bytes: int = 1024 * 1024
    # While the broker is unreachable at start, reconnect attempts back off up to this.
    broker_connect_backoff_max_seconds: float = 10.0
    log_level: str = "INFO"

    # Consumers: transient failures are retried this many times before the message is dead-lettered.
    consumer_max_attempts: int = 3
    consumer_retry_backoff_seconds: float = 0.2
    # Liveness fails when one message has been in hand this long, or work waits and nothing moved.
    liveness_stall_seconds: float = 60.0

    outbox_batch_size: int = 200
    # Longer than a publish can take (the producer's request timeout is 40 s): a publish is cut off
    # at 75% of the lease so no other relay can claim the same rows while it is still under way.
    outbox_lease_seconds: float = 60.0
    outbox_poll_seconds: float = 1.0
    outbox_retention_hours: float = 24.0
    # Inbox rows make repeats no-ops; keep them longer than any old event can come back (see housekeeping.py).
    inbox_retention_days: float = 35.0
    housekeeping_every_seconds: float = 600.0
    # How often each instance reports its pipeline's health to reporting (pipeline_health.py), and as whom:
    # the host name is the pod's in Kubernetes, so each replica reports apart.
    pipeline_health_every_seconds: float = Field(default=20.0, gt=0)
    instance_id: str = Field(default_factory=socket.gethostname, min_length=1, max_length=253)

    # The whole of stopping after HTTP has drained: consumer, stop hooks, last outbox flush, closing.
    shutdown_grace_seconds: float = 20.0

    # Bearer tokens: HS256 with a shared secret (local stack), or a public key from the identity
    # provider, static (JWT_PUBLIC_KEY) or fetched by key id from its JWKS URL (keys rotate).
    jwt_secret: SecretStr | None = None
    jwt_public_key: str | None = None
    jwt_jwks_url: str | None = None
    jwt_audience: str = "signpost"
    # Required with a public key or JWKS URL: any token the identity provider's key signed would
    # otherwise be accepted, whoever it was issued for.
    jwt_issuer: str | None = None
    # Clocks differ by a few seconds between the identity provider and each pod.
    jwt_leeway_seconds: float = Field(default=30.0, ge=0, le=300)
    # How long the fetched key set is trusted before it is fetched again (a removed key verifies
    # until then), and the least time between refetches for a token naming a key not in the set.
    jwt_jwks_lifespan_seconds: float = Field(default=300.0, gt=0)
    jwt_jwks_cooldown_seconds: float = Field(default=30.0, ge=0)

    @model_validator(mode="after")
    def _token_verification_is_complete(self) -> Self:
        if self.jwt_public_key and self.jwt_jwks_url:
            raise ValueError(
                "JWT_PUBLIC_KEY and JWT_JWKS_URL are both set: configure one. JWT_JWKS_URL follows the identity "
                "provider's key rotation; JWT_PUBLIC_KEY is a single key that never changes"
            )
        if (self.jwt_public_key or self.jwt_jwks_url) and not self.jwt_issuer:
            which = "JWT_JWKS_URL" if self.jwt_jwks_url else "JWT_PUBLIC_KEY"
            raise ValueError(
                f"JWT_ISSUER is required when {which} is set: set it to the identity provider's issuer, exactly "
                "as its tokens carry it in the `iss` claim (e.g. https://login.example.org/), so that tokens it "
                "issued for other services are refused"
            )
        if self.jwt_jwks_url and not _is_trusted_url(self.jwt_jwks_url):
            raise ValueError(
                f"JWT_JWKS_URL {self.jwt_jwks_url!r} must be an https:// URL (http:// only for localhost): "
                "keys fetched over plain HTTP could be replaced on the way"
            )
        return self

    @property
    def consumer_group(self) -> str:
        return f"{self.topic_namespace}.{self.service_name}"


def _is_trusted_url(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    return parts.scheme == "http" and parts.hostname in {"localhost", "127.0.0.1", "::1"}
