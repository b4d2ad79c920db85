"""Retention on real PostgreSQL and the broker: a closed case's personal data is erased once the policy's period
(RETENTION_DAYS) has passed since its closure; an open case, or one closed since, is kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from referral_intake.app import create_app
from referral_intake.config import IntakeSettings
from referral_intake.erasure_service import purge_closed_before
from referral_intake.unit import IntakeUnit
from support.auth import token
from support.infra import publish, wait_until
from support.services import serving, settings_for

pytestmark = pytest.mark.integration

AMIRA = "leeds-north-amira"
CONNECTOR = {"Authorization": f"Bearer {token('cases:write', ods=None, subject=AMIRA)}"}
WRITER = {
    "Authorization": f"Bearer {token('referrals:write', 'referrals:read')}",
    "Content-Type": "application/fhir+json",
}


async def _assigned(client, apply, make) -> str:
    created = await client.post("/fhir/ServiceRequest", json=make.referral(), headers=WRITER)
    assert created.status_code == 201, created.text
    referral_id = str(created.json()["id"])
    await apply(make.assigned(referral_id, connector_id=AMIRA))
    return referral_id


async def _closed(client, apply, make, at: datetime | None = None) -> str:
    """A case the person declined at first contact: closed at `at` (now when None)."""
    referral_id = await _assigned(client, apply, make)
    contact = {"mode": "telephone", "outcome": "declined", **({"at": at.isoformat()} if at else {})}
    answer = await client.post(f"/cases/{referral_id}/contacts", json=contact, headers=CONNECTOR)
    assert answer.json()["status"] == "closed", answer.text
    return referral_id


async def _erased(pool, referral_id: str) -> tuple[bool, bool]:
    row = await pool.fetchrow("SELECT nhs_number, erased_at FROM referrals WHERE id = $1", referral_id)
    return row["nhs_number"] is None, row["erased_at"] is not None


async def test_only_a_case_closed_before_the_cutoff_is_erased_and_announced_as_retention(intake, make):
    closed_long_ago = await _closed(intake.client, intake.apply, make)
    closed_since = await _closed(intake.client, intake.apply, make, at=datetime.now(UTC) + timedelta(seconds=40))
    still_open = await _assigned(intake.client, intake.apply, make)
    cutoff = datetime.now(UTC) + timedelta(seconds=20)

    async with intake.app.state.runtime.units(IntakeUnit)() as unit:
        purged = await purge_closed_before(unit, cutoff, now=cutoff + timedelta(days=365))

    assert closed_long_ago in purged
    assert not {closed_since, still_open} & set(purged)
    assert await _erased(intake.pool, closed_long_ago) == (True, True)
    assert await _erased(intake.pool, closed_since) == (False, False)
    assert await _erased(intake.pool, still_open) == (False, False)
    published = await intake.published(closed_long_ago)
    [announced] = [e for e in published if e["type"] == "referral.erased.v1"]
    assert announced["because"] == "retention"
    assert {"type": "referral.person-contact-erased.v1"} in published, "the contacts topic forgets it too"
    assert not [e for e in await intake.published(closed_since) if e["type"].startswith("referral.person-contact")]
    case = await intake.pool.fetchval("SELECT status FROM cases WHERE referral_id = $1", closed_long_ago)
    assert case == "closed", "the case is still counted as closed"


async def test_the_retention_job_erases_a_closed_case_when_its_period_is_over_and_leaves_an_open_one(
    infrastructure, namespace, database_url, make
):
    # A period of zero days: a case is due as soon as it closes, so the job's next run (every 0.2 s) takes it.
    settings = settings_for(
        IntakeSettings, infrastructure, namespace, database_url, retention_days=0, retention_every_seconds=0.2
    )
    app = create_app(settings)
    async with serving(app) as client:
        pool = app.state.runtime.pool

        async def apply(*events):
            await publish(namespace, events)
            ids = [event.id for event in events]
            await wait_until(lambda: _applied(pool, ids), message="triage's events applied")

        still_open = await _assigned(client, apply, make)
        closed = await _closed(client, apply, make)

        await wait_until(lambda: _is_erased(pool, closed), message="the retention job to erase the closed case")
        assert await _erased(pool, still_open) == (False, False)


async def _applied(pool, ids: list[str]) -> bool:
    return bool(await pool.fetchval("SELECT count(*) FROM inbox WHERE event_id = ANY($1::text[])", ids) == len(ids))


async def _is_erased(pool, referral_id: str) -> bool:
    return await _erased(pool, referral_id) == (True, True)
