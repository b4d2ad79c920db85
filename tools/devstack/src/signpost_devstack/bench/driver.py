"""Drives the running stack over its public HTTP APIs, as a GP system and an operator would."""

from __future__ import annotations

import asyncio
import json
import random
import time
from datetime import datetime

import httpx

from signpost_devstack.stack import LocalStack
from signpost_devstack.synthetic import demo_mix

FHIR_JSON = "application/fhir+json"


class Driver:
    def __init__(self, stack: LocalStack, seed: int = 7) -> None:
        self.stack = stack
        self.rng = random.Random(seed)
        self.headers = {"Authorization": f"Bearer {stack.token()}", "Content-Type": FHIR_JSON}

    def sample_payload(self) -> bytes:
        return json.dumps(demo_mix(self.rng)).encode()

    async def _post(self, client: httpx.AsyncClient, body: dict[str, object]) -> tuple[str, float]:
        response = await client.post(f"{self.stack.url('referral_intake')}/fhir/ServiceRequest", json=body)
        if response.status_code != 201:
            raise RuntimeError(f"intake answered {response.status_code}: {response.text[:500]}")
        return str(response.json()["id"]), time.time()

    async def _notified_count(self, client: httpx.AsyncClient) -> int:
        response = await client.get(f"{self.stack.url('reporting')}/api/summary")
        response.raise_for_status()
        return int(response.json()["notifications"]["sent"])

    async def _wait_counted(self, client: httpx.AsyncClient, target: int, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while await self._notified_count(client) < target:
            if time.monotonic() > deadline:
                raise TimeoutError(f"reporting did not count {target} notifications within {timeout}s")
            await asyncio.sleep(0.1)

    async def warm_up(self) -> None:
        """One referral all the way through, so no group join or first connection is measured."""
        async with httpx.AsyncClient(headers=self.headers, timeout=60) as client:
            baseline = await self._notified_count(client)
            await self._post(client, demo_mix(self.rng))
            await self._wait_counted(client, baseline + 1)

    async def throughput(self, count: int, concurrency: int) -> float:
        """Referrals per second, from the first POST until reporting counted every notification."""
        bodies = [demo_mix(self.rng) for _ in range(count)]
        async with httpx.AsyncClient(headers=self.headers, timeout=60) as client:
            baseline = await self._notified_count(client)
            queue: asyncio.Queue[dict[str, object]] = asyncio.Queue()
            for body in bodies:
                queue.put_nowait(body)

            async def worker() -> None:
                while not queue.empty():
                    await self._post(client, queue.get_nowait())

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            await self._wait_counted(client, baseline + count)
            return count / (time.perf_counter() - started)

    async def latency(self, count: int, rate: float) -> list[float]:
        """Seconds from intake's 201 to the referrer's email at the SMTP sink, at a fixed offered rate."""
        accepted: dict[str, float] = {}
        async with httpx.AsyncClient(headers=self.headers, timeout=60) as client:
            baseline = await self._notified_count(client)
            tasks = []
            start = time.perf_counter()
            for i in range(count):
                await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
                tasks.append(asyncio.create_task(self._post(client, demo_mix(self.rng))))
            for referral_id, at in await asyncio.gather(*tasks):
                accepted[referral_id] = at
            await self._wait_counted(client, baseline + count)
            emailed = await self._email_times(client, set(accepted))
        return [emailed[referral_id] - at for referral_id, at in accepted.items()]

    async def _email_times(self, client: httpx.AsyncClient, referral_ids: set[str]) -> dict[str, float]:
        response = await client.get(f"{self.stack.sink_url}/messages")
        response.raise_for_status()
        times: dict[str, float] = {}
        for message in response.json():
            referral_id = message["headers"].get("X-Signpost-Referral-Id")
            if referral_id in referral_ids:
                times[referral_id] = datetime.fromisoformat(message["received_at"]).timestamp()
        missing = referral_ids - set(times)
        if missing:
            example = sorted(missing)[:3]
            raise RuntimeError(f"{len(missing)} referral(s) counted but no email at the sink, e.g. {example}")
        return times
