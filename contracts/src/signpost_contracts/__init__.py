"""Signpost event contracts: the only thing services share besides the runtime kit."""

from signpost_contracts.base import ContractModel, PayloadError, read_data
from signpost_contracts.envelope import EnvelopeError, EventEnvelope, decode_headers, from_kafka
from signpost_contracts.registry import EVENT_TYPES, EventType, event_type_of, new_event
from signpost_contracts.topics import (
    DEFAULT_NAMESPACE,
    EXTERNAL_STREAMS,
    INBOUND_REFERRAL_TYPE,
    TOPIC_CONFIGS,
    Stream,
    all_topics,
    dead_letter_topic,
    topic,
    topic_config,
)

__all__ = [
    "DEFAULT_NAMESPACE",
    "EVENT_TYPES",
    "EXTERNAL_STREAMS",
    "INBOUND_REFERRAL_TYPE",
    "TOPIC_CONFIGS",
    "ContractModel",
    "EnvelopeError",
    "EventEnvelope",
    "EventType",
    "PayloadError",
    "Stream",
    "all_topics",
    "dead_letter_topic",
    "decode_headers",
    "event_type_of",
    "from_kafka",
    "new_event",
    "read_data",
    "topic",
    "topic_config",
]
