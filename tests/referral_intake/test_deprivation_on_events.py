"""A referral through a door, on the real broker and PostgreSQL, is published with its area's IMD decile and
without the full postcode or the LSOA (the synthetic demo lookup: LS1 1AA is decile 1)."""

from __future__ import annotations

import json

import pytest

from referral_intake.adapters.deprivation import demo_files
from referral_intake.app import create_app as intake_app
from referral_intake.config import IntakeSettings
from signpost_contracts import Stream, topic
from support.forms import person_answers, reference_on
from support.infra import new_database, read_topic, unique
from support.services import serving, settings_for

pytestmark = pytest.mark.integration


async def test_a_self_referral_is_published_with_its_imd_decile_and_no_postcode_or_lsoa(infrastructure, namespace):
    settings = settings_for(IntakeSettings, infrastructure, namespace, await new_database(infrastructure.postgres_url))
    postcodes, deprivation = demo_files()
    settings = settings.model_copy(update={"imd_postcode_file": postcodes, "imd_deprivation_file": deprivation})
    async with serving(intake_app(settings)) as client:
        answers = {**person_answers(unique("Dee")), "postcode": "ls1 1aa"}
        referral_id = reference_on(await client.post("/self-referral", data=answers))

        def found(records: list) -> bool:
            return any(r.key == referral_id.encode() for r in records)

        name = topic(Stream.REFERRALS, namespace.name)
        records = await read_topic(namespace.bootstrap, name, until=found, timeout=30)
    [record] = [r for r in records if r.key == referral_id.encode()]
    payload = json.loads(record.value)

    assert payload["person"]["imd_decile"] == 1
    assert payload["person"]["postcode_district"] == "LS1"
    flat = record.value.decode().upper().replace(" ", "")
    assert "LS11AA" not in flat
    assert "E01900001" not in flat
