"""Settings shared by every service, read from the environment with working local defaults."""

from __future__ import annotations

from typing import Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from signpost_contracts import DEFAULT_NAMESPACE


class ServiceSettings(BaseSettings):
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
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    topic_namespace: str = DEFAULT_NAMESPACE
    # A consumer joining its group waits about half the session timeout; tests and the local stack shorten it.
    kafka_session_timeout_ms: int = 10_000
    kafka_heartbeat_interval_ms: int = 3_000
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
