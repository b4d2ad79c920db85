"""The value syntaxes of FHIR R4 search (https://hl7.org/fhir/R4/search.html) this endpoint reads.

Each is one regular expression, used both to read a value and as its OpenAPI pattern, so the
document says exactly which values are taken (tests/referral_intake/test_search_values_unit.py).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from referral_intake.adapters.outcome import FhirError
from referral_intake.domain.search import AnyOf, Interval, TaskPosition, TokenMatch

_CHAR = r"(?:[^\\|,\x00-\x1f\x7f]|\\[^\x00-\x1f\x7f])"  # `\` escapes the next character (`\|`, `\,`, `\\`)
_TOKEN = rf"(?:{_CHAR}+(?:\|{_CHAR}*)?|\|{_CHAR}+)"  # value, system|value, system| (any value), |value (no system)
TOKEN_LIST = rf"^{_TOKEN}(?:,{_TOKEN})*$"

_YEAR = r"(?:[1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])"
_LEAP_YEAR = r"(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
_DAY = (
    rf"(?:{_YEAR}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    rf"|02-(?:0[1-9]|1[0-9]|2[0-8]))|{_LEAP_YEAR}-02-29)"
)
# FHIR: a time needs a time zone; minutes are the coarsest precision with a time.
_TIME = r"T(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,9})?)?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
DATE_PREFIXES = ("eq", "gt", "ge", "lt", "le")
DATE = rf"^(?:{'|'.join(DATE_PREFIXES)})?(?:{_DAY}(?:{_TIME})?|{_YEAR}-(?:0[1-9]|1[0-2])|{_YEAR})$"
CURSOR = r"^[0-9]{1,16}\.[0-9A-Za-z-]{1,64}$"


def tokens(name: str, raw: str) -> AnyOf:
    """`a|b,c` as token matches; an empty system or value (`|b`, `a|`) is kept as "" or taken as any, per FHIR."""
    if not re.fullmatch(TOKEN_LIST, raw):
        raise _invalid(name, f"'{raw}' is not a token search value: use system|value, value, or several joined by ','")
    return tuple(_token(piece) for piece in _split(raw, ","))


def _token(raw: str) -> TokenMatch:
    parts = _split(raw, "|")
    if len(parts) == 1:
        return TokenMatch(None, _unescape(parts[0]))
    system, value = (_unescape(part) for part in parts)
    return TokenMatch(system, value or None)  # `|value`: system "" (none); `system|`: any value


def _split(raw: str, separator: str) -> list[str]:
    parts, current, escaped = [], "", False
    for char in raw:
        if char == separator and not escaped:
            parts.append(current)
            current = ""
        else:
            current += char
        escaped = char == "\\" and not escaped
    return [*parts, current]


def _unescape(raw: str) -> str:
    return re.sub(r"\\(.)", r"\1", raw)


def date_interval(name: str, raw: str) -> Interval:
    """`ge2026-12-01` as the instants it takes: the value's implicit range by its precision, then the prefix."""
    if not re.fullmatch(DATE, raw):
        raise _invalid(
            name,
            f"'{raw}' is not a date search value: a prefix ({', '.join(DATE_PREFIXES)}, or none for eq) then "
            "YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm[:ss[.fff]] with Z or an offset",
        )
    prefix = raw[:2] if raw[:2].isalpha() else "eq"
    start, end = _range(raw.removeprefix(prefix))
    return {
        "eq": Interval(start, end),
        "gt": Interval(end, None),
        "ge": Interval(start, None),
        "lt": Interval(None, start),
        "le": Interval(None, end),
    }[prefix]


def _range(value: str) -> tuple[datetime | None, datetime | None]:
    """[start, end) in UTC; None past the ends of time. A date without a time is a UTC day."""
    date, _, time = value.partition("T")
    year, month, day = ([int(part) for part in date.split("-")] + [0, 0])[:3]
    if not time:
        start = datetime(year, month or 1, day or 1, tzinfo=UTC)
        if day:
            return start, _plus(start, timedelta(days=1))
        if month:
            return start, _first_of(year + month // 12, month % 12 + 1)
        return start, _first_of(year + 1, 1)
    clock, zone = re.fullmatch(r"([0-9:.]+)(Z|[+-].*)", time).groups()  # type: ignore[union-attr]
    hour, minute, second = ([*clock.split(":"), "0"])[:3]
    whole, _, fraction = second.partition(".")
    offset = UTC if zone == "Z" else timezone(_offset(zone))
    local = datetime(year, month, day, int(hour), int(minute), int(whole), int(fraction[:6].ljust(6, "0")), offset)
    step = timedelta(minutes=1) if clock.count(":") == 1 else timedelta(seconds=1)
    if fraction:
        step = timedelta(microseconds=10 ** max(0, 6 - len(fraction)))
    return _in_utc(local, low=True), _in_utc(_plus(local, step), low=False)


def _offset(zone: str) -> timedelta:
    sign = -1 if zone[0] == "-" else 1
    hours, minutes = zone[1:].split(":")
    return sign * timedelta(hours=int(hours), minutes=int(minutes))


def _first_of(year: int, month: int) -> datetime | None:
    return datetime(year, month, 1, tzinfo=UTC) if year <= datetime.max.year else None  # None: past year 9999


def _plus(moment: datetime | None, step: timedelta) -> datetime | None:
    try:
        return moment + step if moment is not None else None
    except OverflowError:
        return None  # past year 9999: unbounded


def _in_utc(moment: datetime | None, *, low: bool) -> datetime | None:
    if moment is None:
        return None
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        # Year 1 or 9999 in an offset that leaves the calendar: an end before every instant, or a start after all.
        if moment.year == 1:
            return None if low else datetime.min.replace(tzinfo=UTC)
        return datetime.max.replace(tzinfo=UTC) if low else None


def position(raw: str) -> TaskPosition:
    """The opaque `_cursor` of a next link: microseconds since 1970 of the last Task's lastUpdated, then its id."""
    if not re.fullmatch(CURSOR, raw):
        raise _invalid("_cursor", f"'{raw}' is not a cursor this server made; follow the Bundle's next link as given")
    micros, task_id = raw.split(".", 1)
    return TaskPosition(datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(micros)), task_id)


def cursor(at: TaskPosition) -> str:
    micros = (at.last_updated - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    return f"{micros}.{at.task_id}"


def _invalid(name: str, diagnostics: str) -> FhirError:
    return FhirError.single(400, "value", f"search parameter {name}: {diagnostics}", name)
