"""Data minimisation: reporting keeps bands and districts, never exact ages or full postcodes."""

from __future__ import annotations

# Ten-year bands from 25 with an open top band, matching ONS-style reporting; under-18s stay
# together because the service does not report on children.
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
_MAX_BAND_LENGTH = 16
_MAX_DISTRICT_LENGTH = 4  # the longest UK outward code, e.g. "EC1A"


def age_band(age_years: int | None, given_band: str | None) -> str | None:
    """The producer's band when it sent one (one convention across Signpost), else ours."""
    if given_band and given_band.strip():
        return given_band.strip()[:_MAX_BAND_LENGTH]
    if age_years is None:
        return None
    for low, high, label in _BANDS:
        if age_years >= low and (high is None or age_years <= high):
            return label
    return None


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
