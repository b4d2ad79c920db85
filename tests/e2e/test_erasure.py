"""Erasure on the stack of `make run` (services as processes, each with its own database): after a coordinator's
POST /erasures, no column of any table of any service's database holds the person's name, NHS number, date
of birth, address, postcode or phone, and every count is as it was."""

from __future__ import annotations

import asyncio
import random
import time

import asyncpg
import httpx
import pytest

from signpost_devstack.stack import LocalStack
from signpost_devstack.synthetic import gp_referral
from support.forms import person_answers, reference_on
from support.journey import Journey

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

GIVEN, FAMILY = "Rosalind", "Quilliam"
NHS_NUMBER = "9434765919"
BIRTH_DATE = "1956-03-27"
STREET = "14 Larkspur Terrace"
POSTCODE = "LS6 4QX"
PHONE = "07700 900461"
# Every way each identifier may have been written down: as sent, and without spaces.
IDENTIFIERS = [FAMILY, f"{GIVEN} {FAMILY}", NHS_NUMBER, "943 476 5919", BIRTH_DATE, "Larkspur", POSTCODE, "LS64QX",
               PHONE, PHONE.replace(" ", "")]  # fmt: skip
SERVICES = ("referral_intake", "triage", "notifications", "reporting")


def _gp_referral_of_the_person() -> dict:
    referral = gp_referral(postcode=POSTCODE, age=70, needs=["loneliness"], rng=random.Random())
    patient = referral["contained"][0]
    patient.update(
        identifier=[{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": NHS_NUMBER}],
        name=[{"use": "official", "family": FAMILY, "given": [GIVEN]}],
        telecom=[{"system": "phone", "value": PHONE, "use": "mobile"}],
        birthDate=BIRTH_DATE,
        address=[{"use": "home", "line": [STREET], "city": "Leeds", "postalCode": POSTCODE}],
    )
    referral["note"] = [{"text": f"{GIVEN} {FAMILY} lives at {STREET} and prefers a call on {PHONE}"}]
    return referral


async def _self_referral_of_the_person(journey: Journey) -> str:
    answers = {**person_answers(f"{GIVEN} {FAMILY}"), "postcode": POSTCODE, "phone": PHONE}
    answers["help-other"] = f"My NHS number is {NHS_NUMBER} and I live at {STREET}"  # people write anything
    sent = await journey.client.post(f"{journey.stack.url('referral_intake')}/self-referral", data=answers)
    return reference_on(sent)


async def _found(stack: LocalStack) -> dict[str, list[str]]:
    """Every identifier found, by service.table.column, in every column of every table of every service."""
    found: dict[str, list[str]] = {}
    for service in SERVICES:
        connection = await asyncpg.connect(stack.database_url(service))
        try:
            columns = await connection.fetch(
                "SELECT table_name, column_name, data_type FROM information_schema.columns"
                " WHERE table_schema = 'public' ORDER BY table_name, column_name"
            )
            for table, column, data_type in columns:
                # bytea (the outbox's payloads) as its bytes' text; every other type by its text form.
                value = f"encode(\"{column}\", 'escape')" if data_type == "bytea" else f'"{column}"::text'
                hits = await connection.fetch(
                    "SELECT needle FROM unnest($1::text[]) AS needle WHERE EXISTS"
                    f" (SELECT 1 FROM \"{table}\" WHERE {value} ILIKE '%' || needle || '%')",
                    IDENTIFIERS,
                )
                if hits:
                    found[f"{service}.{table}.{column}"] = [hit["needle"] for hit in hits]
        finally:
            await connection.close()
    return found


async def _erased_everywhere(stack: LocalStack, referral_ids: set[str], timeout: float = 60) -> None:
    """Until notifications, the service that acts on referral.erased.v1, has applied it for every referral."""
    deadline = time.monotonic() + timeout
    connection = await asyncpg.connect(stack.database_url("notifications"))
    try:
        while True:
            done = await connection.fetchval(
                "SELECT count(*) FROM erased_referrals WHERE referral_id = ANY($1::text[])", list(referral_ids)
            )
            if done == len(referral_ids):
                return
            assert time.monotonic() < deadline, "notifications did not apply every erasure"
            await asyncio.sleep(0.3)
    finally:
        await connection.close()


async def _intake_counts(stack: LocalStack, referral_ids: set[str]) -> tuple[int, list[tuple[str, str, str]]]:
    connection = await asyncpg.connect(stack.database_url("referral_intake"))
    try:
        total = await connection.fetchval("SELECT count(*) FROM referrals")
        rows = await connection.fetch(
            "SELECT r.id, r.status, coalesce(c.status, '-') AS case_status FROM referrals r"
            " LEFT JOIN cases c ON c.referral_id = r.id WHERE r.id = ANY($1::text[]) ORDER BY r.id",
            list(referral_ids),
        )
        return int(total), [(row["id"], row["status"], row["case_status"]) for row in rows]
    finally:
        await connection.close()


def _counts(summary: dict) -> tuple:
    return summary["total_referrals"], summary["by_decision"], summary["notifications"]["sent"]


async def test_after_erasure_no_service_holds_the_persons_identifiers_and_every_count_is_unchanged(stack):
    coordinator = {"Authorization": f"Bearer {stack.token(scopes=['cases:coordinate'], ods_code=None)}"}
    async with httpx.AsyncClient(timeout=30) as client:
        journey = Journey(stack, client)
        before_any = await journey.summary()
        by_gp = await journey.refer(_gp_referral_of_the_person())
        by_themselves = await _self_referral_of_the_person(journey)
        for referral_id in (by_gp, by_themselves):
            await journey.settled_task(referral_id, timeout=60)
        # The person's own acknowledgement and outcome email, and the GP's: notifications holds person-addressed rows.
        emails = await journey.emails_about({by_gp, by_themselves}, timeout=60)
        assert any(PHONE in m["text"] or f"{GIVEN.lower()}.{FAMILY.lower()}" in str(m["rcpt_tos"])
                   for m in emails[by_themselves])  # fmt: skip
        before = await journey.summary_when(
            lambda s: (
                s["total_referrals"] - before_any["total_referrals"] == 2
                and s["notifications"]["sent"] - before_any["notifications"]["sent"] >= 3
            ),
            timeout=60,
        )
        intake_before = await _intake_counts(stack, {by_gp, by_themselves})
        held = await _found(stack)
        assert any(key.startswith("referral_intake.") for key in held), "the search finds what intake holds"
        assert any(key.startswith("notifications.") for key in held), "and what notifications holds"

        url = f"{stack.url('referral_intake')}/erasures"
        by_number = await client.post(url, json={"nhs_number": NHS_NUMBER}, headers=coordinator)
        by_referral = await client.post(url, json={"referral_id": by_themselves}, headers=coordinator)
        assert by_number.status_code == 200, by_number.text
        assert by_number.json() == {"erased": [by_gp], "already_erased": []}
        assert by_referral.json() == {"erased": [by_themselves], "already_erased": []}
        await _erased_everywhere(stack, {by_gp, by_themselves})

        assert await _found(stack) == {}
        assert await _intake_counts(stack, {by_gp, by_themselves}) == intake_before
        assert _counts(await journey.summary()) == _counts(before), "reporting still counts both referrals"
