"""The inbound topic on the real broker and PostgreSQL: stored, triaged and acknowledged, or dead-lettered, refused."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from referral_intake.app import create_app
from referral_intake.config import IntakeSettings
from signpost_contracts import INBOUND_REFERRAL_TYPE, EventEnvelope, Stream, dead_letter_topic, topic
from signpost_devstack.synthetic import gp_referral
from support.infra import Namespace, as_record, new_database, publish_records, read_topic, wait_until
from support.services import database_gone, serving, settings_for
from triage.app import create_app as create_triage_app
from triage.config import TriageSettings

pytestmark = pytest.mark.integration

EXAMPLE_PRODUCERS = Path(__file__).resolve().parents[2] / "examples" / "inbound-producers.toml"
SOURCE = "urn:example:leeds-integration-engine"  # sends for B82005 and B86010 in the example file
KEY = b"leeds-engine"  # one key: the messages of a test stay in order on one partition


class Inbound:
    def __init__(self, namespace: Namespace, app: Any) -> None:
        self.namespace = namespace
        self.app = app
        self.pool = app.state.runtime.pool

    async def send(self, *messages: EventEnvelope) -> None:
        records = [(KEY, value, headers) for _, value, headers in map(as_record, messages)]
        await publish_records(self.namespace.bootstrap, topic(Stream.INBOUND_REFERRALS, self.namespace.name), records)

    async def replies(self, expect: int, timeout: float = 20) -> list[dict[str, Any]]:
        records = await read_topic(
            self.namespace.bootstrap, topic(Stream.INBOUND_REPLIES, self.namespace.name), expect=expect, timeout=timeout
        )
        return [{"type": dict(r.headers)["ce_type"].decode(), **json.loads(r.value)} for r in records]

    async def reply_to(self, message: EventEnvelope) -> dict[str, Any]:
        async def answered() -> dict[str, Any] | None:
            found = [r for r in await self.replies(1, timeout=1) if r["answers"]["event_id"] == message.id]
            return found[0] if found else None

        return await wait_until(answered, message=f"the reply to {message.id}")

    async def dead_letters(self, expect: int, timeout: float = 20) -> list:
        name = dead_letter_topic("referral_intake", self.namespace.name)
        return await read_topic(self.namespace.bootstrap, name, expect=expect, timeout=timeout)

    async def count(self, table: str) -> int:
        return int(await self.pool.fetchval(f"SELECT count(*) FROM {table}"))

    async def received_events(self) -> list[dict[str, Any]]:
        rows = await self.pool.fetch("SELECT payload FROM outbox WHERE event_type = 'referral.received.v2'")
        return [json.loads(row["payload"]) for row in rows]


@pytest.fixture
async def inbound(infrastructure, namespace, database_url) -> AsyncIterator[Inbound]:
    settings = settings_for(
        IntakeSettings, infrastructure, namespace, database_url, inbound_producers=EXAMPLE_PRODUCERS
    )
    app = create_app(settings)
    async with serving(app):
        yield Inbound(namespace, app)


def message(data: dict[str, Any], *, source: str = SOURCE, **more: Any) -> EventEnvelope:
    return EventEnvelope(
        type=INBOUND_REFERRAL_TYPE,
        source=source,
        subject="their-ref",
        correlationid=str(uuid.uuid4()),
        data=data,
        **more,
    )


def referral(ods_code: str = "B82005", **overrides: Any) -> dict[str, Any]:
    return gp_referral(rng=random.Random(), ods_code=ods_code, **overrides)


async def test_a_valid_inbound_referral_is_stored_triaged_and_acknowledged(infrastructure, namespace, inbound):
    triage_settings = settings_for(
        TriageSettings, infrastructure, namespace, await new_database(infrastructure.postgres_url)
    )
    async with serving(create_triage_app(triage_settings)):
        sent = message(referral(postcode="LS6 2AA", age=70, needs=["loneliness"]))
        await inbound.send(sent)
        ack = await inbound.reply_to(sent)

        assert ack["type"] == "referral.inbound-accepted.v1"
        assert ack["answers"] == {"event_id": sent.id, "source": SOURCE}
        assert ack["duplicate"] is False
        stored = await inbound.pool.fetchrow("SELECT id, task_id, sender_system FROM referrals")
        assert (stored["id"], stored["task_id"]) == (ack["referral_id"], ack["task_id"])
        assert stored["sender_system"] == "leeds-integration-engine"
        [received] = await inbound.received_events()
        assert received["channel"] == "kafka"

        def triaged(records: list) -> bool:
            return any(
                r.key == ack["referral_id"].encode() and dict(r.headers)["ce_type"] == b"referral.triaged.v1"
                for r in records
            )

        decisions = await read_topic(namespace.bootstrap, topic(Stream.TRIAGE, namespace.name), until=triaged)
        assert triaged(decisions), "triage decided on the inbound referral"


@pytest.mark.parametrize(
    ("case", "expression"),
    [
        ("invalid FHIR", "ServiceRequest.status"),
        ("unknown producer", "ce_source"),
        ("not allowed for that ODS code", "ServiceRequest.requester"),
    ],
)
async def test_a_refused_message_is_dead_lettered_and_answered_with_its_operation_outcome(inbound, case, expression):
    body, source = referral(), SOURCE
    if case == "invalid FHIR":
        body["status"] = "finished"
    elif case == "unknown producer":
        source = "urn:example:not-registered"
    else:
        body = referral(ods_code="Y01234")
    sent = message(body, source=source)
    await inbound.send(sent)

    refusal = await inbound.reply_to(sent)
    assert refusal["type"] == "referral.inbound-refused.v1"
    assert refusal["answers"] == {"event_id": sent.id, "source": source}
    assert refusal["status"] in (400, 403)
    outcome = refusal["operation_outcome"]
    assert outcome["resourceType"] == "OperationOutcome"
    assert [i["expression"] for i in outcome["issue"]] == [[expression]]
    [dead] = await inbound.dead_letters(expect=1)
    assert dead.value == as_record(sent)[1], "the message itself, whole"
    headers = {name: value.decode() for name, value in dead.headers}
    assert headers["ce_id"] == sent.id
    assert headers["dlq_reason"].startswith("refused: ")
    assert headers["dlq_consumer"] == "referral_intake.inbound"
    assert await inbound.count("referrals") == 0
    assert await inbound.received_events() == []


async def test_a_message_sent_again_with_the_same_id_is_not_a_second_referral_nor_answered_again(inbound):
    sent = message(referral())
    marker = message(referral())
    await inbound.send(sent, sent, marker)
    await inbound.reply_to(marker)  # the same key: the repeat was handled before it

    replies = await inbound.replies(expect=2, timeout=2)
    assert sorted(r["answers"]["event_id"] for r in replies) == sorted([sent.id, marker.id])
    assert await inbound.count("referrals") == 2
    assert len(await inbound.received_events()) == 2


async def test_the_same_referral_in_a_new_message_is_acknowledged_again_with_the_first_referral(inbound):
    body = referral()
    first, again = message(body), message(body)
    await inbound.send(first, again)
    first_ack, second_ack = await inbound.reply_to(first), await inbound.reply_to(again)

    assert second_ack["referral_id"] == first_ack["referral_id"]
    assert (first_ack["duplicate"], second_ack["duplicate"]) == (False, True)
    assert await inbound.count("referrals") == 1
    assert len(await inbound.received_events()) == 1


async def test_another_producer_may_use_the_same_message_id(inbound, tmp_path):
    # Ids are unique only within a source (CloudEvents): the inbox tells the two apart. Only one producer is
    # registered, so the other's message is refused, not taken for a repeat of the first.
    sent = message(referral())
    other = message(referral(), source="urn:example:not-registered", id=sent.id)
    await inbound.send(sent, other)
    replies = await inbound.replies(expect=2)
    assert sorted(r["type"] for r in replies) == ["referral.inbound-accepted.v1", "referral.inbound-refused.v1"]


async def test_a_message_that_is_not_json_goes_to_the_dead_letter_topic_and_the_next_is_taken(inbound):
    poison = as_record(message(referral()))
    marker = message(referral())
    await publish_records(
        inbound.namespace.bootstrap,
        topic(Stream.INBOUND_REFERRALS, inbound.namespace.name),
        [(KEY, b"this is not JSON", poison[2]), (KEY, *as_record(marker)[1:])],
    )
    await inbound.reply_to(marker)

    [dead] = await inbound.dead_letters(expect=1)
    assert dead.value == b"this is not JSON"
    assert "not JSON" in dict(dead.headers)["dlq_reason"].decode()
    assert [r["answers"]["event_id"] for r in await inbound.replies(expect=1, timeout=2)] == [marker.id]
    assert await inbound.count("referrals") == 1


async def test_a_valid_message_that_arrives_while_the_database_is_down_waits_and_is_never_dead_lettered(inbound):
    sent = message(referral())
    async with database_gone(inbound.app.state.runtime):
        await inbound.send(sent)
        await asyncio.sleep(3)  # the consumer meets the outage and waits it out
        assert await inbound.replies(expect=1, timeout=1) == []
    ack = await inbound.reply_to(sent)
    assert ack["type"] == "referral.inbound-accepted.v1"
    assert await inbound.dead_letters(expect=1, timeout=2) == []
