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
    # Written by integration engines outside Signpost (producers listed in intake's INBOUND_PRODUCERS): CloudEvents
    # whose data is FHIR, never Signpost's own events, so no service reads it as one of its streams.
    INBOUND_REFERRALS = "inbound.referrals"
    INBOUND_REPLIES = "inbound.replies"  # produced by referral_intake: its answer to each inbound message


# Topics whose records come from outside Signpost: read only by the consumer written for them.
EXTERNAL_STREAMS = frozenset({Stream.INBOUND_REFERRALS})

# The CloudEvents type an inbound producer gives a referral on the inbound topic (ce_type).
INBOUND_REFERRAL_TYPE = "referral.requested.v1"


def topic(stream: Stream, namespace: str = DEFAULT_NAMESPACE) -> str:
    return f"{namespace}.{stream.value}"


def dead_letter_topic(consumer: str, namespace: str = DEFAULT_NAMESPACE) -> str:
    """Each consuming service has its own dead-letter topic, so its failures are listed on their own."""
    return f"{namespace}.dlq.{consumer}"


def all_topics(namespace: str = DEFAULT_NAMESPACE, consumers: tuple[str, ...] = ()) -> list[str]:
    names = [topic(stream, namespace) for stream in Stream]
    return names + [dead_letter_topic(consumer, namespace) for consumer in consumers]
