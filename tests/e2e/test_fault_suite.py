"""The fault suite: each fault injected while referrals stream in through the four services running as
OS processes; afterwards every referral is told to its referrer once, counted once by reporting, and
no connector is over capacity.

It runs in every `make test` (about three minutes on two cores); `make faults` runs only it (marker
`faults`). Either prints one report line per fault. The faults:
- kill -9 of each service mid-stream (no drain, no outbox flush), then a restart;
- SIGTERM of each service mid-stream: it must drain and exit 0, then it is restarted;
- a second process of every service joining its consumer group mid-stream, taking work, and leaving
  (two rebalances of every group, two outbox relays on each outbox);
- scale by partition: twelve partitions, three processes of every service, a triage member leaving and
  a new one joining mid-stream; the work spreads over the members;
- every event on Signpost's topics delivered one to three times (byte-identical copies re-published
  while the stream runs, as a producer retry or a consumer rebalance would redeliver them);
- poison records (not JSON, not an event, an event whose data breaks its schema) on every topic: each
  consumer of the topic dead-letters them and goes on.
Its neighbours: tests/e2e/test_faults.py (triage killed, PostgreSQL restarted, in every `make test`),
tests/runtime/test_relay_crash.py (the relay killed between publish and mark).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable

import httpx
import pytest

from signpost_contracts.topics import Stream, dead_letter_topic, topic
from signpost_devstack.stack import LocalStack
from signpost_devstack.synthetic import gp_referral
from support.fault_report import FaultFigures, FaultReport
from support.infra import Record, publish_records, read_topic, unique
from support.journey import FHIR, Journey
from support.stack import stack_for_run

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.faults]

REFERRALS = 24  # per fault: enough to be mid-stream for a while on two cores, few enough to stay bounded
SENDERS = 4  # GP systems sending at once
SERVICES = ("referral_intake", "triage", "notifications", "reporting")
STREAMS = (Stream.REFERRALS, Stream.TRIAGE, Stream.NOTIFICATIONS)
CONSUMERS = {  # which services consume each stream (each app's `consumes`)
    Stream.REFERRALS: ("triage", "notifications", "reporting"),
    Stream.TRIAGE: ("referral_intake", "notifications", "reporting"),
    Stream.NOTIFICATIONS: ("reporting",),
}
SEND_DEADLINE_S = 120
SETTLE_S = 3  # after everything is counted: time for a late duplicate to show itself


def _bodies(seed: int, count: int = REFERRALS) -> list[dict]:
    rng = random.Random(seed)
    return [gp_referral(postcode=f"LS{rng.randint(1, 29)} 1AA", age=rng.randint(20, 90), rng=rng) for _ in range(count)]


async def _refer(journey: Journey, body: dict) -> str:
    """As a GP system would: send until answered, again with the same body after a refused connection or a
    503 (intake dedupes by the referral's identifier, so a retry of one that was stored returns it)."""
    deadline = time.monotonic() + SEND_DEADLINE_S
    while True:
        try:
            response = await journey.client.post(
                f"{journey.stack.url('referral_intake')}/fhir/ServiceRequest",
                json=body,
                headers={**journey.auth, **FHIR},
            )
            if response.status_code in (200, 201):
                return str(response.json()["id"])
            assert response.status_code in (502, 503, 504), response.text
        except httpx.TransportError:
            pass  # intake is down or restarting
        assert time.monotonic() < deadline, "intake did not take the referral back in time"
        await asyncio.sleep(0.3)


async def _stream_with_fault(
    journey: Journey, seed: int, fault: Callable[[], Awaitable[None]], count: int = REFERRALS
) -> list[str]:
    """Send `count` referrals from SENDERS senders; inject the fault once a third are in; all must get in."""
    bodies = _bodies(seed, count)
    ids: list[str] = []
    a_third_in = asyncio.Event()

    async def sender(share: list[dict]) -> None:
        for body in share:
            ids.append(await _refer(journey, body))
            if len(ids) >= count // 3:
                a_third_in.set()

    senders = [asyncio.create_task(sender(bodies[i::SENDERS])) for i in range(SENDERS)]
    waiting = asyncio.create_task(a_third_in.wait())
    await asyncio.wait([waiting, *senders], return_when=asyncio.FIRST_COMPLETED)
    if not waiting.done():
        waiting.cancel()
    await fault()
    await asyncio.gather(*senders)
    assert len(set(ids)) == count, "each referral stored once, retries included"
    return ids


async def _check(
    journey: Journey, fault: str, ids: list[str], before: dict, report: FaultReport, *, resend_window: bool = False
) -> None:
    """Everyone told once (by Message-ID where the documented send-to-record window applies), all counted,
    no one over capacity; the figures are recorded for the report."""
    await journey.emails_about(set(ids), timeout=120)

    def all_counted(summary: dict) -> bool:
        return summary["total_referrals"] - before["total_referrals"] == len(ids) and summary["notifications"][
            "sent"
        ] - before["notifications"]["sent"] == len(ids)

    await journey.summary_when(all_counted, timeout=120)
    await asyncio.sleep(SETTLE_S)
    after = await journey.summary()
    emails = await journey.emails_about(set(ids), timeout=5)
    if resend_window:
        # notifications killed between the SMTP server taking a message and recording it sends it again with
        # the same Message-ID (dispatcher.py): one message, recognisable downstream; any other repeat is not.
        told = {rid: len({m["headers"].get("Message-ID") for m in messages}) for rid, messages in emails.items()}
    else:
        told = {rid: len(messages) for rid, messages in emails.items()}
    roster = (await journey.client.get(f"{journey.stack.url('triage')}/roster", headers=journey.auth)).json()
    over = [c for c in roster["connectors"] if c["caseload"] > c["capacity"]]
    report.record(
        FaultFigures(
            fault=fault,
            referrals_in=len(ids),
            notified_exactly_once=sum(1 for n in told.values() if n == 1),
            counted_by_reporting=after["total_referrals"] - before["total_referrals"],
            over_capacity=len(over),
        )
    )
    assert {rid: n for rid, n in told.items() if n != 1} == {}, "each referrer is told exactly once"
    assert after["total_referrals"] - before["total_referrals"] == len(ids), "each referral counted once"
    assert after["notifications"]["sent"] - before["notifications"]["sent"] == len(ids)
    assert over == [], "no connector over capacity"


@pytest.mark.parametrize("service", SERVICES, ids=[f"kill -9 {s}" for s in SERVICES])
async def test_a_service_killed_mid_stream_loses_nothing_and_repeats_nothing(
    stack: LocalStack, service: str, fault_report: FaultReport
):
    async with httpx.AsyncClient(timeout=30) as client:
        journey = Journey(stack, client)
        before = await journey.summary()
        process = stack.services[service]

        async def kill_and_restart() -> None:
            process.kill()  # SIGKILL: no drain, no outbox flush, offsets of work in hand uncommitted
            await asyncio.sleep(1)  # referrals keep coming (or are refused, for intake) while it is gone
            process.start()
            await asyncio.to_thread(process.wait_ready)

        ids = await _stream_with_fault(journey, seed=100 + SERVICES.index(service), fault=kill_and_restart)
        await _check(journey, f"kill -9 {service}", ids, before, fault_report, resend_window=service == "notifications")


@pytest.mark.parametrize("service", SERVICES, ids=[f"SIGTERM {s}" for s in SERVICES])
async def test_a_service_stopped_mid_stream_drains_and_exits_cleanly(
    stack: LocalStack, service: str, fault_report: FaultReport
):
    async with httpx.AsyncClient(timeout=30) as client:
        journey = Journey(stack, client)
        before = await journey.summary()
        process = stack.services[service]

        async def stop_and_restart() -> None:
            code = await asyncio.to_thread(process.stop)
            assert code == 0, f"{service} did not drain and exit cleanly on SIGTERM:\n{process.log_tail()}"
            process.start()
            await asyncio.to_thread(process.wait_ready)

        ids = await _stream_with_fault(journey, seed=200 + SERVICES.index(service), fault=stop_and_restart)
        await _check(journey, f"SIGTERM {service}", ids, before, fault_report)


async def test_consumers_joining_and_leaving_mid_stream_lose_nothing_and_repeat_nothing(
    stack: LocalStack, fault_report: FaultReport
):
    extras = [stack.another_instance(service, "second") for service in SERVICES]
    during: list[str] = []
    async with httpx.AsyncClient(timeout=30) as client:
        journey = Journey(stack, client)
        before = await journey.summary()

        async def join_then_leave() -> None:
            for process in extras:
                process.start()  # each group grows by one member: a rebalance
            for process in extras:
                await asyncio.to_thread(process.wait_ready)
            # Referrals while every group has two members, work spread over both (and two outbox relays).
            more = _bodies(seed=501)[: REFERRALS // 2]
            during.extend(await asyncio.gather(*(_refer(journey, body) for body in more)))
            for process in extras:
                code = await asyncio.to_thread(process.stop)  # and shrinks again: another
                assert code == 0, f"{process.name} did not leave cleanly:\n{process.log_tail()}"

        try:
            ids = await _stream_with_fault(journey, seed=500, fault=join_then_leave)
        finally:
            for process in extras:
                process.kill()  # no-op for those already stopped
        await _check(journey, "consumers joined and left mid-stream", ids + during, before, fault_report)


SCALED_PARTITIONS = 12
PROCESSES_PER_SERVICE = 3


async def test_at_twelve_partitions_three_processes_per_service_share_the_work_and_stay_correct(
    infrastructure, tmp_path, fault_report: FaultReport
):
    """Scale by partition: every consumer group has three members over twelve partitions; mid-stream one
    triage member leaves and a new one joins. The work spreads, and correctness holds."""
    scaled = stack_for_run(
        unique("scaled"),
        kafka_bootstrap_servers=infrastructure.kafka_bootstrap_servers,
        postgres_url=infrastructure.postgres_url,
        log_dir=tmp_path / "logs",
        partitions=SCALED_PARTITIONS,
    )
    await asyncio.to_thread(scaled.start)
    extras = {
        (service, number): scaled.another_instance(service, f"process-{number}")
        for service in SERVICES
        for number in range(2, PROCESSES_PER_SERVICE + 1)
    }
    newcomer = scaled.another_instance("triage", "newcomer")
    try:
        for process in extras.values():
            process.start()
        for process in extras.values():
            await asyncio.to_thread(process.wait_ready)
        async with httpx.AsyncClient(timeout=30) as client:
            journey = Journey(scaled, client)
            before = await journey.summary()

            async def one_leaves_one_joins() -> None:
                leaving = extras[("triage", PROCESSES_PER_SERVICE)]
                assert await asyncio.to_thread(leaving.stop) == 0, leaving.log_tail()
                newcomer.start()
                await asyncio.to_thread(newcomer.wait_ready)

            ids = await _stream_with_fault(journey, seed=700, fault=one_leaves_one_joins, count=3 * REFERRALS)
            await _check(journey, "12 partitions, 3 processes per service", ids, before, fault_report)
        triage_members = [scaled.services["triage"], extras[("triage", 2)], extras[("triage", 3)], newcomer]
        handled = {m.log_file.name: m.log_file.read_text().count('"logger": "triage.service"') for m in triage_members}
        assert sum(1 for n in handled.values() if n > 0) >= PROCESSES_PER_SERVICE, f"the work did not spread: {handled}"
    finally:
        for process in [newcomer, *extras.values()]:
            await asyncio.to_thread(process.stop)
        await asyncio.to_thread(scaled.stop)


class Duplicator:
    """Re-publishes each record on Signpost's topics zero to two more times, byte for byte, once each."""

    def __init__(self, stack: LocalStack, seed: int) -> None:
        self._stack = stack
        self._rng = random.Random(seed)
        self._copied: set[tuple[str, bytes]] = set()
        self.copies = 0

    async def duplicate_what_is_there(self) -> None:
        bootstrap = self._stack.config.kafka_bootstrap_servers
        for stream in STREAMS:
            name = topic(stream, self._stack.config.namespace)
            records = await read_topic(bootstrap, name, until=lambda _: False, timeout=2)
            copies: list[Record] = []
            for record in records:
                event_id = dict(record.headers).get("ce_id", b"")
                if (name, event_id) in self._copied:
                    continue  # a copy, or an original already copied
                self._copied.add((name, event_id))
                copies += [(record.key, record.value, list(record.headers))] * self._rng.randint(0, 2)
            self._rng.shuffle(copies)
            await publish_records(bootstrap, name, copies)
            self.copies += len(copies)


async def test_every_event_delivered_one_to_three_times_is_acted_on_once(stack: LocalStack, fault_report: FaultReport):
    async with httpx.AsyncClient(timeout=30) as client:
        journey = Journey(stack, client)
        before = await journey.summary()
        duplicator = Duplicator(stack, seed=301)
        ids = await _stream_with_fault(journey, seed=300, fault=duplicator.duplicate_what_is_there)
        await journey.emails_about(set(ids), timeout=120)  # the rest of the stream's events are on the topics
        await duplicator.duplicate_what_is_there()
        assert duplicator.copies > REFERRALS, "the test re-published copies of the stream's events"
        await _check(journey, "every event delivered 1-3 times", ids, before, fault_report)


def _poison(run: str) -> list[Record]:
    event_header = [("ce_specversion", b"1.0"), ("ce_type", b"referral.received.v2"), ("ce_source", b"/poison")]
    return [
        (f"{run}-not-json".encode(), b"\xff\xfe not json at all", []),
        (f"{run}-not-an-event".encode(), b'{"hello": "world"}', []),
        (f"{run}-broken-data".encode(), b'{"referral_id": 42}', [*event_header, ("ce_id", f"{run}-broken".encode())]),
    ]


async def test_poison_records_on_every_topic_are_dead_lettered_and_the_stream_flows_on(
    stack: LocalStack, fault_report: FaultReport
):
    bootstrap, namespace = stack.config.kafka_bootstrap_servers, stack.config.namespace
    run = f"poison-{random.randrange(10**9)}"
    async with httpx.AsyncClient(timeout=30) as client:
        journey = Journey(stack, client)
        before = await journey.summary()

        async def poison_every_topic() -> None:
            for stream in STREAMS:
                await publish_records(bootstrap, topic(stream, namespace), _poison(f"{run}-{stream.value}"))

        ids = await _stream_with_fault(journey, seed=400, fault=poison_every_topic)
        await _check(journey, "poison records on every topic", ids, before, fault_report)

    for stream, consumers in CONSUMERS.items():
        expected = {key for key, _, _ in _poison(f"{run}-{stream.value}")}
        for consumer in consumers:
            letters = await read_topic(
                bootstrap,
                dead_letter_topic(consumer, namespace),
                until=lambda records, expected=expected: expected <= {r.key for r in records},
                timeout=30,
            )
            held = Counter(r.key for r in letters if r.key in expected)
            assert set(held) == expected, f"{consumer} dead-lettered {sorted(held)} of {sorted(expected)}"
