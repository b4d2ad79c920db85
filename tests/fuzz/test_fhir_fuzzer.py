"""A FHIR fuzzer on intake's front door: at least 10,000 generated and mutated ServiceRequests.

Each case goes to the real app (in-process, through httpx's ASGI transport) on real PostgreSQL and
the real broker, and every answer is checked: never a 5xx, always FHIR JSON; a refused request
stored nothing and published nothing; an accepted one stored one referral and one event, for the
referral its Location names. At the end every accepted referral was published, once.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections import Counter
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import asyncpg
import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from fuzz.fhir_cases import FhirCase, fhir_cases
from fuzz.summary import record_summary
from referral_intake.app import create_app
from referral_intake.config import IntakeSettings
from signpost_contracts import Stream, topic
from support.auth import bearer
from support.infra import read_topic, wait_until
from support.services import settings_for

pytestmark = [
    pytest.mark.integration,
    # intake's Kafka client draws from `random` in its own thread while hypothesis generates a case,
    # which hypothesis takes for a strategy using `random`; the cases themselves never do.
    pytest.mark.filterwarnings("ignore:Do not use the `random` module:hypothesis.errors.HypothesisDeprecationWarning"),
]

DEFAULT_CASES = 10_000
# Cases sent per hypothesis example: hypothesis' own work for each example costs about as much as
# making a case, so a batch of them shares it.
BATCH = 4
# CI's larger run (`-m fuzz`); SIGNPOST_FUZZ_CASES sets another size.
FUZZ_CASES = int(os.environ.get("SIGNPOST_FUZZ_CASES", "50000"))

TOKENS = {
    "practice": bearer("referrals:write", "referrals:read", ods="B82005"),
    "intermediary": bearer("referrals:write-on-behalf", "referrals:read", ods="X26"),
    "another practice": bearer("referrals:write", "referrals:read", ods="C84001"),
    "read only": bearer("referrals:read", ods="B82005"),
    "none": {},
    "garbage": {"Authorization": "Bearer not.a.token"},
}
# One round trip per case: nothing else writes to these tables while the fuzzer runs, so the change
# since the case before is what this case did.
COUNTS = (
    "SELECT (SELECT count(*) FROM referrals) AS referrals,"
    " (SELECT count(*) FROM referral_identifiers) AS referral_identifiers,"
    " (SELECT count(*) FROM referral_requests) AS referral_requests,"
    " (SELECT count(*) FROM outbox) AS outbox,"
    " (SELECT ARRAY[message_key, event_type] FROM outbox ORDER BY id DESC LIMIT 1) AS latest_event"
)
T = TypeVar("T")


@dataclass
class Answer:
    status: int
    media_type: str
    text: str
    location: str | None
    counts: dict[str, int]
    latest_event: tuple[str, ...] | None = None


@dataclass
class Run:
    """What the fuzzer saw, for the checks that span cases and for the summary."""

    statuses: Counter[int] = field(default_factory=Counter)
    created: set[str] = field(default_factory=set)
    repeats: int = 0
    sent: int = 0  # shrinking a failure sends cases again; each gets identifiers of its own

    @property
    def cases(self) -> int:
        return sum(self.statuses.values())


class Intake:
    """intake running on an event loop in a thread of its own, driven case by case by (synchronous) hypothesis.

    The loop runs throughout, so the runtime's relay and consumer carry on between cases as they would
    in production, and the anyio worker threads FastAPI runs sync dependencies on live as long as it.
    """

    def __init__(self, app: Any, database_url: str) -> None:
        self.app = app
        self.database_url = database_url
        self.counts: dict[str, int] = {}
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="intake-under-fuzz", daemon=True)

    def __enter__(self) -> Intake:
        self._thread.start()
        self._ready.wait(timeout=120)
        if self._failure is not None:
            raise self._failure
        assert self._ready.is_set(), "intake did not start within 120 s"
        return self

    def __exit__(self, *_: object) -> None:
        self.loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(timeout=60)
        if self._failure is not None:
            raise self._failure

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported to the test by __enter__ or __exit__
            self._failure = exc
            self._ready.set()

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
        async with (
            self.app.state.runtime.lifespan(),
            httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=60) as self.client,
        ):
            self.connection = await asyncpg.connect(self.database_url)
            try:
                self.counts = _counts(await self.connection.fetchrow(COUNTS))
                self._ready.set()
                await self._stopping.wait()
            finally:
                await self.connection.close()

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=120)

    def send(self, case: FhirCase) -> Answer:
        return self.call(self._send(case))

    async def _send(self, case: FhirCase) -> Answer:
        response = await self.client.post(
            "/fhir/ServiceRequest", content=case.body, headers={**TOKENS[case.token], **case.headers}
        )
        row = await self.connection.fetchrow(COUNTS)
        return Answer(
            response.status_code,
            response.headers.get("content-type", "").split(";")[0].strip(),
            response.text,
            response.headers.get("location"),
            _counts(row),
            tuple(row["latest_event"]) if row["latest_event"] else None,
        )


def _counts(row: asyncpg.Record) -> dict[str, int]:
    return {table: row[table] for table in ("referrals", "referral_identifiers", "referral_requests", "outbox")}


@pytest.fixture
def intake(infrastructure, namespace, database_url) -> Iterator[Intake]:
    app = create_app(settings_for(IntakeSettings, infrastructure, namespace, database_url))
    with Intake(app, database_url) as running:
        yield running


def identifiers_in(body: bytes) -> int:
    """How many distinct identifiers intake keeps for an accepted body (those with a value)."""
    document = json.loads(body)
    found = {(str(i.get("system") or ""), str(i["value"])) for i in document.get("identifier") or [] if "value" in i}
    return len(found)


def check(case: FhirCase, answer: Answer, before: dict[str, int], run: Run) -> None:
    status = answer.status
    assert status < 500, f"{status} for {case!r}: {answer.text[:2000]}"
    assert answer.media_type == "application/fhir+json", f"{status} in {answer.media_type!r} for {case!r}"
    resource = json.loads(answer.text)
    grown = {table: answer.counts[table] - before[table] for table in answer.counts}
    if status == 201:
        referral_id = str(answer.location).rsplit("/", 1)[-1]
        assert resource["resourceType"] == "ServiceRequest", answer.text[:500]
        assert resource["id"] == referral_id, f"the body is {resource['id']} but Location names {answer.location}"
        request_ids = 1 if "X-Request-ID" in case.headers else 0
        expected = {"referrals": 1, "referral_identifiers": identifiers_in(case.body), "outbox": 1}
        assert grown == {**expected, "referral_requests": request_ids}, f"stored {grown} for {case!r}"
        assert answer.latest_event == (referral_id, "referral.received.v2"), f"announced {answer.latest_event}"
        assert referral_id not in run.created
        run.created.add(referral_id)
    elif status == 200:
        # The same referral sent again: the one stored before, and nothing new.
        assert resource["id"] in run.created, f"200 names {resource['id']}, which this run never created"
        assert not any(grown.values()), f"a repeat stored {grown} for {case!r}"
        run.repeats += 1
    else:
        assert resource["resourceType"] == "OperationOutcome", answer.text[:500]
        assert resource["issue"], answer.text[:500]
        assert not any(grown.values()), f"{status} refused it but stored {grown}: {case!r}: {answer.text[:1000]}"
    run.statuses[status] += 1


def fuzz(intake: Intake, cases: int) -> Run:
    run = Run()

    @settings(
        max_examples=-(-cases // BATCH),
        # The same cases on every run of the same command on the same code (hypothesis also draws on
        # constants in the modules loaded, so a run of this file alone differs from one of the suite).
        # A failure prints a @reproduce_failure blob, which replays its case whatever is loaded.
        derandomize=True,
        print_blob=True,
        database=None,
        deadline=None,
        phases=(Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(batch=st.lists(fhir_cases(), min_size=BATCH, max_size=BATCH))
    def exchange(batch: list[FhirCase]) -> None:
        for drawn in batch:
            run.sent += 1
            case = drawn.with_fresh_identifiers(run.sent)
            before = intake.counts
            answer = intake.send(case)
            intake.counts = answer.counts
            check(case, answer, before, run)

    exchange()
    return run


def publish_check(intake: Intake, run: Run) -> None:
    """Every referral answered 201 went out on the referrals topic once, and nothing else did."""

    async def published() -> list[str]:
        async def drained() -> bool:
            return not await intake.connection.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL")

        await wait_until(drained, timeout=120, message="the outbox relay to publish every accepted referral")
        namespace = intake.app.state.runtime.settings.topic_namespace
        bootstrap = intake.app.state.runtime.settings.kafka_bootstrap_servers
        records = await read_topic(bootstrap, topic(Stream.REFERRALS, namespace), expect=len(run.created))
        return [record.key.decode() for record in records]

    keys = intake.call(published())
    assert sorted(keys) == sorted(run.created), "the referrals topic does not hold exactly the accepted referrals"


def fuzz_and_check(intake: Intake, cases: int, request: pytest.FixtureRequest) -> None:
    started = time.monotonic()
    run = fuzz(intake, cases)
    publish_check(intake, run)
    duration = time.monotonic() - started
    statuses = ", ".join(f"{status}: {count}" for status, count in sorted(run.statuses.items()))
    record_summary(
        request,
        f"FHIR fuzzer: {run.cases} cases in {duration:.0f} s ({run.cases / duration:.0f}/s); statuses {statuses}; "
        f"{len(run.created)} stored and published, {run.repeats} repeats answered 200",
    )
    assert run.cases >= cases, f"hypothesis ran {run.cases} cases, fewer than the {cases} asked for"
    assert len(run.created) > cases // 20, "too few cases were accepted for storage to have been tested"
    assert run.statuses.keys() >= {200, 201, 400, 401, 403, 413, 415, 422}, run.statuses


@pytest.mark.slow
@pytest.mark.timeout(900)  # about two minutes here; the suite's 300 s would be too close on a busy machine
def test_ten_thousand_generated_and_mutated_service_requests_get_no_server_error_and_refusals_store_nothing(
    intake, request
):
    fuzz_and_check(intake, DEFAULT_CASES, request)


@pytest.mark.fuzz
@pytest.mark.slow
@pytest.mark.timeout(3 * 3600)
def test_a_larger_fhir_fuzz_run_gets_no_server_error_and_refusals_store_nothing(intake, request):
    fuzz_and_check(intake, FUZZ_CASES, request)
