"""`signpost-dlq`: list and replay a service's dead letters.

    signpost-dlq list   --consumer triage
    signpost-dlq replay --consumer triage --event-id <ce_id>   (or --offset N, or --all)

It connects as the services do (KAFKA_BOOTSTRAP_SERVERS, KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_*, KAFKA_SSL_*:
settings.py), under its own Kafka user on a cluster with ACLs (deploy/k8s/base/kafka-users.yaml).

Replay restores the original key, value and headers and publishes to the original topic. Every
consumer records event ids in its inbox, so a consumer that already applied the event ignores it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from pydantic import ValidationError

from signpost_contracts import DEFAULT_NAMESPACE, dead_letter_topic
from signpost_runtime.dead_letters import DLQ_PREFIX
from signpost_runtime.kafka_security import KafkaSecurityError, client_options
from signpost_runtime.records import ReceivedRecord
from signpost_runtime.settings import KafkaClientSettings


async def read_dead_letters(kafka: KafkaClientSettings, dlq_topic: str) -> list[ReceivedRecord]:
    # No group: listing commits nothing, so it needs no consumer-group ACL and can run beside the service.
    consumer = AIOKafkaConsumer(**client_options(kafka), enable_auto_commit=False)
    await consumer.start()
    try:
        if dlq_topic not in await consumer.topics():  # also loads metadata for every topic
            return []
        partitions = [TopicPartition(dlq_topic, p) for p in consumer.partitions_for_topic(dlq_topic) or ()]
        if not partitions:
            return []
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        records: list[ReceivedRecord] = []
        while [tp for tp in partitions if await consumer.position(tp) < end[tp]]:
            batch = await consumer.getmany(timeout_ms=1000)
            for messages in batch.values():
                records.extend(ReceivedRecord.from_consumer_record(m) for m in messages)
        return sorted(records, key=lambda r: (r.partition, r.offset))
    finally:
        await consumer.stop()


def describe(record: ReceivedRecord) -> dict[str, Any]:
    headers = record.text_headers()
    return {
        "dlq_offset": f"{record.partition}:{record.offset}",
        "event_id": headers.get("ce_id"),
        "event_type": headers.get("ce_type"),
        "original": f"{headers.get('dlq_original_topic')}/{headers.get('dlq_original_partition')}"
        f"@{headers.get('dlq_original_offset')}",
        "failed_at": headers.get("dlq_failed_at"),
        "attempts": headers.get("dlq_attempts"),
        "reason": headers.get("dlq_reason"),
    }


async def replay(kafka: KafkaClientSettings, records: list[ReceivedRecord]) -> int:
    producer = AIOKafkaProducer(**client_options(kafka), acks="all")
    await producer.start()
    try:
        for record in records:
            headers = [(name, value) for name, value in record.headers if not name.startswith(DLQ_PREFIX)]
            original_topic = record.text_headers()["dlq_original_topic"]
            headers.append(("signpost_replayed_from", f"{record.topic}:{record.partition}:{record.offset}".encode()))
            await producer.send_and_wait(original_topic, record.value, key=record.key, headers=headers)
    finally:
        await producer.stop()
    return len(records)


def _select(records: list[ReceivedRecord], args: argparse.Namespace) -> list[ReceivedRecord]:
    if args.all:
        return records
    if args.event_id:
        return [r for r in records if r.text_headers().get("ce_id") == args.event_id]
    return [r for r in records if f"{r.partition}:{r.offset}" == args.offset]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="signpost-dlq", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["list", "replay"])
    parser.add_argument("--consumer", required=True, help="service whose dead letters to read, e.g. triage")
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"))
    parser.add_argument("--namespace", default=os.environ.get("TOPIC_NAMESPACE", DEFAULT_NAMESPACE))
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--event-id", help="replay the dead letter with this ce_id")
    which.add_argument("--offset", help="replay the dead letter at PARTITION:OFFSET (as listed)")
    which.add_argument("--all", action="store_true", help="replay every dead letter")
    args = parser.parse_args(argv)
    try:
        kafka = KafkaClientSettings(kafka_bootstrap_servers=args.bootstrap)
        client_options(kafka)  # a missing CA or key file is reported now, before anything is read
    except (ValidationError, KafkaSecurityError) as exc:
        print(f"signpost-dlq: Kafka connection settings refused: {exc}", file=sys.stderr)
        return 2
    records = asyncio.run(read_dead_letters(kafka, dead_letter_topic(args.consumer, args.namespace)))
    if args.command == "list":
        for record in records:
            print(json.dumps(describe(record)))
        print(f"{len(records)} dead letter(s)", file=sys.stderr)
        return 0
    if not (args.all or args.event_id or args.offset):
        parser.error("replay needs --event-id, --offset or --all")
    chosen = _select(records, args)
    if not chosen:
        print("no dead letter matched", file=sys.stderr)
        return 1
    print(f"replayed {asyncio.run(replay(kafka, chosen))} message(s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
