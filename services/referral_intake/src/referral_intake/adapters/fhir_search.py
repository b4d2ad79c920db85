"""Reading FHIR search parameters (https://hl7.org/fhir/R4/search.html) into Signpost's queries (domain/search.py).

Strict by default: a parameter this endpoint does not support is refused with 400 naming it, since
ignoring it would answer a wider search than was asked for. `Prefer: handling=lenient` asks for
FHIR's lenient handling instead: unsupported parameters are ignored, and the self link shows only the
parameters that were used. A supported parameter with a bad value is refused either way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import parse_qsl, urlencode

from referral_intake.adapters.codes import SERVICE_IDENTIFIER, SERVICE_IDENTIFIER_SYSTEM, TASK_STATUS
from referral_intake.adapters.fhir_search_values import date_interval, position, tokens
from referral_intake.adapters.outcome import FhirError
from referral_intake.domain.search import AnyOf, TaskPosition, TaskQuery

DEFAULT_COUNT = 50
MAX_COUNT = 100  # a larger _count is served as this many (FHIR lets a server return fewer than asked)
# Every code of FHIR R4's task-status value set: a status Signpost never gives (draft, ...) is valid and matches none.
TASK_STATUSES = (
    "draft",
    "requested",
    "received",
    "accepted",
    "rejected",
    "ready",
    "cancelled",
    "in-progress",
    "on-hold",
    "failed",
    "completed",
    "entered-in-error",
)
TASK_PARAMETERS = ("focus", "owner:identifier", "status", "_lastUpdated", "_count", "_cursor")
SERVICE_REQUEST_PARAMETERS = ("identifier",)
# FHIR's parameters for every interaction, taken by every search: _format is read by content negotiation.
GENERAL_PARAMETERS = ("_format",)


class SearchParameters:
    """A search's parameters, in the order sent, keeping only those supported (the rest refused unless lenient)."""

    def __init__(self, pairs: Sequence[tuple[str, str]], supported: Sequence[str], *, lenient: bool = False) -> None:
        supported = (*supported, *GENERAL_PARAMETERS)
        unsupported = sorted({name for name, _ in pairs if name not in supported})
        if unsupported and not lenient:
            raise FhirError.single(
                400,
                "not-supported",
                f"unsupported search parameter{'s' if len(unsupported) > 1 else ''} {', '.join(unsupported)}: this "
                f"search takes {', '.join(supported)} (GET /fhir/metadata lists them); send Prefer: handling=lenient "
                "to have unsupported parameters ignored",
                unsupported[0],
            )
        self.used = [(name, value) for name, value in pairs if name in supported]

    def every(self, name: str) -> list[str]:
        return [value for used, value in self.used if used == name]

    def one(self, name: str) -> str | None:
        values = self.every(name)
        if len(values) > 1:
            raise FhirError.single(400, "value", f"search parameter {name} may be given once", name)
        return values[0] if values else None

    def query(self, **replacing: str) -> str:
        """The parameters used, as a query string; `replacing` sets a parameter in place of any sent."""
        kept = [(name, value) for name, value in self.used if name not in replacing]
        return urlencode([*kept, *replacing.items()])


def is_lenient(prefer: str | None) -> bool:
    """RFC 7240 Prefer, as FHIR uses it: `handling=lenient` among the preferences."""
    preferences = (part.strip().replace(" ", "").lower() for part in (prefer or "").replace(";", ",").split(","))
    return "handling=lenient" in preferences


def task_query(parameters: SearchParameters) -> TaskQuery:
    focus = parameters.one("focus")
    statuses: frozenset[str] | None = None
    for raw in parameters.every("status"):  # each repeat narrows (AND); a comma is OR
        statuses = _statuses(raw) if statuses is None else statuses & _statuses(raw)
    owners = [tokens("owner:identifier", raw) for raw in parameters.every("owner:identifier")]
    return TaskQuery(
        referral_id=referral_of_focus(focus) if focus is not None else None,
        statuses=statuses,
        updated=tuple(date_interval("_lastUpdated", raw) for raw in parameters.every("_lastUpdated")),
        owner_is_elsewhere=not all(_is_this_service(any_of) for any_of in owners),
    )


def _statuses(raw: str) -> frozenset[str]:
    found = set()
    for token in tokens("status", raw):
        if token.system not in (None, TASK_STATUS) or token.value not in TASK_STATUSES:
            raise FhirError.single(
                400,
                "value",
                f"search parameter status: '{raw}' names no Task status; use codes of {TASK_STATUS} "
                f"({', '.join(TASK_STATUSES)}), several joined by ','",
                "status",
            )
        found.add(token.value)
    return frozenset(found)


def _is_this_service(any_of: AnyOf) -> bool:
    return any(token.matches(SERVICE_IDENTIFIER_SYSTEM, SERVICE_IDENTIFIER) for token in any_of)


def referral_of_focus(focus: str) -> str:
    # Accept 'ServiceRequest/<id>', an absolute URL ending in it, or the bare id.
    parts = focus.rstrip("/").split("/")
    if not parts[-1]:
        raise FhirError.single(
            400, "required", f"focus '{focus}' names no referral: use focus=ServiceRequest/<id>", "focus"
        )
    if len(parts) > 1 and parts[-2] != "ServiceRequest":
        raise FhirError.single(
            400, "value", f"focus '{focus}' is not a ServiceRequest; use focus=ServiceRequest/<id>", "focus"
        )
    return parts[-1]


def page_size(parameters: SearchParameters) -> int:
    raw = parameters.one("_count")
    if raw is None:
        return DEFAULT_COUNT
    if not re.fullmatch("[0-9]+", raw):
        raise FhirError.single(
            400, "value", f"_count '{raw}' is not a whole number (0 asks for the total only)", "_count"
        )
    return min(int(raw), MAX_COUNT)


def page_after(parameters: SearchParameters) -> TaskPosition | None:
    raw = parameters.one("_cursor")
    return position(raw) if raw is not None else None


def identifier_conditions(parameters: SearchParameters) -> list[AnyOf]:
    found = [tokens("identifier", raw) for raw in parameters.every("identifier")]
    if not found:
        raise FhirError.single(
            400,
            "required",
            "search ServiceRequests by identifier: GET /fhir/ServiceRequest?identifier=<system>|<value> "
            "(or identifier=<value> for any system)",
            "identifier",
        )
    return found


def if_none_exist(header: str) -> list[AnyOf]:
    """The If-None-Exist header of a conditional create: a ServiceRequest search, always read strictly (an
    ignored parameter would widen the condition and could return a referral that was never meant)."""
    pairs = parse_qsl(header.strip().removeprefix("?"), keep_blank_values=True)
    if not pairs:
        raise FhirError.single(
            400, "required", "If-None-Exist is empty: send identifier=<system>|<value>", "If-None-Exist"
        )
    return identifier_conditions(SearchParameters(pairs, SERVICE_REQUEST_PARAMETERS))
