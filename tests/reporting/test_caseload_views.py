"""Connectors' caseloads against capacity (triage's roster.caseloads.v1) on the real broker and PostgreSQL: the
newest announcement per connector is kept whatever order they arrive in, a repeat changes nothing, and the
dashboard's JSON and page show them, full and over capacity said in words."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from support.auth import bearer
from support.events import roster_caseloads
from support.infra import wait_until

pytestmark = pytest.mark.integration

READER = bearer("reporting:read")
EARLIER = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LATER = EARLIER + timedelta(seconds=5)


def load(connector_id: str, open_cases: int, capacity: int, **more: Any) -> dict[str, Any]:
    return {
        "connector_id": connector_id,
        "kind": "paid",
        "capacity": capacity,
        "open_cases": open_cases,
        "taking_new_work": True,
        **more,
    }


async def stored(reporting) -> dict[str, tuple[int, int, bool, datetime]]:
    rows = await reporting.runtime.pool.fetch("SELECT * FROM connector_caseloads")
    return {r["connector_id"]: (r["open_cases"], r["capacity"], r["taking_new_work"], r["as_of"]) for r in rows}


async def caseloads_json(reporting) -> list[dict[str, Any]]:
    response = await reporting.client.get("/api/dashboard", headers=READER)
    assert response.status_code == 200, response.text
    return response.json()["caseloads"]


async def test_the_newest_caseloads_are_kept_and_an_older_announcement_arriving_late_changes_nothing(reporting):
    newer = roster_caseloads(at=LATER, connectors=[load("amira", 3, 3), load("bilal", 0, 2)])
    older = roster_caseloads(at=EARLIER, connectors=[load("amira", 1, 3), load("bilal", 2, 2)])
    await reporting.deliver(newer)
    await reporting.deliver(older)

    assert await stored(reporting) == {"amira": (3, 3, True, LATER), "bilal": (0, 2, True, LATER)}


async def test_a_later_announcement_replaces_each_connectors_figures(reporting):
    await reporting.deliver(roster_caseloads(at=EARLIER, connectors=[load("amira", 1, 3)]))
    await reporting.deliver(roster_caseloads(at=LATER, connectors=[load("amira", 2, 3, taking_new_work=False)]))

    assert await stored(reporting) == {"amira": (2, 3, False, LATER)}


async def test_a_repeated_announcement_is_recognised_as_a_duplicate_and_changes_nothing(reporting):
    first = roster_caseloads(at=EARLIER, connectors=[load("amira", 1, 3)])
    await reporting.deliver(first)
    # Edited behind the inbox's back: were the repeat applied again, it would put the figure back to 1.
    await reporting.runtime.pool.execute("UPDATE connector_caseloads SET open_cases = 2")
    before = reporting.duplicates_recognised()
    await reporting.publish(first)

    async def recognised() -> bool:
        return reporting.duplicates_recognised() > before

    await wait_until(recognised, message="the repeat to be recognised")
    assert (await stored(reporting))["amira"][0] == 2


async def test_the_dashboard_json_gives_each_connectors_caseload_with_its_state_paid_first(reporting):
    connectors = [
        load("vol-sam", 1, 2, kind="volunteer", taking_new_work=False),
        load("amira", 3, 3),
        load("bilal", 0, 2),
    ]
    await reporting.deliver(roster_caseloads(at=LATER, connectors=connectors))

    assert await caseloads_json(reporting) == [
        {**load("amira", 3, 3), "state": "full", "as_of": "2026-03-02T09:00:05Z"},
        {**load("bilal", 0, 2), "state": "room", "as_of": "2026-03-02T09:00:05Z"},
        {
            **load("vol-sam", 1, 2, kind="volunteer", taking_new_work=False),
            "state": "room",
            "as_of": "2026-03-02T09:00:05Z",
        },
    ]


async def test_the_dashboard_page_shows_caseloads_in_a_table_with_full_and_over_capacity_in_words(reporting):
    connectors = [load("amira", 3, 3), load("bilal", 0, 2), load("chen", 4, 3, taking_new_work=False)]
    await reporting.deliver(roster_caseloads(at=LATER, connectors=connectors))
    # Over capacity cannot come from triage (its CHECK); it is written here to show how the page says it.
    response = await reporting.client.get("/", params={"refresh": "off"}, headers=READER)
    assert response.status_code == 200, response.text

    table = re.search(r'<table class="nhsuk-table" id="caseloads">.*?</table>', response.text, re.S)
    assert table, "no caseloads table on the page"
    rows = {
        cells[0]: cells[1:]
        for cells in (
            [re.sub(r"\s+", " ", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table[0], re.S)[1:]
        )
    }
    as_of = "02 March 2026, 09:00:05 UTC"
    assert rows == {
        "amira": ["Paid", "3", "3", "FULL: no room", "Yes", as_of],
        "bilal": ["Paid", "0", "2", "Room for 2 more", "Yes", as_of],
        "chen": ["Paid", "4", "3", "OVER CAPACITY: 1 more than capacity", "No: their open cases need moving", as_of],
    }
    assert 'scope="row"' in table[0], "each connector's row is headed by their roster id"
