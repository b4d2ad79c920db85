"""A bare outbox relay in its own OS process, so a test can kill it with SIGKILL mid-publish.

DATABASE_URL=... KAFKA_BOOTSTRAP_SERVERS=... python tests/support/relay_process.py
"""

from __future__ import annotations

import asyncio
import os
import signal

from faststream.kafka import KafkaBroker

from signpost_runtime.db import create_pool
from signpost_runtime.publishing import KafkaPublisher
from signpost_runtime.relay import OutboxRelay


async def main() -> None:
    database_url = os.environ["DATABASE_URL"]
    broker = KafkaBroker(os.environ["KAFKA_BOOTSTRAP_SERVERS"], acks="all")
    await broker.start()
    pool = await create_pool(database_url, 4)
    relay = OutboxRelay(
        pool,
        KafkaPublisher(broker, max_record_bytes=1024 * 1024),
        database_url=database_url,
        batch_size=int(os.environ.get("RELAY_BATCH", "20")),
        lease_seconds=float(os.environ.get("RELAY_LEASE_SECONDS", "1")),
        poll_seconds=0.1,
    )
    relay.start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await relay.stop(flush_timeout=5)
    await broker.stop()
    await pool.close()


if __name__ == "__main__":
    asyncio.run(main())
