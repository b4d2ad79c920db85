"""Postcode districts (outward codes) and the prefixes that say which districts an area covers.

Districts themselves are read by the one parser in signpost_contracts.vocabulary.
A prefix is either a postcode *area* (letters only, e.g. "LS") or a *district* (e.g. "LS1").
- An area prefix matches every district in that area and no other: "LS" matches LS1..LS29 and
  LS99, but "L" (Liverpool) does not match "LS6", because the letters must be the whole area.
- A district prefix matches that district and its lettered sub-districts: "LS1" matches "LS1",
  "W1" matches "W1A" and "EC1" matches "EC1A", but "LS1" never matches "LS10" (a different district).
"""

from __future__ import annotations

import re

AREA_OR_DISTRICT = re.compile(r"^[A-Z]{1,2}([0-9][A-Z0-9]?)?$")
_DISTRICT = re.compile(r"^(?P<area>[A-Z]{1,2})(?P<number>[0-9]{1,2})(?P<sub>[A-Z]?)$")

PREFIX_EXPECTED = "a postcode area such as 'LS' or a district such as 'LS6' (1-2 letters, then optionally 1-2 digits)"


def normalise_prefix(prefix: str) -> str:
    """Upper-case, no spaces; raises ValueError saying what a prefix must look like."""
    cleaned = prefix.replace(" ", "").upper()
    if not AREA_OR_DISTRICT.match(cleaned):
        raise ValueError(f"{prefix!r} is not {PREFIX_EXPECTED}")
    return cleaned


def prefix_covers(prefix: str, district: str) -> bool:
    """Does an (already normalised) prefix cover an (already normalised) district? See the module doc."""
    parsed = _DISTRICT.match(district)
    if parsed is None:
        return False
    area, number, sub = parsed["area"], parsed["number"], parsed["sub"]
    if prefix.isalpha():
        return prefix == area
    return prefix in (f"{area}{number}{sub}", f"{area}{number}")


def prefixes_covering(district: str) -> list[str]:
    """Every prefix that would cover `district`: lets the database narrow candidates before the rule runs."""
    parsed = _DISTRICT.match(district)
    if parsed is None:
        return []
    area, number, sub = parsed["area"], parsed["number"], parsed["sub"]
    return sorted({area, f"{area}{number}", f"{area}{number}{sub}"})


def any_covers(prefixes: list[str] | tuple[str, ...], district: str) -> bool:
    return any(prefix_covers(prefix, district) for prefix in prefixes)
