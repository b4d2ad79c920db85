"""Faults injected into the running system: afterwards nothing is lost and nothing is done twice."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator

import httpx
import pytest
from conftest import server_directory

from signpost_devstack.postgres import EmbeddedPostgres
from signpost_devstack.stack import LocalStack
from signpost_devstack.synthetic import gp_referral
from support.infra import unique
from support.journey import Journey
from support.stack import stack_for_run

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _referrals(count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    return [gp_referral(postcode=f"LS{rng.randint(1, 29)} 1AA", age=rng.randint(20, 90), rng=rng) for _ in range(count)]


async def _assert_each_referral_emailed_once_and_counted(journey: Journey, ids: set[str], before: dict) -> None:
    emails = await journey.emails_about(ids, timeout=90)
    duplicates = {rid: len(messages) for rid, messages in emails.items() if len(messages) != 1}
    assert duplicates == {}, "each referrer is told exactly once per referral"

    def all_counted(summary: dict) -> bool:
        return summary["notifications"]["sent"] - before["notifications"]["sent"] == len(ids)

    after = await journey.summary_when(all_counted, timeout=60)
    assert after["total_referrals"] - before["total_referrals"] == len(ids)


async def test_killing_triage_mid_stream_loses_nothing_and_duplicates_nothing(stack: LocalStack):
    async with httpx.AsyncClient(timeout=30) as client:
        journey = Journey(stack, client)
        before = await journey.summary()
        first = [await journey.refer(body) for body in _referrals(15, seed=11)]
        await journey.summary_when(lambda s: sum(s["by_decision"].values()) > sum(before["by_decision"].values()))

        stack.services["triage"].kill()  # SIGKILL: no drain, no outbox flush
        second = [await journey.refer(body) for body in _referrals(15, seed=12)]
        stack.services["triage"].start()
        await asyncio.to_thread(stack.services["triage"].wait_ready)

        await _assert_each_referral_emailed_once_and_counted(journey, set(first + second), before)
        roster = (await client.get(f"{stack.url('triage')}/roster", headers=journey.auth)).json()
        for connector in roster["connectors"]:
            assert connector["caseload"] <= connector["capacity"], connector


@pytest.fixture
def own_postgres() -> Iterator[EmbeddedPostgres]:
    """A PostgreSQL this test alone may restart, whatever infrastructure the session uses."""
    with server_directory("signpost-test-pg-") as directory:
        postgres = EmbeddedPostgres(directory / "pg", durable=True)
        postgres.start()
        yield postgres
        postgres.stop()


async def test_a_database_restart_under_load_loses_nothing_and_duplicates_nothing(
    infrastructure, own_postgres, tmp_path
):
    run = unique("dbrestart")
    stack = stack_for_run(
        run,
        kafka_bootstrap_servers=infrastructure.kafka_bootstrap_servers,
        postgres_url=own_postgres.url,
        log_dir=tmp_path / "logs",
    )
    await asyncio.to_thread(stack.start)
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            journey = Journey(stack, client)
            before = await journey.summary()
            ids = [await journey.refer(body) for body in _referrals(10, seed=21)]

            await asyncio.to_thread(own_postgres.stop)
            refused = await client.post(
                f"{stack.url('referral_intake')}/fhir/ServiceRequest",
                json=_referrals(1, seed=22)[0],
                headers={**journey.auth, "Content-Type": "application/fhir+json"},
            )
            assert refused.status_code == 503, "an outage is reported as such, never as a bad request"
            assert refused.json()["resourceType"] == "OperationOutcome"
            await asyncio.to_thread(own_postgres.start)

            ids += [await _refer_when_back(journey, body) for body in _referrals(10, seed=23)]
            await _assert_each_referral_emailed_once_and_counted(journey, set(ids), before)
            for name in stack.services:
                ready = await client.get(f"{stack.url(name)}/health/ready")
                assert ready.status_code == 200, (name, ready.text)
    finally:
        await asyncio.to_thread(stack.stop)


async def _refer_when_back(journey: Journey, body: dict, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await journey.refer(body)
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)
