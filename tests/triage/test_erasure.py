"""Triage acts on referral.erased.v1 (real broker and PostgreSQL): the person's key goes from the decision and the
case, the decision and the caseload stay, a repeat changes nothing, and a new referral of the same person is
no longer linked to the erased one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from signpost_contracts.vocabulary import Scope
from support.auth import bearer
from support.events import referral_erased, referral_received
from support.infra import publish, wait_until
from support.services import serving

pytestmark = pytest.mark.integration

STAFF = bearer(Scope.TRIAGE_READ, Scope.READ_ALL, ods=None)
T0 = datetime.now(UTC) - timedelta(days=10)
PERSON_KEY = "person-hash-erased-1"


async def _inbox_holds(pool, event_id: str) -> bool:
    return bool(await pool.fetchval("SELECT count(*) FROM inbox WHERE event_id = $1", event_id))


async def test_an_erased_referral_loses_its_person_key_but_keeps_its_decision_and_place(
    triage_app, write_roster, make_connector, namespace
):
    app = triage_app(write_roster([make_connector("solo", capacity=5)]))
    received = referral_received(needs=["loneliness"], received_at=T0, person_key=PERSON_KEY)
    erased = referral_erased(received.subject)
    async with serving(app) as client:
        pool = app.state.runtime.pool
        partition = (await publish(namespace, [received]))[0]
        await wait_until(lambda: _inbox_holds(pool, received.id), message="the referral decided")
        assert await pool.fetchval("SELECT count(*) FROM assignments WHERE person_key = $1", PERSON_KEY) == 1

        await publish(namespace, [erased, erased], partition=partition)  # delivered twice
        again = referral_received(needs=["loneliness"], received_at=T0 + timedelta(hours=1), person_key=PERSON_KEY)
        await publish(namespace, [again], partition=partition)
        await wait_until(lambda: _inbox_holds(pool, again.id), message="the same person's next referral decided")

        held = [
            await pool.fetchval(
                f"SELECT count(*) FROM {table} WHERE referral_id = $1 AND person_key IS NOT NULL", received.subject
            )
            for table in ("decisions", "assignments", "waitlist")
        ]
        assert held == [0, 0, 0], "the person's key is gone"
        view = (await client.get(f"/decisions/{received.subject}", headers=STAFF)).json()
        assert view["outcome"] == "accepted"
        assert view["assignment"]["connector_id"] == "solo", "the place is still held, counted in the caseload"
        second = (await client.get(f"/decisions/{again.subject}", headers=STAFF)).json()
        assert second["linked"] is None, "the erased referral can no longer be found by the person's key"
        assert await pool.fetchval("SELECT count(*) FROM inbox WHERE event_id = $1", erased.id) == 1
