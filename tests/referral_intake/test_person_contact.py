"""On the real broker: a self-referrer's address is published on the compacted contacts topic, keyed by the
referral, and their erasure publishes a tombstone for that key there.

tansu (the embedded test broker) accepts and reports a topic's configuration but is not relied on to compact:
these tests check what intake publishes and what the topic asks the broker to do, not that compaction ran.
"""

from __future__ import annotations

import json

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from signpost_contracts import TOPIC_CONFIGS, Stream, topic
from signpost_contracts.registry import PERSON_CONTACT, PERSON_CONTACT_ERASED, REFERRAL_RECEIVED_V2
from support.auth import token
from support.forms import person_answers, reference_on
from support.infra import read_topic, unique

pytestmark = pytest.mark.integration

COORDINATOR = {"Authorization": f"Bearer {token('cases:coordinate', subject='coordinator-erin', ods=None)}"}
PHONE = "07700 900461"


def _headers(record) -> dict[str, str]:
    return {name: value.decode() for name, value in record.headers}


async def _records_of(namespace, stream: Stream, referral_id: str, count: int) -> list:
    def arrived(records: list) -> bool:
        return len([r for r in records if r.key == referral_id.encode()]) >= count

    records = await read_topic(namespace.bootstrap, topic(stream, namespace.name), until=arrived, timeout=30)
    return [r for r in records if r.key == referral_id.encode()]


async def test_a_self_referrers_address_goes_on_the_contacts_topic_and_erasure_publishes_its_tombstone(intake):
    answers = {**person_answers(unique("Rosalind Quilliam")), "phone": PHONE}
    referral_id = reference_on(await intake.client.post("/self-referral", data=answers))

    [contact] = await _records_of(intake.namespace, Stream.CONTACTS, referral_id, 1)
    [received] = await _records_of(intake.namespace, Stream.REFERRALS, referral_id, 1)
    assert _headers(contact)["ce_type"] == PERSON_CONTACT.name
    assert json.loads(contact.value)["email"] == answers["email"]
    assert _headers(received)["ce_type"] == REFERRAL_RECEIVED_V2.name
    for text in (answers["email"], PHONE):
        assert text not in received.value.decode(), "the referrals topic keeps every record for ever"

    erased = await intake.client.post("/erasures", json={"referral_id": referral_id}, headers=COORDINATOR)
    assert erased.status_code == 200, erased.text

    first, tombstone = await _records_of(intake.namespace, Stream.CONTACTS, referral_id, 2)
    assert first.offset == contact.offset
    assert tombstone.value is None, "a null value under the key: what compaction removes the key's records for"
    assert tombstone.partition == contact.partition, "the same key, so the same partition, after the address"
    assert _headers(tombstone)["ce_type"] == PERSON_CONTACT_ERASED.name
    assert _headers(tombstone)["ce_subject"] == referral_id
    assert not any(text in json.dumps(_headers(tombstone)) for text in (answers["email"], PHONE))


async def test_the_contacts_topic_asks_the_broker_to_compact_within_a_bounded_time(intake):
    name = topic(Stream.CONTACTS, intake.namespace.name)
    admin = AIOKafkaAdminClient(bootstrap_servers=intake.namespace.bootstrap)
    await admin.start()
    try:
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name)])
    finally:
        await admin.close()
    [(_, _, _, _, entries)] = response.resources
    config = {entry[0]: entry[1] for entry in entries}
    assert config["cleanup.policy"] == "compact"
    assert int(config["max.compaction.lag.ms"]) == int(TOPIC_CONFIGS[Stream.CONTACTS]["max.compaction.lag.ms"]) > 0
    assert int(config["delete.retention.ms"]) > 0
