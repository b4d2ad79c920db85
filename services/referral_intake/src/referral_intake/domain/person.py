"""Minimum-data summaries of the person: an age band, not a birth date; a district, not an address."""

from __future__ import annotations

import re
from datetime import date

MAX_AGE_YEARS = 130

# Bands follow the ONS convention used in NHS reporting; children are one band because the
# service takes adults and triage only needs to know "under 18".
_BANDS: tuple[tuple[int, int | None, str], ...] = (
    (0, 17, "0-17"),
    (18, 24, "18-24"),
    (25, 34, "25-34"),
    (35, 44, "35-44"),
    (45, 54, "45-54"),
    (55, 64, "55-64"),
    (65, 74, "65-74"),
    (75, 84, "75-84"),
    (85, None, "85+"),
)

_FULL_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
_OUTWARD_ONLY = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")


def age_on(birth_date: date, on: date) -> int:
    before_birthday = (on.month, on.day) < (birth_date.month, birth_date.day)
    return on.year - birth_date.year - (1 if before_birthday else 0)


def age_band(age_years: int) -> str:
    for low, high, label in _BANDS:
        if age_years >= low and (high is None or age_years <= high):
            return label
    raise ValueError(f"age {age_years} is negative")


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
