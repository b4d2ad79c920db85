"""A service's pipeline health, published by its runtime kit over the real broker, on reporting's API and page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from signpost_runtime.outbox import park_record
from signpost_runtime.publishing import OutgoingRecord
from support.auth import bearer
from support.events import pipeline_health
from support.infra import new_database, wait_until
from support.probe_service import probe_runtime

pytestmark = pytest.mark.integration

READER = bearer("reporting:read")


async def _health(reporting) -> list[dict[str, Any]]:
    response = await reporting.client.get("/api/dashboard", headers=READER)
    assert response.status_code == 200, response.text
    return list(response.json()["pipeline_health"])


async def test_a_services_published_health_reaches_the_dashboard_api_and_goes_stale_when_it_stops(
    reporting, infrastructure, namespace
):
    probe = probe_runtime(
        infrastructure,
        namespace,
        await new_database(infrastructure.postgres_url),
        pipeline_health_every_seconds=0.3,
        instance_id="probe-0",
    )
    async with probe.lifespan():
        copy = OutgoingRecord(topic="t", key=b"k", value=b"{}", headers={})
        await park_record(probe.pool, copy, record_id="dead-letter:probe:t:0:1", reason="too large for its topic")

        async def reported() -> dict[str, Any] | None:
            rows = {row["service"]: row for row in await _health(reporting)}
            probe_row = rows.get("probe")
            return probe_row if probe_row and probe_row["dead_letters_parked"] == 1 else None

        row = await wait_until(reported, message="the probe's pipeline health on reporting's API")
        assert (row["stale"], row["instances"], row["outbox_parked"], row["outbox_waiting"]) == (False, 1, 1, 0)
        referrals = f"{namespace.name}.referrals"
        assert {"group": f"{namespace.name}.probe", "topic": referrals, "lag": 0} in row["consumers"]

    async def stale() -> bool:
        rows = {row["service"]: row for row in await _health(reporting)}
        return bool(rows["probe"]["stale"])

    await wait_until(stale, timeout=10, message="the stopped probe to be marked stale")


def _page_rows(html: str, table_id: str) -> dict[str, list[str]]:
    """Each body row of the table, by its first cell, as the text of its cells (tags dropped, spaces collapsed)."""
    table = re.search(rf'<table class="nhsuk-table" id="{table_id}">.*?</table>', html, re.S)
    assert table, f"no {table_id} table on the page"
    rows = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table[0], re.S)[1:]:
        cells = [
            " ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        rows[cells[0]] = cells[1:]
    return rows


async def test_the_page_shows_each_service_in_the_pipeline_health_table_with_stale_in_words(reporting):
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    await reporting.deliver(
        pipeline_health("triage", "triage-0", outbox_waiting=4, outbox_parked=1),
        pipeline_health("notifications", "notifications-0", at=an_hour_ago, dead_letters_sent=2),
    )
    response = await reporting.client.get("/", params={"refresh": "off"}, headers=READER)
    assert response.status_code == 200, response.text

    rows = _page_rows(response.text, "pipeline-health")
    # Instances, waiting to be consumed, by topic, outbox waiting, parked, dead letters sent, parked, as of.
    triage, notifications = rows["Triage"], rows["Notifications"]
    assert triage[:7] == ["1", "5", "signpost.referrals (5)", "4", "1", "1", "0"]
    assert not triage[7].startswith("STALE")
    assert notifications[5] == "2"
    assert notifications[7] == f"STALE: not reported since {an_hour_ago:%d %B %Y, %H:%M:%S} UTC"
