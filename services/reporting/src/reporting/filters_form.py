"""The dashboard page's filter form (a GET form, so it works without JavaScript): reading what was asked for.

A person can type anything into the form, so every field is read as text and checked here; a mistake
comes back in the NHS.UK error pattern naming the field, never as a bare 400. An empty field means
"any" (or the default period), as the form's "Any" options send empty values. The JSON API takes the
same filters, typed (reporting.dashboard_api), and the same period rules (reporting.domain.dashboard).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import get_args

from reporting.domain.dashboard import MAX_PERIOD_DAYS, Filters, default_period, period_error
from signpost_contracts.events.referrals import ChannelV2
from signpost_contracts.vocabulary import ReferrerKind
from signpost_web import FormErrors

ROUTE_LABELS = {
    "fhir-rest": "NHS system (FHIR)",
    "bars-message": "BaRS message",
    "self-referral": "Self-referral form",
    "referral-form": "Partner referral form",
    "outreach": "Outreach",
    "kafka": "Integration topic",
}
REFERRER_KIND_LABELS = {
    "gp": "GP",
    "social-worker": "Social worker",
    "community-organisation": "Community organisation",
    "self": "The person themselves",
    "other": "Other",
}
_AREA = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")
# Field ids, in page order: the error summary links to them.
FIELDS = {"from": "period-from", "to": "period-to", "area": "area", "route": "route", "referrer_kind": "referrer-kind"}


@dataclass(frozen=True)
class FilterForm:
    start: date
    end: date
    filters: Filters
    errors: FormErrors
    values: dict[str, str]  # as typed, to show in the form again


def _date(text: str, field: str, errors: FormErrors) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors.add(FIELDS[field], f"Enter the {'first' if field == 'from' else 'last'} day as a date, like 2026-03-01")
        return None


def read_filter_form(query: dict[str, str | None]) -> FilterForm:
    values = {name: (query.get(name) or "").strip() for name in FIELDS}
    errors = FormErrors()
    start, end = _date(values["from"], "from", errors), _date(values["to"], "to", errors)
    area = values["area"].replace(" ", "").upper() or None
    if area and not _AREA.match(area):
        errors.add("area", "Enter a postcode district, like LS6, or leave it empty for every area")
    route = values["route"] or None
    if route and route not in get_args(ChannelV2):
        errors.add("route", "Choose a route from the list")
    kind = values["referrer_kind"] or None
    if kind and kind not in get_args(ReferrerKind):
        errors.add(FIELDS["referrer_kind"], "Choose a kind of referrer from the list")
    end = end or datetime.now(UTC).date()
    start = start or default_period(end)[0]
    if not errors and (problem := period_error(start, end, max_days=MAX_PERIOD_DAYS)):
        errors.add(FIELDS["to"], problem[:1].upper() + problem[1:])
    return FilterForm(start, end, Filters(area, route, kind), errors, values)


def select_items(labels: dict[str, str], chosen: str, any_text: str) -> list[dict[str, object]]:
    """The NHS.UK select's items: "any" (an empty value) first, then each choice, the chosen one selected."""
    items: list[dict[str, object]] = [{"value": "", "text": any_text, "selected": not chosen}]
    items += [{"value": value, "text": text, "selected": chosen == value} for value, text in labels.items()]
    return items
