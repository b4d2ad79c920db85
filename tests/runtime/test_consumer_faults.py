"""What the consumer does with each kind of failure, injected for real on PostgreSQL and the broker.

An outage of the database (disk full, out of memory, deadlock, serialisation failure, statement
timeout, a read-only standby) is not the message's fault: the message is retried in place until the
outage passes, never dead-lettered, and applied exactly once. A ValidationError raised by the
service's own code is a bug: retried a bounded number of times, then dead-lettered with the reason.
"""

from __future__ import annotations

import pytest

from signpost_contracts import Stream, dead_letter_topic, topic
from support.events import referral_received
from support.infra import publish, read_topic, wait_until
from support.probe_service import inject_fault

pytestmark = pytest.mark.integration

OUTAGES = {
    "53100": "disk full",
    "53200": "out of memory",
    "40P01": "deadlock detected",
    "40001": "serialisation failure",
    "57014": "statement timeout",
    "25006": "read-only transaction",
}


async def _effects(probe, referral_id: str) -> int:
    return int(await probe.pool.fetchval("SELECT count(*) FROM effects WHERE referral_id = $1", referral_id))


@pytest.mark.parametrize("sqlstate", list(OUTAGES), ids=list(OUTAGES.values()))
async def test_a_database_outage_is_waited_out_and_never_dead_letters_the_message(probe, namespace, sqlstate):
    event, after = referral_received(), referral_received()
    # More failures than the consumer's attempts for a bug (3): an outage has no such limit.
    await inject_fault(probe.pool, event.subject, sqlstate, times=5)
    await publish(namespace, [event, after], partition=0)

    await wait_until(lambda: _effects(probe, after.subject), timeout=30, message="the message behind the outage")
    assert await _effects(probe, event.subject) == 1, "applied once, after the outage"
    assert await probe.pool.fetchval("SELECT remaining FROM faults") == 0, "every injected failure was met"
    dead = await read_topic(namespace.bootstrap, dead_letter_topic("probe", namespace.name), timeout=1)
    assert dead == []


async def test_a_validation_error_in_the_services_own_code_is_a_bug_retried_then_dead_lettered(probe, namespace):
    event, after = referral_received(), referral_received()
    await inject_fault(probe.pool, event.subject, "bug", times=100)
    await publish(namespace, [event, after], partition=0)

    await wait_until(lambda: _effects(probe, after.subject), message="the message behind the bug")
    assert await _effects(probe, event.subject) == 0
    assert await probe.pool.fetchval("SELECT remaining FROM faults") == 97, "three attempts, then it gave up"
    dead = await read_topic(namespace.bootstrap, dead_letter_topic("probe", namespace.name), expect=1)
    headers = dict(dead[0].headers)
    assert headers["ce_id"].decode() == event.id
    assert headers["dlq_reason"].startswith(b"failed 3 times: ValidationError")
    published = await read_topic(namespace.bootstrap, topic(Stream.TRIAGE, namespace.name), expect=1)
    assert [r.key.decode() for r in published] == [after.subject]
