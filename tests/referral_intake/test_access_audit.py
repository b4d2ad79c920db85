"""The access audit on real PostgreSQL: every read of a person's record is recorded, who, when and which record,
in an append-only table that coordinators query (GET /access-log)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from support.auth import token

pytestmark = pytest.mark.integration

CONNECTOR_ID = "leeds-north-amira"
GP = {"Authorization": f"Bearer {token('referrals:write', 'referrals:read', ods='B82005', subject='gp-system-1')}"}
CONNECTOR = {"Authorization": f"Bearer {token('cases:write', ods=None, subject=CONNECTOR_ID)}"}
OTHER_CONNECTOR = {"Authorization": f"Bearer {token('cases:write', ods=None, subject='leeds-north-bilal')}"}
COORDINATOR = {"Authorization": f"Bearer {token('cases:coordinate', ods=None, subject='coordinator-1')}"}
ONE_HOUR = timedelta(hours=1)


async def _assigned(intake, make) -> str:
    referral_id = (await intake.post(make.referral(), headers=GP)).json()["id"]
    await intake.apply(make.assigned(referral_id, connector_id=CONNECTOR_ID, complexity="low"))
    return referral_id


async def _log(intake, **params) -> dict:
    answer = await intake.client.get("/access-log", params=params, headers=COORDINATOR)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_every_read_of_a_persons_record_is_recorded_with_who_when_and_which_record(intake, make):
    referral_id = await _assigned(intake, make)
    before = datetime.now(UTC)

    assert (await intake.client.get(f"/fhir/ServiceRequest/{referral_id}", headers=GP)).status_code == 200
    assert (await intake.task_for(referral_id, headers=GP)).status_code == 200
    worklist = (await intake.case_api("GET", "", CONNECTOR)).json()["cases"]
    assert referral_id in [line["referral_id"] for line in worklist]
    assert (await intake.case_api("GET", f"/{referral_id}", CONNECTOR)).status_code == 200
    after = datetime.now(UTC)

    log = await _log(intake, referral_id=referral_id)
    # Newest first: the case read, the worklist, the Task search, the ServiceRequest read.
    assert [(row["record"], row["who"], row["organisation"]) for row in log["accesses"]] == [
        ("case", CONNECTOR_ID, None),
        ("worklist", CONNECTOR_ID, None),
        ("Task", "gp-system-1", "B82005"),
        ("ServiceRequest", "gp-system-1", "B82005"),
    ]
    assert log["total"] == 4
    for row in log["accesses"]:
        assert row["referral_id"] == referral_id
        assert before <= datetime.fromisoformat(row["at"]) <= after


async def test_a_read_that_is_refused_shows_nothing_and_records_nothing(intake, make):
    referral_id = await _assigned(intake, make)

    assert (await intake.case_api("GET", f"/{referral_id}", OTHER_CONNECTOR)).status_code == 404
    other_worklist = (await intake.case_api("GET", "", OTHER_CONNECTOR)).json()["cases"]
    assert referral_id not in [line["referral_id"] for line in other_worklist]
    another_practice = {"Authorization": f"Bearer {token('referrals:read', ods='Y99999', subject='elsewhere')}"}
    assert (await intake.client.get(f"/fhir/ServiceRequest/{referral_id}", headers=another_practice)).status_code == 404

    assert (await _log(intake, referral_id=referral_id))["accesses"] == []
    assert (await _log(intake, who="leeds-north-bilal"))["total"] == 0
    assert (await _log(intake, who="elsewhere"))["total"] == 0


async def test_a_coordinator_narrows_the_log_by_reader_and_period_and_pages_through_it(intake, make):
    first, second = await _assigned(intake, make), await _assigned(intake, make)
    for referral_id in (first, second, first):
        assert (await intake.case_api("GET", f"/{referral_id}", CONNECTOR)).status_code == 200

    mine = await _log(intake, who=CONNECTOR_ID, limit=2)
    assert (mine["total"], [row["referral_id"] for row in mine["accesses"]]) == (3, [first, second])
    rest = await _log(intake, who=CONNECTOR_ID, limit=2, offset=2)
    assert [row["referral_id"] for row in rest["accesses"]] == [first]

    now = datetime.now(UTC)
    assert (await _log(intake, who=CONNECTOR_ID, since=(now - ONE_HOUR).isoformat()))["total"] == 3
    assert (await _log(intake, who=CONNECTOR_ID, since=(now + ONE_HOUR).isoformat()))["total"] == 0
    assert (await _log(intake, who=CONNECTOR_ID, until=(now - ONE_HOUR).isoformat()))["total"] == 0


async def test_the_access_log_is_append_only_even_for_the_services_own_database_role(intake, make):
    referral_id = await _assigned(intake, make)
    assert (await intake.case_api("GET", f"/{referral_id}", CONNECTOR)).status_code == 200

    for statement in (
        "UPDATE record_access SET who = 'someone-else'",
        "DELETE FROM record_access",
        "TRUNCATE record_access",
    ):
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await intake.pool.execute(statement)
    assert [row["who"] for row in (await _log(intake, referral_id=referral_id))["accesses"]] == [CONNECTOR_ID]


async def test_only_a_coordinator_may_read_the_access_log(intake):
    assert (await intake.client.get("/access-log")).status_code == 401
    refused = await intake.client.get("/access-log", headers=CONNECTOR)
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")


async def test_an_empty_period_is_refused_naming_the_field(intake):
    now = datetime.now(UTC)
    answer = await intake.client.get(
        "/access-log", params={"since": now.isoformat(), "until": (now - ONE_HOUR).isoformat()}, headers=COORDINATOR
    )
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "until" in answer.text


@pytest.mark.parametrize("moment", ["0.5", "2026-12-01", "2026-12-01T09:00:00"])
async def test_a_time_that_is_not_rfc_3339_with_an_offset_is_refused(intake, moment):
    answer = await intake.client.get("/access-log", params={"since": moment}, headers=COORDINATOR)
    assert answer.status_code in (400, 422), answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "since" in answer.text
