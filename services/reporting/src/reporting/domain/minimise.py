"""Data minimisation: reporting keeps bands and districts, never exact ages or full postcodes."""

from __future__ import annotations

from signpost_contracts.events.referrals import age_band as contract_age_band
from signpost_contracts.vocabulary import postcode_district

__all__ = ["age_band", "need_categories", "postcode_district"]

_MAX_BAND_LENGTH = 16


def age_band(age_years: int | None, given_band: str | None) -> str | None:
    """The producer's band when it sent one, else the contract's band for the age."""
    if given_band and given_band.strip():
        return given_band.strip()[:_MAX_BAND_LENGTH]
    if age_years is None or age_years < 0:
        return None
    return contract_age_band(age_years)


def need_categories(needs: list[str]) -> tuple[str, ...]:
    return tuple(sorted({need.strip().lower() for need in needs if need.strip()}))
