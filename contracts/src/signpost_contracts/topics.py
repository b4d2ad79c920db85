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
    # Produced by referral_intake: a self-referrer's own reply address, compacted so that erasure reaches it.
    CONTACTS = "referral.contacts"
    # Written by every service's runtime kit (its pipeline's health), keyed by service and instance; read by
    # reporting. Not about any referral, so it is kept apart from the referral streams their consumers read.
    OPERATIONS = "operations"


# Topics whose records come from outside Signpost: read only by the consumer written for them.
EXTERNAL_STREAMS = frozenset({Stream.INBOUND_REFERRALS})

# The CloudEvents type an inbound producer gives a referral on the inbound topic (ce_type).
INBOUND_REFERRAL_TYPE = "referral.requested.v1"


# Kafka topic configuration a stream needs beyond the broker's defaults; every place that creates topics (the
# devstack, tests, deploy/compose/create-topics.sh, the Strimzi KafkaTopic in deploy/k8s) applies these values.
# The contacts stream is log-compacted, so a tombstone (erasure) removes its key's earlier records. Compaction
# alone has no deadline: max.compaction.lag.ms obliges the log cleaner to compact a record (here, the erasure's
# tombstone, and with it the address it supersedes) within 7 days of its write; segment.ms rolls the active
# segment daily, since the cleaner never touches the active one. So the person's reply address is gone from the
# broker at most 7 days after erasure (plus one log-cleaner pass). delete.retention.ms then keeps the tombstone
# (ids and times only) one more day, long enough for a consumer that was down to read it before it goes too.
DAY_MS = 24 * 60 * 60 * 1000
TOPIC_CONFIGS: dict[Stream, dict[str, str]] = {
    Stream.CONTACTS: {
        "cleanup.policy": "compact",
        "retention.ms": "-1",  # compaction, not age, removes a record: kept while its referral may need it
        "max.compaction.lag.ms": str(7 * DAY_MS),
        "delete.retention.ms": str(DAY_MS),
        "segment.ms": str(DAY_MS),
    },
}


def topic(stream: Stream, namespace: str = DEFAULT_NAMESPACE) -> str:
    return f"{namespace}.{stream.value}"


def topic_config(name: str) -> dict[str, str]:
    """The configuration the topic `name` (in any namespace) is created with: empty for the broker's defaults."""
    return next((dict(config) for stream, config in TOPIC_CONFIGS.items() if name.endswith(f".{stream.value}")), {})


def dead_letter_topic(consumer: str, namespace: str = DEFAULT_NAMESPACE) -> str:
    """Each consuming service has its own dead-letter topic, so its failures are listed on their own."""
    return f"{namespace}.dlq.{consumer}"


def all_topics(namespace: str = DEFAULT_NAMESPACE, consumers: tuple[str, ...] = ()) -> list[str]:
    names = [topic(stream, namespace) for stream in Stream]
    return names + [dead_letter_topic(consumer, namespace) for consumer in consumers]
