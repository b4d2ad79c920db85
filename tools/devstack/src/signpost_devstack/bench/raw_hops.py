"""The raw limit: plain aiokafka passing messages through four chained hops, one process per hop.

Each hop consumes its input topic in batches, produces every message to the next topic, waits for
the broker's acknowledgements and then commits: the same at-least-once shape as a Signpost service,
minus the database, the envelope and the business logic.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import subprocess
import sys
import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from signpost_devstack.broker import create_topics

HOPS = 4


def _consumer_options(bootstrap: str) -> dict[str, object]:
    # The same group and fetch timings the services use in the benchmark, so only the work differs.
    return {
        "bootstrap_servers": bootstrap,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "session_timeout_ms": 3000,
        "heartbeat_interval_ms": 750,
        "fetch_max_wait_ms": 100,
    }


async def hop(bootstrap: str, source: str, sink: str, group: str) -> None:
    consumer = AIOKafkaConsumer(source, group_id=group, **_consumer_options(bootstrap))
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await consumer.start()
    await producer.start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    try:
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=200)
            sends = [
                await producer.send(sink, record.value, key=record.key, headers=record.headers)
                for records in batches.values()
                for record in records
            ]
            if sends:
                await asyncio.gather(*sends)
                await consumer.commit()
    finally:
        await consumer.stop()
        await producer.stop()


async def _drive(bootstrap: str, topics: list[str], count: int, payload: bytes) -> float:
    consumer = AIOKafkaConsumer(topics[-1], **_consumer_options(bootstrap))
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await consumer.start()
    await producer.start()
    # Warm up: one message through every hop, so no group join is inside the measurement.
    await producer.send_and_wait(topics[0], payload, key=b"warm-up")
    await consumer.getone()
    started = time.perf_counter()
    sends = [await producer.send(topics[0], payload, key=str(i).encode()) for i in range(count)]
    await asyncio.gather(*sends)
    received = 0
    while received < count:
        batches = await consumer.getmany(timeout_ms=1000)
        received += sum(len(records) for records in batches.values())
    elapsed = time.perf_counter() - started
    await consumer.stop()
    await producer.stop()
    return count / elapsed


def measure(bootstrap: str, count: int, payload: bytes, run_id: str) -> float:
    """Messages per second through four hops, each hop its own OS process."""
    topics = [f"bench-{run_id}.raw{i}" for i in range(HOPS + 1)]
    asyncio.run(create_topics(bootstrap, topics, partitions=3))
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", __name__, bootstrap, topics[i], topics[i + 1], f"bench-{run_id}-hop{i}"],
            start_new_session=True,
        )
        for i in range(HOPS)
    ]
    try:
        return asyncio.run(_drive(bootstrap, topics, count, payload))
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(15)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("bootstrap")
    parser.add_argument("source")
    parser.add_argument("sink")
    parser.add_argument("group")
    args = parser.parse_args()
    asyncio.run(hop(args.bootstrap, args.source, args.sink, args.group))
