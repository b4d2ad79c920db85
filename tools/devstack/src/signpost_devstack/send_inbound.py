"""Send a FHIR ServiceRequest on the inbound topic, as an integration engine would, and print the answer.

    .venv/bin/python -m signpost_devstack.send_inbound examples/gp-referral.json

The message is a CloudEvent in Kafka binary mode (ce_* headers, the ServiceRequest as the value), from
the example producer of examples/inbound-producers.toml unless --source says otherwise. The answer is
read from the replies topic: referral.inbound-accepted.v1 with Signpost's ids, or referral.inbound-refused.v1
with the OperationOutcome. Exit status 0 when accepted, 1 when refused, 2 when no answer came in time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from signpost_contracts import DEFAULT_NAMESPACE, INBOUND_REFERRAL_TYPE, Stream, topic

EXAMPLE_SOURCE = "urn:example:leeds-integration-engine"


def headers(message_id: str, source: str, subject: str) -> list[tuple[str, bytes]]:
    attributes = {
        "ce_specversion": "1.0",
        "ce_id": message_id,
        "ce_type": INBOUND_REFERRAL_TYPE,
        "ce_source": source,
        "ce_subject": subject,
        "ce_time": datetime.now(UTC).isoformat(),
        "content-type": "application/fhir+json",
    }
    return [(name, value.encode()) for name, value in attributes.items()]


async def send_and_wait(
    bootstrap: str, namespace: str, resource: dict[str, Any], source: str, timeout: float
) -> dict[str, Any] | None:
    message_id = str(uuid.uuid4())
    subject = str(resource.get("id") or message_id)
    # Read the replies from their current end before sending, so the answer cannot be missed.
    replies = AIOKafkaConsumer(
        topic(Stream.INBOUND_REPLIES, namespace), bootstrap_servers=bootstrap, auto_offset_reset="latest"
    )
    await replies.start()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await replies.getmany(timeout_ms=500)  # joins, and fixes the starting position
        value = json.dumps(resource).encode()
        await producer.send_and_wait(
            topic(Stream.INBOUND_REFERRALS, namespace),
            value,
            key=subject.encode(),
            headers=headers(message_id, source, subject),
        )
        print(f"sent message {message_id} from {source}", file=sys.stderr)
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            for records in (await replies.getmany(timeout_ms=500)).values():
                for record in records:
                    answer = json.loads(record.value)
                    if answer.get("answers", {}).get("event_id") == message_id:
                        return {"type": dict(record.headers)["ce_type"].decode(), **answer}
        return None
    finally:
        await producer.stop()
        await replies.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("file", type=Path, help="a FHIR R4 ServiceRequest as JSON, e.g. examples/gp-referral.json")
    parser.add_argument("--source", default=EXAMPLE_SOURCE, help="the CloudEvents source (the producer)")
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"))
    parser.add_argument("--namespace", default=os.environ.get("TOPIC_NAMESPACE", DEFAULT_NAMESPACE))
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the answer")
    args = parser.parse_args(argv)
    resource = json.loads(args.file.read_text(encoding="utf-8"))
    answer = asyncio.run(send_and_wait(args.bootstrap, args.namespace, resource, args.source, args.timeout))
    if answer is None:
        print(f"no answer on {topic(Stream.INBOUND_REPLIES, args.namespace)} within {args.timeout}s", file=sys.stderr)
        return 2
    print(json.dumps(answer, indent=2))
    return 0 if answer["type"] == "referral.inbound-accepted.v1" else 1


if __name__ == "__main__":
    sys.exit(main())
