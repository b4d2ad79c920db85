"""Mutations of a FHIR JSON document, each at a place drawn from the document itself.

Each takes hypothesis' `draw` and the document (a fresh copy, changed in place) and returns it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from fuzz import fhir_values as values

Json = Any
Path = tuple[str | int, ...]
Draw = Callable[..., Any]
Where = Callable[[Path, Json], bool]

COPIES = st.sampled_from((1, 2, 50))
DEPTHS = st.sampled_from((1, 2, 5, 20, 31, 32, 33, 63, 64, 65, 200))  # deeper ones are made as text
RESOURCE_TYPES = st.sampled_from(values.RESOURCE_TYPES)
BARS_BITS = st.sampled_from(values.BARS_BITS)
OVERSIZED = st.tuples(
    st.sampled_from(("x", "é", "漢", "\U0001f600")),
    st.sampled_from((63, 64, 65, 255, 256, 257, 1024, 1025, 3000)),
    st.sampled_from(("value", "system")),
)


def places(doc: Json) -> list[tuple[Path, Json]]:
    """Every place in the document with what it holds, the root excluded."""
    found: list[tuple[Path, Json]] = []
    pending: list[tuple[Path, Json]] = [((), doc)]
    while pending:
        prefix, node = pending.pop()
        children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, child in children:
            found.append(((*prefix, key), child))
            if isinstance(child, dict | list):
                pending.append(((*prefix, key), child))
    return found


def get(doc: Json, path: Path) -> Json:
    for step in path:
        doc = doc[step]
    return doc


def put(doc: Json, path: Path, value: Json) -> Json:
    get(doc, path[:-1])[path[-1]] = value
    return doc


def place(draw: Draw, doc: Json, where: Where = lambda _path, _value: True) -> Path | None:
    candidates = [path for path, value in places(doc) if where(path, value)]
    # An index rather than sampled_from(candidates): a new strategy for every draw costs more than the draw.
    return candidates[draw(st.integers(0, len(candidates) - 1))] if candidates else None


def named(*names: str) -> Where:
    return lambda path, _value: path[-1] in names


def drop(draw: Draw, doc: Json) -> Json:
    if where := place(draw, doc):
        del get(doc, where[:-1])[where[-1]]
    return doc


def duplicate(draw: Draw, doc: Json) -> Json:
    if where := place(draw, doc, lambda _path, value: isinstance(value, list) and bool(value)):
        items = get(doc, where)
        copies = draw(COPIES)
        if copies > 2 and len(json.dumps(items)) > 10_000:
            copies = 2  # fifty copies of a list of huge strings is only a slower way to a 413
        items.extend(copy.deepcopy(items) * copies)
    return doc


def retype(draw: Draw, doc: Json) -> Json:
    if where := place(draw, doc):
        new = draw(values.SMALL_JSON)
        put(doc, where, [new] if type(new) is type(get(doc, where)) else new)
    return doc


def wrong_code(draw: Draw, doc: Json) -> Json:
    if where := place(draw, doc, named("code", "system", "status", "intent", "priority", "use", "gender", "url")):
        put(doc, where, draw(values.WRONG_CODE_VALUES))
    return doc


def nasty_string(draw: Draw, doc: Json) -> Json:
    if where := place(draw, doc, lambda _path, value: isinstance(value, str)):
        put(doc, where, draw(values.NASTY_STRINGS))
    return doc


def deep_nesting(draw: Draw, doc: Json) -> Json:
    if where := place(draw, doc):
        value = get(doc, where)
        for level in range(draw(DEPTHS)):
            value = [value] if level % 2 else {"extension": value}
        put(doc, where, value)
    return doc


def contained_type(draw: Draw, doc: Json) -> Json:
    if where := place(draw, doc, lambda path, _value: len(path) == 3 and path[::2] == ("contained", "resourceType")):
        put(doc, where, draw(RESOURCE_TYPES))
    return doc


def reference_to_nowhere(draw: Draw, doc: Json) -> Json:
    where = place(draw, doc, named("reference")) or ("subject",)
    return put(doc, where, draw(values.REFERENCE_VALUES))


def invalid_date(draw: Draw, doc: Json) -> Json:
    names = ("birthDate", "authoredOn", "occurrenceDateTime", "start", "end", "lastUpdated", "deceasedDateTime")
    return put(doc, place(draw, doc, named(*names)) or ("authoredOn",), draw(values.DATE_VALUES))


def bad_nhs_number(draw: Draw, doc: Json) -> Json:
    nhs = place(draw, doc, lambda _path, v: isinstance(v, dict) and v.get("system") == values.NHS_NUMBER_SYSTEM)
    if nhs is None:
        return doc
    identifier = get(doc, nhs)
    good = str(identifier.get("value", "9990743916")).ljust(10, "0")[:10]
    if draw(values.BOOLEANS):
        position, digit = draw(values.DIGITS), draw(values.DIGITS)
        identifier["value"] = f"{good[:position]}{digit}{good[position + 1 :]}"  # usually a wrong check digit
    else:
        identifier["value"] = draw(values.NHS_NUMBER_VALUES)
    return doc


def oversized_identifier(draw: Draw, doc: Json) -> Json:
    unit, length, element = draw(OVERSIZED)
    identifier = {"system": "https://b82005.example.nhs.uk/Id/referral", "value": draw(values.UUIDS)}
    identifier[element] = unit * length
    if not isinstance(doc.get("identifier"), list):
        doc["identifier"] = []
    doc["identifier"].append(identifier)
    return doc


def array_or_object(draw: Draw, doc: Json) -> Json:
    if where := place(draw, doc, lambda _path, value: isinstance(value, dict | list)):
        value = get(doc, where)
        if isinstance(value, list):
            put(doc, where, value[0] if value else {})
        else:
            put(doc, where, [value, value] if draw(values.BOOLEANS) else [value])
    return doc


def number_as_string(draw: Draw, doc: Json) -> Json:
    if where := place(draw, doc, lambda _path, value: isinstance(value, bool | int | float | str)):
        value = get(doc, where)
        if isinstance(value, str):
            digits = "".join(c for c in value if c in "0123456789")[:30]
            put(doc, where, int(digits) if digits else draw(values.NUMBERS))
        else:
            put(doc, where, json.dumps(value))
    return doc


def unknown_element(draw: Draw, doc: Json) -> Json:
    where = place(draw, doc, lambda _path, value: isinstance(value, dict))
    get(doc, where or ())[draw(values.NAMES_OF_ELEMENTS)] = draw(values.SMALL_JSON)
    return doc


def bars_bit(draw: Draw, doc: Json) -> Json:
    name, value = draw(BARS_BITS)
    if name == "contained" and isinstance(doc.get("contained"), list):
        doc["contained"].extend(copy.deepcopy(value))
    else:
        doc[name] = copy.deepcopy(value)
    return doc


_ALL = (drop, duplicate, retype, wrong_code, nasty_string, deep_nesting, contained_type, reference_to_nowhere)
_ALL += (invalid_date, bad_nhs_number, oversized_identifier, array_or_object, number_as_string, unknown_element)
_ALL += (bars_bit,)
MUTATIONS: dict[str, Callable[[Draw, Json], Json]] = {m.__name__.replace("_", " "): m for m in _ALL}
