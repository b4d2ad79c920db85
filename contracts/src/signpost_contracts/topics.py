"""Topic names, in one place.

One topic per producing service's stream, keyed by referral id. A namespace prefix lets several
independent deployments (or tests) share one broker: `signpost.referrals`, `test-ab12.referrals`.
"""

from __future__ import annotations

from enum import StrEnum

DEFAULT_NAMESPACE = "signpost"


class Stream(StrEnum):
    REFERRALS = "referrals"  # produced by referral_intake
    TRIAGE = "triage"  # produced by triage
    NOTIFICATIONS = "notifications"  # produced by notifications


def topic(stream: Stream, namespace: str = DEFAULT_NAMESPACE) -> str:
    return f"{namespace}.{stream.value}"


def dead_letter_topic(consumer: str, namespace: str = DEFAULT_NAMESPACE) -> str:
    """Each consuming service has its own dead-letter topic, so its failures are listed on their own."""
    return f"{namespace}.dlq.{consumer}"


def all_topics(namespace: str = DEFAULT_NAMESPACE, consumers: tuple[str, ...] = ()) -> list[str]:
    names = [topic(stream, namespace) for stream in Stream]
    return names + [dead_letter_topic(consumer, namespace) for consumer in consumers]
