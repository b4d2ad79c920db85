"""Settings shared by every service, read from the environment with working local defaults."""

from __future__ import annotations

from pydantic import SecretStr
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

    # Bearer tokens: HS256 with a shared secret (local stack) or RS256/ES256 with a public key.
    jwt_secret: SecretStr | None = None
    jwt_public_key: str | None = None
    jwt_audience: str = "signpost"
    jwt_issuer: str | None = None

    @property
    def consumer_group(self) -> str:
        return f"{self.topic_namespace}.{self.service_name}"
