"""Values the FHIR fuzzer puts into ServiceRequests: wrong codes, broken references and dates, nasty strings.

Strategies are made once, here: building one inside every draw costs more than the draw itself.
Hypothesis favours the first value of a sampled_from and the ends of an integer range (they shrink
best), so lists start with their most ordinary value.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import strategies as st

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
BARS_USE_CASES = "https://fhir.nhs.uk/CodeSystem/usecases-categories-bars"

NASTY_CHARACTERS = ("\x00", "\ud800", "\udfff", "\u202e", "\ufeff", "\u0301", "\U0001f600", "漢", "\n", "\\", '"')
WRONG_CODES = (
    "", " ", "ACTIVE", "active ", "order\x00", "draft", "unknown", "stat", "proposal", "0", "null", "Patient",
    "871731000000106", "871711000000103", "http://snomed.info/sct", "urn:oid:2.16.840.1.113883.6.96",
    BARS_USE_CASES, "a5t2", "self-harm-risk", "loneliness", "https://signpost.dev/fhir/CodeSystem/risk-flag",
    "https://signpost.dev/fhir/CodeSystem/need-category",
)  # fmt: skip
REFERENCES = (
    "#nowhere", "#", "", "Patient/123", "urn:uuid:9589fb37-87a2-48d8-968f-b371429208a8", "http://x.example/Patient/1",
    "#patient", "#practice", "#PATIENT", " #patient", "#patient ", "#r1", "##patient", "Organization/B82005",
)  # fmt: skip
BAD_DATES = (
    "2023-02-30", "2023-13-01", "2023-00-10", "0000", "0001-01-01", "9999-12-31", "1899", "2023-1-1", "20230101",
    "2023-06-01T25:00:00Z", "2023-06-01T10:00:00", "2023-06-01T10:00:00+25:00", "yesterday", "", "2100-01-01",
    "1900-02-29", "2024-02-29", "1850-06", "-2023", "2023-06-01T10:00:60Z",
)  # fmt: skip
RESOURCE_TYPES = (
    "Patient", "Organization", "PractitionerRole", "Practitioner", "Bundle", "Binary", "Parameters", "Resource",
    "DomainResource", "ServiceRequest", "OperationOutcome", "MessageHeader", "Extension", "Element", "Reference",
    "PatientContact", "patient", "Foo", "", "__class__", "Patient\x00",
)  # fmt: skip
ELEMENT_NAMES = (
    "status", "intent", "subject", "requester", "contained", "identifier", "code", "category", "priority",
    "reasonCode", "note", "authoredOn", "meta", "extension", "modifierExtension", "id", "text", "_status",
    "_priority", "language", "implicitRules", "orderDetail", "quantityQuantity", "occurrenceDateTime",
    "doNotPerform", "supportingInfo", "fhir_comments", "resourceType",
)  # fmt: skip
_BARS_URN = "urn:uuid:9589fb37-87a2-48d8-968f-b371429208a8"
# Pieces of the BaRS messages' ServiceRequests, and of the ways senders spell requesters and subjects.
BARS_BITS: tuple[tuple[str, Any], ...] = (
    ("category", [{"coding": [{"system": BARS_USE_CASES, "code": "a5t2"}]}]),
    ("meta", {"profile": ["https://fhir.nhs.uk/StructureDefinition/BARSServiceRequest-request-referral"]}),
    ("meta", {"lastUpdated": "2024-08-20T11:30:00.818533Z", "versionId": "7", "source": "x"}),
    ("subject", {"reference": _BARS_URN}),
    ("requester", {"reference": "urn:uuid:7d948662-bade-450e-b6c5-9bb6ee39cb56"}),
    ("basedOn", [{"reference": "urn:uuid:38e9c018-adbb-4579-9cd8-45f4f890b93b"}]),
    ("encounter", {"reference": "urn:uuid:8c63d621-4d86-4f57-8699-e8e22d49935d"}),
    ("performer", [{"reference": "urn:uuid:94267a2d-75b3-44d9-8d46-d65b36332a31"}]),
    ("occurrencePeriod", {"start": "2024-08-20T11:30:00Z", "end": "2024-08-20T11:30:00Z"}),
    ("intent", "plan"),
    ("patientInstruction", "Please attend within the hour"),
    ("requester", {"identifier": {"system": ODS_SYSTEM, "value": "B82005"}}),
    ("requester", {"identifier": {"system": ODS_SYSTEM.lower(), "value": " b82005 "}}),
    ("subject", {"identifier": {"system": NHS_NUMBER_SYSTEM, "value": "9990743916"}}),
    ("subject", {"reference": "#patient", "identifier": {"system": NHS_NUMBER_SYSTEM, "value": "9990743908"}}),
    ("contained", [{"resourceType": "MessageHeader", "id": "h", "eventCoding": {"code": "servicerequest-request"}}]),
    ("identifier", [{"system": "https://tools.ietf.org/html/rfc4122", "value": _BARS_URN[9:]}]),
)

# Built by repetition: drawing 400,000 characters one by one would take seconds. The longest make
# bodies over the 1 MiB limit, which the edge answers 413.
HUGE_STRINGS = st.builds(
    str.__mul__,
    st.sampled_from(("x", "é", "漢", "\U0001f600", "a\u0301", " ", "\\u0000", "<script>", "0")),
    st.sampled_from((65, 201, 1025, 2001, 8193) * 3 + (70_000, 400_000)),
)
NASTY_STRINGS = st.one_of(
    st.sampled_from(("", " ", "\t", "\u00a0", "\u2028", "null", "[]", "{}")),
    st.text(st.sampled_from(NASTY_CHARACTERS), min_size=1, max_size=8),
    st.text(st.characters(exclude_categories=()), max_size=8),  # lone surrogates included
    HUGE_STRINGS,
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from((0, -1, 10**20, -(10**30), 2**63, 10**400, 1e308, -0.0, 5e-324, 1.5)),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=10),
    NASTY_STRINGS,
)


def _json(max_leaves: int) -> st.SearchStrategy[Any]:
    return st.recursive(
        SCALARS,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
        max_leaves=max_leaves,
    )


SMALL_JSON = _json(6)
ANY_JSON = _json(25)
NAMES_OF_ELEMENTS = st.sampled_from(ELEMENT_NAMES) | st.text(max_size=12)
WRONG_CODE_VALUES = st.sampled_from(WRONG_CODES) | NASTY_STRINGS
REFERENCE_VALUES = st.sampled_from(REFERENCES) | NASTY_STRINGS
DATE_VALUES = st.sampled_from(BAD_DATES) | st.dates().map(str) | st.datetimes().map(str)
BIRTH_DATES = st.dates(date(1900, 1, 1), date(2007, 1, 1)).map(str) | DATE_VALUES
NHS_NUMBER_VALUES = st.one_of(
    st.sampled_from(("999 074 3916", "999-074-3916", "99907439", "99907439161", "999074391X", "0000000000")),
    st.integers(0, 10**10),
    st.from_regex(r"\A[0-9]{10}\Z"),
    NASTY_STRINGS,
)
DIGITS = st.integers(0, 9)
NUMBERS = st.integers() | st.floats(allow_nan=False)
BOOLEANS = st.booleans()
UUIDS = st.uuids().map(str)
# Real-world spellings first (cheap to draw), then short drawn text; FHIR strings hold at least one
# non-whitespace character. Nasty strings come by mutation.
NAMES = st.sampled_from(
    ("Margaret", "Siobhán", "Żaneta", "Nguyễn Thị", "李小龍", "O'Brien", "Zoë-Ann", "Ахмед", "محمد", "x" * 200)
) | st.builds(
    str.__add__,
    st.characters(exclude_categories=("Cc", "Cs", "Zs", "Zl", "Zp")),
    st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=12),
)
ORGANISATION_NAMES = st.one_of(NAMES, NAMES, NAMES, HUGE_STRINGS)
EMAILS = st.sampled_from(("gp@b82005.example.nhs.uk", "a@b", "no-at-sign", "x@" + "y" * 300 + ".uk")) | NAMES
