"""No event schema has a field for a person's direct identifier (ARCHITECTURE: events carry the minimum).

reporting/test_no_identifiers_stored.py checks what reporting keeps of the events; this checks the events
themselves, over the committed JSON Schema snapshots every consumer reads: a new field named like a name, an
NHS number, a birth date, an address, a postcode, a phone number or an email address fails here until it is
reviewed and, if it is really not the person's, listed below with the reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from signpost_contracts import EVENT_TYPES, TOPIC_CONFIGS, Stream
from signpost_contracts.snapshots import snapshot_path

pytestmark = pytest.mark.unit

IDENTIFYING_NAME = re.compile(r"name|nhs|birth|dob|address|postcode|phone|email|telecom", re.IGNORECASE)

# Each (event type prefix, field path) is someone's identifier only in a way the reason states.
REVIEWED: dict[tuple[str, str], str] = {
    ("referral.received", "person.postcode_district"): "the outward code only (LS6), never the full postcode",
    ("referral.received", "referrer.organisation_name"): "the referring organisation, not the person",
    # A professional referrer's reply address (a practice's, a team's). When the referrer is the person (kind
    # "self") it is empty here and travels on the contacts stream instead (ERASABLE below), since this stream is
    # kept for ever: tests/referral_intake/test_person_contact_unit.py checks intake never puts it here.
    ("referral.received", "referrer.contact.email"): "a professional referrer's reply address, never the person's",
    ("referral.received", "referrer.contact.phone"): "a professional referrer's reply number, never the person's",
    ("service.status", "area_name"): "a service area's name (Leeds North), not a person's",
    ("service.status", "postcode_prefixes"): "the outward codes an area covers",
}

# The person's own identifiers, allowed only on a stream that can forget them: log-compacted, with a tombstone
# type for the same key that erasure publishes (checked below), so they never stay on a stream kept for ever.
ERASABLE: dict[tuple[str, str], str] = {
    ("referral.person-contact", "email"): "a self-referrer's own reply address, removed by erasure's tombstone",
    ("referral.person-contact", "phone"): "a self-referrer's own reply number, removed by erasure's tombstone",
}


def _fields(schema: dict[str, Any], node: Any, path: tuple[str, ...], visiting: frozenset[str]) -> Iterator[str]:
    """Every property's dotted path, following $refs into $defs (each ref once per path, for recursive types)."""
    if isinstance(node, list):
        for item in node:
            yield from _fields(schema, item, path, visiting)
        return
    if not isinstance(node, dict):
        return
    ref = node.get("$ref")
    if isinstance(ref, str) and ref not in visiting:
        yield from _fields(schema, schema["$defs"][ref.rsplit("/", 1)[-1]], path, visiting | {ref})
    for name, child in (node.get("properties") or {}).items():
        yield ".".join((*path, name))
        yield from _fields(schema, child, (*path, name), visiting)
    for key in ("items", "anyOf", "allOf", "oneOf", "additionalProperties"):
        yield from _fields(schema, node.get(key), path, visiting)


def _identifying_fields(event_type: str) -> set[str]:
    schema = json.loads(snapshot_path(EVENT_TYPES[event_type]).read_text())
    fields = _fields(schema, schema, (), frozenset())
    return {field for field in fields if IDENTIFYING_NAME.search(field.rsplit(".", 1)[-1])}


def _reviewed(event_type: str, field: str) -> bool:
    return any(event_type.startswith(prefix) and field == path for prefix, path in {**REVIEWED, **ERASABLE})


def _kept_for_ever(stream: Stream) -> bool:
    return TOPIC_CONFIGS.get(stream, {}).get("cleanup.policy") != "compact"


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_no_event_schema_has_a_field_named_like_a_persons_identifier(event_type: str):
    unreviewed = {field for field in _identifying_fields(event_type) if not _reviewed(event_type, field)}
    assert not unreviewed, f"{event_type}: review {sorted(unreviewed)} for a person's identifier first"


def test_the_field_walk_reaches_nested_fields_so_the_check_can_fail():
    # A nested field named like an identifier is found (the walk follows $refs), so an unreviewed one would fail.
    assert "referrer.contact.email" in _identifying_fields("referral.received.v2")


def test_every_reviewed_exception_still_exists():
    # An exception whose field has gone would let a new field of that name through unreviewed.
    exceptions = {**REVIEWED, **ERASABLE}
    found = {(prefix, path) for prefix, path in exceptions for name in EVENT_TYPES
             if name.startswith(prefix) and path in _identifying_fields(name)}  # fmt: skip
    assert found == set(exceptions)


@pytest.mark.parametrize("prefix", sorted({prefix for prefix, _ in ERASABLE}))
def test_the_persons_own_contact_is_only_on_a_compacted_stream_that_erasure_can_empty(prefix: str):
    carriers = [event_type for name, event_type in EVENT_TYPES.items() if name.startswith(prefix)]
    assert carriers, f"no event type starts with {prefix}"
    for carrier in carriers:
        assert not _kept_for_ever(carrier.stream), f"{carrier.name} is on {carrier.stream}, which is kept for ever"
        tombstones = [t for t in EVENT_TYPES.values() if t.tombstone and t.stream == carrier.stream]
        assert tombstones, f"nothing can erase {carrier.name}: its stream has no tombstone type"


def test_a_stream_kept_for_ever_is_told_apart_from_a_compacted_one_so_the_check_can_fail():
    assert _kept_for_ever(Stream.REFERRALS)
    assert not _kept_for_ever(Stream.CONTACTS)


def test_the_erasure_event_carries_ids_and_times_only():
    schema = json.loads(snapshot_path(EVENT_TYPES["referral.erased.v1"]).read_text())
    assert set(schema["properties"]) == {"referral_id", "erased_at", "because"}
