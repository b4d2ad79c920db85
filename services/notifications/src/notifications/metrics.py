"""Prometheus metrics of notifications, exposed on the runtime's /metrics with everything else."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

# result: sent, retry_scheduled, failed (after the last attempt or at once when undeliverable)
DELIVERY_ATTEMPTS = Counter(
    "signpost_notification_attempts_total",
    "Delivery attempts and their result, per channel",
    ["channel", "result"],
)
SEND_SECONDS = Histogram(
    "signpost_notification_send_duration_seconds",
    "Time spent in one send to the channel's provider (SMTP exchange for email)",
    ["channel"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
