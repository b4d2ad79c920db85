"""Minimum-data summaries of the person: an age band, not a birth date; a district, not an address."""

from __future__ import annotations

import re
from datetime import date

MAX_AGE_YEARS = 130

_FULL_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
_OUTWARD_ONLY = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")


def age_on(birth_date: date, on: date) -> int:
    before_birthday = (on.month, on.day) < (birth_date.month, birth_date.day)
    return on.year - birth_date.year - (1 if before_birthday else 0)


def postcode_district(postcode: str) -> str | None:
    """The outward code ('LS6' of 'LS6 2AB'), or None when this is not a UK postcode.

    An outward code alone is accepted too: some systems record only the district.
    """
    compact = re.sub(r"\s+", "", postcode).upper()
    full = _FULL_POSTCODE.match(compact)
    if full:
        return full.group(1)
    if _OUTWARD_ONLY.match(compact):
        return compact
    return None
