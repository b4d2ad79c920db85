"""Data minimisation: reporting keeps bands and districts, never exact ages or full postcodes."""

from __future__ import annotations

from signpost_contracts.events.referrals import age_band as contract_age_band

_MAX_BAND_LENGTH = 16
_MAX_DISTRICT_LENGTH = 4  # the longest UK outward code, e.g. "EC1A"


def age_band(age_years: int | None, given_band: str | None) -> str | None:
    """The producer's band when it sent one, else the contract's band for the age."""
    if given_band and given_band.strip():
        return given_band.strip()[:_MAX_BAND_LENGTH]
    if age_years is None or age_years < 0:
        return None
    return contract_age_band(age_years)


def postcode_district(value: str | None) -> str | None:
    """The outward code only, even if a producer sent a whole postcode ("LS6 2AB" -> "LS6")."""
    if not value or not value.strip():
        return None
    outward = value.strip().split()[0].upper()
    if len(outward) > _MAX_DISTRICT_LENGTH:
        # A whole postcode written without its space: the inward code is always the last three characters.
        outward = outward[:-3]
    return outward or None


def need_categories(needs: list[str]) -> tuple[str, ...]:
    return tuple(sorted({need.strip().lower() for need in needs if need.strip()}))
