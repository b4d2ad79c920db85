"""Prometheus metrics every service exposes on /metrics.

Labels are bounded: consumer names and event types come from code, never from message content.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MESSAGES_HANDLED = Counter(
    "signpost_messages_handled_total",
    "Messages a consumer finished with, by outcome (processed, duplicate, ignored, dead_lettered)",
    ["consumer", "event_type", "outcome"],
)
MESSAGES_FAILED = Counter(
    "signpost_messages_failed_total",
    "Handler attempts that raised (each retry counts)",
    ["consumer", "event_type"],
)
HANDLER_SECONDS = Histogram(
    "signpost_handler_duration_seconds",
    "Time to apply one message, including its database transaction",
    ["consumer", "event_type"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
DEAD_LETTERS = Counter(
    "signpost_dead_letters_total",
    "Messages sent to the dead-letter topic",
    ["consumer"],
)
OUTBOX_BACKLOG = Gauge("signpost_outbox_backlog", "Outbox rows waiting to be published (parked rows excluded)")
OUTBOX_PARKED = Gauge(
    "signpost_outbox_parked", "Outbox rows set aside because the broker cannot take them; see `signpost-outbox list`"
)
OUTBOX_PUBLISHED = Counter("signpost_outbox_published_total", "Outbox rows published to Kafka")
CONSUMER_LAG = Gauge("signpost_consumer_lag", "Messages waiting on assigned partitions", ["consumer"])
