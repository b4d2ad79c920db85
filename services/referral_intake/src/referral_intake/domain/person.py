"""Minimum-data summaries of the person: an age band, not a birth date; a district, not an address."""

from __future__ import annotations

from datetime import date

MAX_AGE_YEARS = 130


def age_on(birth_date: date, on: date) -> int:
    before_birthday = (on.month, on.day) < (birth_date.month, birth_date.day)
    return on.year - birth_date.year - (1 if before_birthday else 0)
