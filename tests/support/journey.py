"""Talking to a running stack the way a GP system and an operator would."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from signpost_devstack.stack import LocalStack

FHIR = {"Content-Type": "application/fhir+json"}


class Journey:
    def __init__(self, stack: LocalStack, client: httpx.AsyncClient) -> None:
        self.stack = stack
        self.client = client
        self.auth = {"Authorization": f"Bearer {stack.token()}"}

    async def refer(self, service_request: dict[str, Any]) -> str:
        response = await self.client.post(
            f"{self.stack.url('referral_intake')}/fhir/ServiceRequest",
            json=service_request,
            headers={**self.auth, **FHIR},
        )
        assert response.status_code == 201, response.text
        assert response.headers["Location"].endswith(f"/fhir/ServiceRequest/{response.json()['id']}")
        return str(response.json()["id"])

    async def task(self, referral_id: str) -> dict[str, Any]:
        response = await self.client.get(
            f"{self.stack.url('referral_intake')}/fhir/Task",
            params={"focus": f"ServiceRequest/{referral_id}"},
            headers=self.auth,
        )
        assert response.status_code == 200, response.text
        bundle = response.json()
        assert bundle["resourceType"] == "Bundle"
        assert bundle["type"] == "searchset"
        [entry] = bundle["entry"]
        return dict(entry["resource"])

    async def settled_task(self, referral_id: str, timeout: float = 30) -> dict[str, Any]:
        """The Task once triage has spoken (and, if accepted, once assignment or waitlisting is known)."""
        deadline = time.monotonic() + timeout
        while True:
            task = await self.task(referral_id)
            settled = task["status"] == "rejected" or (task["status"] == "accepted" and task.get("businessStatus"))
            if settled:
                return task
            assert time.monotonic() < deadline, f"Task for {referral_id} still {task['status']} after {timeout}s"
            await asyncio.sleep(0.2)

    async def emails(self) -> list[dict[str, Any]]:
        response = await self.client.get(f"{self.stack.sink_url}/messages")
        response.raise_for_status()
        return list(response.json())

    async def emails_about(self, referral_ids: set[str], timeout: float = 30) -> dict[str, list[dict[str, Any]]]:
        """Emails per referral id, once every one of them has at least one."""
        deadline = time.monotonic() + timeout
        while True:
            by_referral: dict[str, list[dict[str, Any]]] = {rid: [] for rid in referral_ids}
            for message in await self.emails():
                rid = message["headers"].get("X-Signpost-Referral-Id")
                if rid in by_referral:
                    by_referral[rid].append(message)
            if all(by_referral.values()):
                return by_referral
            missing = [rid for rid, messages in by_referral.items() if not messages]
            assert time.monotonic() < deadline, f"no email yet for {missing}"
            await asyncio.sleep(0.2)

    async def summary(self) -> dict[str, Any]:
        response = await self.client.get(f"{self.stack.url('reporting')}/api/summary", headers=self.auth)
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def summary_when(self, predicate: Any, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            summary = await self.summary()
            if predicate(summary):
                return summary
            assert time.monotonic() < deadline, f"summary never matched; last: {summary}"
            await asyncio.sleep(0.2)
