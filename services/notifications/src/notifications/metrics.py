"""Prometheus metrics of notifications, exposed on the runtime's /metrics with everything else."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# result: sent, retry_scheduled, failed (after the last attempt, at once when refused for good or
# undeliverable, or when abandoned after a crash loop), waiting_for_provider (the provider could not be
# reached: not an attempt), fenced_out (another claim holds the delivery now).
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
POSSIBLE_DUPLICATES = Counter(
    "signpost_notification_possible_duplicates_total",
    "Sends that went out but could not be recorded because another claim had taken the delivery over,"
    " so the referrer may receive the message twice",
    ["channel"],
)
PROVIDER_UNREACHABLE = Gauge(
    "signpost_notification_provider_unreachable",
    "1 while this replica cannot reach the channel's provider and holds every delivery back, else 0",
    ["channel"],
)
OUTCOMES_AWAITING_REFERRAL = Gauge(
    "signpost_notification_outcomes_awaiting_referral",
    "Outcomes waiting longer than OUTCOME_AWAITING_REFERRAL_ALERT_SECONDS for their referral's details"
    " (referral.received.v1), so nobody can be told yet; list them with GET /outcomes/awaiting-referral",
)
RECEIPTS = Counter(
    "signpost_notification_receipts_total",
    "What providers reported became of messages they took (GOV.UK Notify receipts), per channel",
    ["channel", "status"],
)
URGENT_UNCONFIRMED = Gauge(
    "signpost_notification_urgent_unconfirmed",
    "Urgent messages (urgent redirects) not yet confirmed delivered to the referrer nor acknowledged by staff;"
    " list them with GET /urgent",
)
DELIVERIES = Gauge(
    "signpost_notification_deliveries",
    "Deliveries held, per channel and state (pending, sent, delivered, failed, suppressed); sent means taken by"
    " the provider with no confirmation yet, delivered means confirmed (a receipt, or a BaRS receiver's answer)",
    ["channel", "state"],
)
