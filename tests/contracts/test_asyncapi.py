"""The committed AsyncAPI document is current, self-consistent and agrees with who owns each event."""

from __future__ import annotations

import json
from typing import Any

import pytest

from signpost_contracts import EVENT_TYPES
from signpost_contracts.registry import EVERY_SERVICE, PIPELINE_HEALTH
from signpost_contracts.vocabulary import SERVICES
from signpost_devstack.asyncapi import DOCUMENT, document, render, service_definitions

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def generated() -> dict[str, Any]:
    return document(service_definitions())


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return ([node["$ref"]] if "$ref" in node else []) + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def test_the_committed_document_is_what_the_services_generate(generated):
    assert DOCUMENT.read_text() == render(generated), "run `make schemas` and commit contracts/asyncapi.json"


def test_every_reference_in_the_document_resolves(generated):
    refs = _refs(generated)
    assert refs
    for ref in refs:
        assert _resolve(generated, ref) is not None, ref


def test_each_current_event_type_is_sent_only_by_its_owner_and_a_superseded_one_by_nobody(generated):
    senders: dict[str, set[str]] = {}
    for operation_id, operation in generated["operations"].items():
        if operation["action"] == "send":
            for message in operation.get("messages", []):
                senders.setdefault(message["$ref"].rsplit("/", 1)[-1], set()).add(operation_id.split(".")[0])
    current = {name: et for name, et in EVENT_TYPES.items() if et.superseded_by is None}
    # A type the runtime kit publishes for every service (pipeline health) is sent by each of them.
    owners = {
        name: set(SERVICES) if et.producer == EVERY_SERVICE else {et.producer.replace("-", "_")}
        for name, et in current.items()
    }
    assert owners[PIPELINE_HEALTH.name] == set(SERVICES)
    assert senders == owners


def test_every_consumer_names_its_group_and_has_a_dead_letter_channel(generated):
    receivers = [(oid, op) for oid, op in generated["operations"].items() if op["action"] == "receive"]
    assert {oid.split(".")[0] for oid, _ in receivers} == set(SERVICES)
    for operation_id, operation in receivers:
        service = operation_id.split(".")[0]
        # A topic written outside Signpost is read by a consumer group of its own (ExternalTopic).
        external = {"inbound.referrals": ".inbound"}.get(operation["channel"]["$ref"].rsplit("/", 1)[-1], "")
        assert operation["bindings"]["kafka"]["groupId"]["enum"] == [f"signpost.{service}{external}"]
        assert generated["channels"][f"dlq-{service}"]["address"] == f"signpost.dlq.{service}"


def test_the_document_is_valid_json_with_the_asyncapi_3_header():
    doc = json.loads(DOCUMENT.read_text())
    assert doc["asyncapi"] == "3.0.0"
    assert set(doc["components"]["messages"]) == set(EVENT_TYPES)
