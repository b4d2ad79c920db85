"""Hypothesis strategies for POST /fhir/ServiceRequest: valid referrals, mutated ones, and JSON of any shape.

A case is a body (bytes, not always JSON), its headers and the kind of token sent. Most cases start
from a seed (seeds.py), or a referral built from drawn parts, and apply one to four mutations
(fhir_mutations.py), so that they reach every stage of intake: the edge, JSON parsing, FHIR R4
validation, the Signpost rules, authorisation and storage. A fresh identifier is drawn for most, so
that many are accepted and stored rather than answered as repeats.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from hypothesis import strategies as st

from fuzz import fhir_values as values
from fuzz.fhir_mutations import MUTATIONS
from fuzz.seeds import ODS, bars_referrals, synthetic_referrals

Json = Any
Draw = Callable[..., Any]

# Stands for an identifier no earlier case used: the fuzzer puts a new one in its place as it sends each
# case (of the same length, so a truncated body stays truncated at the same place). Drawn identifiers
# repeat too often for that: hypothesis keeps returning to its simplest values.
FRESH = "fresh-0000000000"
TOKENS = ("practice", "intermediary", "another practice", "read only", "none", "garbage")
# The same X-Request-ID sent again is answered 409 duplicate: a few fixed ones make that happen.
REPEATED_REQUEST_IDS = tuple(str(uuid.UUID(int=n, version=4)) for n in range(1, 4))


@dataclass(frozen=True)
class FhirCase:
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    token: str = "practice"
    origin: str = ""

    def with_fresh_identifiers(self, number: int) -> FhirCase:
        fresh = f"fresh-{number:010d}".encode()
        return FhirCase(self.body.replace(FRESH.encode(), fresh), self.headers, self.token, self.origin)

    def __repr__(self) -> str:
        shown = self.body if len(self.body) <= 2000 else self.body[:2000] + b"...(%d bytes)" % len(self.body)
        return f"FhirCase(origin={self.origin!r}, token={self.token!r}, headers={self.headers!r}, body={shown!r})"


@cache
def _seeds() -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    """The synthetic seeds and the BaRS ones, as JSON text: json.loads makes a fresh copy of a seed many
    times faster than copy.deepcopy."""
    synthetic = tuple(("synthetic", json.dumps(seed)) for seed in synthetic_referrals())
    return synthetic, tuple(("BaRS", json.dumps(seed)) for seed in bars_referrals())


SEED_INDEX = st.integers(0, 10_000)
# A third of the seeds are BaRS ones: there are more of them, and they are several times larger.
SEED_FAMILIES = st.sampled_from((0, 0, 1))
SHAPES = st.sampled_from(("contained patient", "NHS number only", "ODS identifier requester", "role"))
MUTATION_NAMES = st.lists(st.sampled_from(sorted(MUTATIONS)), min_size=1, max_size=4)


@st.composite
def valid_referrals(draw: Draw) -> tuple[str, Json]:
    """A seed, made new (a fresh identifier) most of the time so that it is stored, not a repeat."""
    seeds = _seeds()[draw(SEED_FAMILIES)]
    origin, seed = seeds[draw(SEED_INDEX) % len(seeds)]
    doc = json.loads(seed)
    if draw(values.DIGITS) < 8 and doc.get("identifier"):  # the BaRS originals have none
        doc["identifier"][0]["value"] = FRESH
    return origin, doc


@st.composite
def built_referrals(draw: Draw) -> tuple[str, Json]:
    """A referral put together from drawn parts: each subject and requester shape intake takes, free text."""
    doc = json.loads(_seeds()[0][0][1])
    doc["identifier"] = [{"system": "https://b82005.example.nhs.uk/Id/referral", "value": FRESH}]
    patient, practice = doc["contained"]
    patient["name"] = [{"family": draw(values.NAMES), "given": [draw(values.NAMES)]}]
    patient["birthDate"] = draw(values.BIRTH_DATES)
    patient["address"] = [{"use": "home", "postalCode": draw(values.NAMES)}]
    practice["name"] = draw(values.ORGANISATION_NAMES)
    shape = draw(SHAPES)
    if shape == "NHS number only":
        doc["contained"] = [practice]
        doc["subject"] = {"identifier": {"system": values.NHS_NUMBER_SYSTEM, "value": "9990743916"}}
    elif shape == "ODS identifier requester":
        doc["requester"] = {"identifier": {"system": values.ODS_SYSTEM, "value": ODS}}
    elif shape == "role":
        role = {"resourceType": "PractitionerRole", "id": "role", "organization": {"reference": "#practice"}}
        role["telecom"] = [{"system": "email", "value": draw(values.EMAILS)}]
        doc["contained"].append(role)
        doc["requester"] = {"reference": "#role", "display": draw(values.NAMES)}
    doc["note"] = [{"text": draw(values.NAMES)}]
    return f"built ({shape})", doc


VALID = valid_referrals()
BUILT = built_referrals()


@st.composite
def mutated_referrals(draw: Draw) -> tuple[str, Json]:
    origin, doc = draw(VALID | BUILT)
    names = draw(MUTATION_NAMES)
    for name in names:
        doc = MUTATIONS[name](draw, doc)
    return f"{origin}, mutated: {', '.join(names)}", doc


MUTATED = mutated_referrals()
# JSON of any shape; half of it claims to be a ServiceRequest, so that it reaches FHIR validation.
GENERATED = st.one_of(
    values.ANY_JSON.map(lambda doc: ("generated JSON", doc)),
    st.dictionaries(values.NAMES_OF_ELEMENTS, values.SMALL_JSON, max_size=8).map(
        lambda elements: ("generated ServiceRequest", {**elements, "resourceType": "ServiceRequest"})
    ),
)
# Hypothesis favours the first choice, and weights one_of's branches evenly whatever their repeats.
DOCUMENTS = st.sampled_from(
    (MUTATED, MUTATED, VALID, MUTATED, BUILT, MUTATED, VALID, MUTATED, BUILT, GENERATED, MUTATED, GENERATED)
).flatmap(lambda documents: documents)

ENCODINGS = st.sampled_from(("utf-8",) * 30 + ("ascii escapes", "surrogates", "truncated", "junk", "latin-1"))
JUNK = st.sampled_from((b"\xef\xbb\xbf", b" \n\t", b"garbage", b"\x00", b"{}", b",", b'"x"'))
DUPLICATES = st.tuples(
    st.sampled_from(("status", "intent", "resourceType", "subject", "requester", "contained")),
    st.sampled_from(('"draft"', '"Bundle"', "null", '{"reference": "#nowhere"}', "[]")),
)
DEEP_TEXT = st.tuples(
    st.sampled_from((1000, 20_000, 200_000)), st.sampled_from(((b"[", b"]"), (b'{"a":', b"}"))), values.BOOLEANS
)
ROLLS = st.integers(0, 39)
# Three times the 1 MiB limit: a longer body is refused for its size alone, and only costs time to make.
LONGEST_BODY = 3 * 1024 * 1024


def _encode(draw: Draw, doc: Json) -> tuple[str, bytes]:
    """The document as sent: usually plain UTF-8 JSON, sometimes broken on the way."""
    how = draw(ENCODINGS)
    if how == "ascii escapes":
        return how, json.dumps(doc, ensure_ascii=True).encode()
    text = json.dumps(doc, ensure_ascii=False)
    if how == "surrogates":
        return how, text.encode("utf-8", "surrogatepass")
    if how == "latin-1":
        return how, text.encode("latin-1", "replace")
    body = text.encode("utf-8", "backslashreplace")
    if how == "truncated":
        return how, body[: draw(st.integers(0, max(len(body) - 1, 0)))]
    if how == "junk":
        junk = draw(JUNK)
        return how, junk + body if draw(values.BOOLEANS) else body + junk
    return how, body


def _duplicate_key(draw: Draw, body: bytes) -> bytes:
    # JSON allows a name twice in an object; most parsers keep the last, which a validator may not see.
    if not body.startswith(b"{") or not body.rstrip().endswith(b"}"):
        return body
    name, value = draw(DUPLICATES)
    return body.rstrip()[:-1] + f', "{name}": {value}}}'.encode()


def _deep_text(draw: Draw) -> bytes:
    # Nesting far past the depth limit, as only a hand-made body can: arrays or objects, closed or not.
    depth, (opening, closing), closed = draw(DEEP_TEXT)
    tail = closing * depth if closed else b""
    return b'{"resourceType": "ServiceRequest", "extension": ' + opening * depth + b"1" + tail + b"}"


CONTENT_TYPES = st.sampled_from(
    ("application/fhir+json",) * 24
    + ("application/json", "application/fhir+json; fhirVersion=4.0", "application/fhir+json; fhirVersion=3.0")
    + ("application/fhir+json; charset=utf-8", "text/plain", "application/fhir+xml", "", "APPLICATION/JSON")
)
REQUEST_IDS = st.one_of(
    st.none(),
    st.none(),
    values.UUIDS,
    values.UUIDS,
    st.sampled_from(REPEATED_REQUEST_IDS),
    st.sampled_from(("", "not-a-uuid", "{" + "1" * 32 + "}", " ")) | st.text(max_size=40),
)
CORRELATION_IDS = st.sampled_from(("c-1", "x" * 200, "x" * 201, "")) | values.UUIDS
ACCEPTS = st.sampled_from(
    (
        "application/fhir+json",
        "application/json;q=0",
        "application/fhir+json; fhirVersion=3.0",
        "text/html",
        "*/*;q=abc",
        "application/fhir+json;q=nan",
        "application/*;q=0.1, text/html",
        ",,;;==",
    )
)


def _printable(value: str) -> bool:
    # What an HTTP client will put in a header at all; the edge's own header checks have their own tests.
    return all(32 <= ord(c) < 127 for c in value)


def _headers(draw: Draw) -> dict[str, str]:
    headers = {"Content-Type": draw(CONTENT_TYPES)}
    request_id = draw(REQUEST_IDS)
    if request_id is not None:
        headers["X-Request-ID"] = request_id
    if draw(values.DIGITS) == 5:  # the middle of the range: hypothesis favours its ends
        headers["X-Correlation-ID"] = draw(CORRELATION_IDS)
    if draw(ROLLS) == 25:
        headers["Accept"] = draw(ACCEPTS)
    return {name: value for name, value in headers.items() if value and _printable(value)}


PRACTICE_TOKENS = st.sampled_from(("practice",) * 14 + TOKENS)
INTERMEDIARY_TOKENS = st.sampled_from(("intermediary",) * 14 + TOKENS)


@st.composite
def fhir_cases(draw: Draw) -> FhirCase:
    origin, doc = draw(DOCUMENTS)
    how, body = _encode(draw, doc)
    roll = draw(ROLLS)
    if roll in (17, 18):
        body = _duplicate_key(draw, body)
        how += ", duplicate key"
    elif roll == 30:
        body, origin, how = _deep_text(draw), "deep nesting as text", "hand-made"
    if len(body) > LONGEST_BODY:
        body, how = body[:LONGEST_BODY], f"{how}, cut at {LONGEST_BODY} bytes"
    # The BaRS referrals come from organisations of their own: an integration engine sends them.
    token = draw(INTERMEDIARY_TOKENS if origin.startswith("BaRS") else PRACTICE_TOKENS)
    return FhirCase(body, _headers(draw), token, f"{origin} [{how}]")
