"""An AsyncAPI 3.0 document generated from the services' own definitions.

    python -m signpost_devstack.asyncapi           check the committed contracts/asyncapi.json is current
    python -m signpost_devstack.asyncapi --write   regenerate it (`make schemas` does both documents)

Channels and messages come from signpost_contracts; which service sends and receives what comes
from each service's ServiceDefinition, so the document cannot drift from the code.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any

from signpost_contracts import (
    DEFAULT_NAMESPACE,
    EVENT_TYPES,
    INBOUND_REFERRAL_TYPE,
    TOPIC_CONFIGS,
    EventType,
    Stream,
    dead_letter_topic,
    topic,
)
from signpost_contracts.vocabulary import SERVICES
from signpost_runtime.runtime import ServiceDefinition

DOCUMENT = Path(__file__).resolve().parents[4] / "contracts" / "asyncapi.json"
CE_HEADERS = {
    "type": "object",
    "required": ["ce_specversion", "ce_id", "ce_type", "ce_source", "ce_time", "ce_subject", "ce_correlationid"],
    "properties": {
        "ce_specversion": {"type": "string", "const": "1.0"},
        "ce_id": {"type": "string", "description": "event id; consumers record it in their inbox"},
        "ce_type": {"type": "string"},
        "ce_source": {"type": "string"},
        "ce_time": {"type": "string", "format": "date-time"},
        "ce_subject": {"type": "string", "description": "the referral id, also the record key"},
        "ce_correlationid": {"type": "string"},
        "ce_causationid": {"type": "string", "description": "id of the event that caused this one"},
        "content-type": {"type": "string", "const": "application/json"},
    },
}

# What an integration engine sends on the inbound topic: not a Signpost event, but a FHIR resource.
INBOUND_REFERRAL = {
    "name": INBOUND_REFERRAL_TYPE,
    "title": "Inbound referral",
    "summary": "A referral from an integration engine listed in intake's INBOUND_PRODUCERS (by ce_source)",
    "contentType": "application/fhir+json",
    "headers": {**CE_HEADERS, "required": ["ce_id", "ce_type", "ce_source", "ce_time", "ce_subject"]},
    "payload": {
        "type": "object",
        "description": "a self-contained FHIR R4 ServiceRequest, as POST /fhir/ServiceRequest takes it",
        "required": ["resourceType"],
        "properties": {"resourceType": {"const": "ServiceRequest"}},
    },
}


def service_definitions() -> dict[str, ServiceDefinition]:
    """Each service's definition, built the way its process builds it (no connection is made)."""
    definitions = {}
    for name in SERVICES:
        app = importlib.import_module(f"{name}.app").create_app()
        definitions[name] = app.state.runtime.definition
    return definitions


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/{kind}/{name}"}


def _message(event_type: EventType, schemas: dict[str, Any]) -> dict[str, Any]:
    payload = event_type.model.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(payload.pop("$defs", {}))
    schemas[event_type.model.__name__] = payload
    return {
        "name": event_type.name,
        "title": event_type.model.__name__,
        "summary": (event_type.model.__doc__ or "").strip().split("\n")[0],
        "contentType": "application/json",
        "headers": CE_HEADERS,
        "payload": _ref("components/schemas", event_type.model.__name__),
        "bindings": {"kafka": {"key": {"type": "string", "description": "referral id"}}},
        **(
            {"description": "sent as a Kafka tombstone: a null value under the key, CloudEvents attributes in headers"}
            if event_type.tombstone
            else {}
        ),
    }


def _operations(name: str, definition: ServiceDefinition, namespace: str) -> dict[str, Any]:
    operations: dict[str, Any] = {}
    for stream in Stream:
        sent = [e for e in definition.publishes if e.stream is stream]
        if sent:
            operations[f"{name}.send.{stream.value}"] = {
                "action": "send",
                "channel": _ref("channels", stream.value),
                "messages": [_ref(f"channels/{stream.value}/messages", e.name) for e in sent],
            }
    group = f"{namespace}.{name}"
    for stream in definition.consumes:
        operations[f"{name}.receive.{stream.value}"] = {
            "action": "receive",
            "channel": _ref("channels", stream.value),
            "summary": "types it does not handle are acknowledged and ignored",
            "bindings": {"kafka": {"groupId": {"type": "string", "enum": [group]}}},
        }
    for external in definition.external:
        operations[f"{name}.receive.{external.stream.value}"] = {
            "action": "receive",
            "channel": _ref("channels", external.stream.value),
            "summary": "every record is answered on the replies topic; a refused one is dead-lettered too",
            "bindings": {"kafka": {"groupId": {"type": "string", "enum": [f"{group}.{external.name}"]}}},
        }
    if definition.consumes or definition.external:
        operations[f"{name}.send.dlq"] = {"action": "send", "channel": _ref("channels", f"dlq-{name}")}
    return operations


def document(definitions: dict[str, ServiceDefinition], namespace: str = DEFAULT_NAMESPACE) -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    messages = {name: _message(event_type, schemas) for name, event_type in EVENT_TYPES.items()}
    channels: dict[str, Any] = {
        stream.value: {
            "address": topic(stream, namespace),
            "messages": {n: _ref("components/messages", n) for n, e in EVENT_TYPES.items() if e.stream is stream},
        }
        for stream in Stream
    }
    channels[Stream.INBOUND_REFERRALS.value]["messages"] = {INBOUND_REFERRAL_TYPE: INBOUND_REFERRAL}
    for stream, config in TOPIC_CONFIGS.items():
        settings = ", ".join(f"{name}={value}" for name, value in config.items())
        channels[stream.value]["description"] = f"topic configuration (signpost_contracts.TOPIC_CONFIGS): {settings}"
    for name, definition in definitions.items():
        if definition.consumes or definition.external:
            channels[f"dlq-{name}"] = {
                "address": dead_letter_topic(name, namespace),
                "description": "messages this service gave up on, whole, with dlq_* headers saying why",
            }
    operations: dict[str, Any] = {}
    for name, definition in definitions.items():
        operations.update(_operations(name, definition, namespace))
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Signpost",
            "version": "1.0.0",
            "description": "Referral routing for community connector services: events between the services.",
        },
        "defaultContentType": "application/json",
        "servers": {"local": {"host": "127.0.0.1:9092", "protocol": "kafka"}},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": dict(sorted(schemas.items()))},
    }


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    current = render(document(service_definitions()))
    if args.write:
        DOCUMENT.write_text(current)
        print(f"wrote {DOCUMENT}", file=sys.stderr)
        return 0
    if not DOCUMENT.exists() or DOCUMENT.read_text() != current:
        print(f"{DOCUMENT} is stale; run `make schemas`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
