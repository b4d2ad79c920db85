"""A social prescribing BaRS message through intake and triage, both running on the same broker (own databases):
it is triaged and assigned, and the update that revokes it cancels its Task and frees the connector's place."""

from __future__ import annotations

import pytest

from referral_intake.app import create_app as create_intake
from referral_intake.config import IntakeSettings
from signpost_contracts.vocabulary import Scope
from support.auth import bearer
from support.bars import PROCESS_MESSAGE, SENDER, bars_headers, follow_up, social_prescribing_message
from support.infra import new_database, wait_until
from support.services import serving, settings_for

pytestmark = pytest.mark.integration

ROSTER_READER = bearer(Scope.TRIAGE_READ, ods=None)


async def test_a_bars_referral_is_triaged_and_its_revocation_frees_the_place(
    infrastructure, namespace, triage_app, write_roster, make_connector
):
    triage = triage_app(write_roster([make_connector("only-paid", capacity=1)]))
    intake_database = await new_database(infrastructure.postgres_url)
    intake = create_intake(settings_for(IntakeSettings, infrastructure, namespace, intake_database))
    message = social_prescribing_message()
    async with serving(triage) as triage_client, serving(intake) as intake_client:
        accepted = await intake_client.post(PROCESS_MESSAGE, json=message, headers=bars_headers())
        assert accepted.status_code == 200, accepted.text
        referral_id = accepted.json()["entry"][1]["resource"]["id"]

        async def task_status(expected: str, business: str | None = None):
            # Triage's decision makes the Task "accepted" before the assignment gives it its businessStatus, so a
            # test waiting for the assignment must wait for both, not read the business status at the first.
            async def check():
                found = await intake_client.get("/fhir/Task", params={"focus": f"ServiceRequest/{referral_id}"},
                                                headers=SENDER)  # fmt: skip
                task = found.json()["entry"][0]["resource"]
                if task["status"] != expected:
                    return None
                if business is not None and task.get("businessStatus", {}).get("text") != business:
                    return None
                return task

            return await wait_until(check, message=f"the Task to be {expected} {business or ''}")

        async def caseload() -> int:
            roster = (await triage_client.get("/roster", headers=ROSTER_READER)).json()
            return int(roster["connectors"][0]["caseload"])

        assigned = await task_status("accepted", "assigned")
        assert assigned["businessStatus"]["coding"][0]["code"] == "assigned"
        assert await caseload() == 1

        revoked = await intake_client.post(
            PROCESS_MESSAGE, json=follow_up(message, "update", "revoked"), headers=bars_headers()
        )
        assert revoked.status_code == 200, revoked.text
        await task_status("cancelled")

        async def place_freed() -> bool:
            return await caseload() == 0

        await wait_until(place_freed, message="triage to free the place of the withdrawn referral")
