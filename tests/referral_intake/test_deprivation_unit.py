"""The IMD lookup reads the published ONS postcode directory and English Indices of Deprivation CSVs."""

from __future__ import annotations

import json
import random
from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from referral_intake.adapters.deprivation import DeprivationFileError, DeprivationLookup, demo_files
from referral_intake.adapters.fhir_request import submission_from_body
from referral_intake.config import IntakeSettings
from referral_intake.service import IntakeService
from signpost_devstack.synthetic import gp_referral, leeds_postcode
from signpost_runtime.auth import Principal
from support.fakes.intake import FakeIntakeUnit

pytestmark = pytest.mark.unit

ONSPD = "pcd,pcd2,pcds,dointr,doterm,oscty,ctry,rgn,lsoa11,msoa11,lsoa21,msoa21\n"
IOD2019 = (
    '"LSOA code (2011)","LSOA name (2011)","Local Authority District code (2019)",'
    '"Local Authority District name (2019)","Index of Multiple Deprivation (IMD) Score",'
    '"Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)",'
    '"Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)"\n'
)
IOD2025 = IOD2019.replace("(2011)", "(2021)").replace("(2019)", "(2024)")
ROWS = (
    "LS1 1AA,LS1  1AA,LS1 1AA,199801,,E99999999,E92000001,E12000003,E01011111,E02000001,E01033333,E02000001\n"
    "LS2 7ZZ,LS2  7ZZ,LS2 7ZZ,199801,201001,E99999999,E92000001,E12000003,E01022222,E02000002,E01044444,E02000002\n"
    "CF101AA,CF10 1AA,CF10 1AA,199801,,W99999999,W92000004,W99999999,W01000001,W02000001,W01000001,W02000001\n"
)


def _write(tmp_path: Path, postcodes: str, deprivation: str) -> tuple[Path, Path]:
    (tmp_path / "onspd.csv").write_text(postcodes, encoding="utf-8")
    (tmp_path / "iod.csv").write_text(deprivation, encoding="utf-8-sig")
    return tmp_path / "onspd.csv", tmp_path / "iod.csv"


def test_iod2019_deciles_are_found_through_the_2011_lsoa_of_each_postcode(tmp_path):
    lookup = DeprivationLookup.from_files(
        *_write(
            tmp_path, ONSPD + ROWS, IOD2019 + 'E01011111,"Leeds 1",E08000035,Leeds,70.1,12,1\nE01022222,x,y,z,1,99,7\n'
        )
    )
    assert lookup.decile("LS1 1AA") == 1
    assert lookup.decile("LS2 7ZZ") == 7  # terminated postcodes still map


def test_iod2025_deciles_are_found_through_the_2021_lsoa(tmp_path):
    lookup = DeprivationLookup.from_files(*_write(tmp_path, ONSPD + ROWS, IOD2025 + "E01033333,a,b,c,1,2,2\n"))
    assert lookup.decile("LS1 1AA") == 2
    assert lookup.decile("LS2 7ZZ") is None


def test_a_directory_with_only_the_7_character_pcd_and_lsoa11_is_read(tmp_path):
    postcodes = "pcd,doterm,ctry,lsoa11\nLS1 1AA,,E92000001,E01011111\n"
    lookup = DeprivationLookup.from_files(*_write(tmp_path, postcodes, IOD2019 + "E01011111,a,b,c,1,2,3\n"))
    assert lookup.decile("LS1 1AA") == 3


def test_postcodes_match_whatever_their_spacing_and_case(tmp_path):
    lookup = DeprivationLookup.from_files(*_write(tmp_path, ONSPD + ROWS, IOD2019 + "E01011111,a,b,c,1,2,1\n"))
    assert lookup.decile("ls11aa") == lookup.decile("  LS1   1aa ") == 1


def test_an_unknown_postcode_and_a_welsh_one_have_no_decile(tmp_path):
    lookup = DeprivationLookup.from_files(*_write(tmp_path, ONSPD + ROWS, IOD2019 + "E01011111,a,b,c,1,2,1\n"))
    assert lookup.decile("ZZ9 9ZZ") is None
    assert lookup.decile("CF10 1AA") is None
    assert len(lookup) == 1  # only English postcodes with a decile are kept in memory


def test_the_empty_lookup_knows_no_decile():
    assert DeprivationLookup.empty().decile("LS1 1AA") is None


@pytest.mark.parametrize(
    ("postcodes", "deprivation", "named"),
    [
        ("pcd2,lsoa11\n", IOD2019, "'pcds' or 'pcd'"),
        ("pcds,ctry\n", IOD2019, "'lsoa21' or 'lsoa11'"),
        (ONSPD, "LSOA name (2011),Index of Multiple Deprivation (IMD) Decile\n", "'LSOA code'"),
        (ONSPD, "LSOA code (2011),Index of Multiple Deprivation (IMD) Rank\n", "(IMD) Decile"),
    ],
)
def test_a_file_without_a_needed_column_is_refused_naming_the_file_and_the_column(
    tmp_path, postcodes, deprivation, named
):
    files = _write(tmp_path, postcodes, deprivation)
    with pytest.raises(DeprivationFileError) as refused:
        DeprivationLookup.from_files(*files)
    assert named in str(refused.value)
    assert str(files[0] if "pcd" in named or "lsoa2" in named else files[1]) in str(refused.value)


def test_a_decile_outside_1_to_10_is_refused_naming_the_line(tmp_path):
    files = _write(tmp_path, ONSPD + ROWS, IOD2019 + "E01011111,a,b,c,1,2,1\nE01022222,a,b,c,1,2,11\n")
    with pytest.raises(DeprivationFileError, match=r"iod\.csv: line 3: IMD decile '11' for E01022222"):
        DeprivationLookup.from_files(*files)


def test_a_missing_file_is_refused_naming_it(tmp_path):
    with pytest.raises(DeprivationFileError, match=r"nowhere\.csv: cannot be read"):
        DeprivationLookup.from_files(tmp_path / "nowhere.csv", tmp_path / "nowhere.csv")


@pytest.mark.parametrize("given", ["imd_postcode_file", "imd_deprivation_file"])
def test_one_deprivation_setting_without_the_other_is_refused(tmp_path, given):
    with pytest.raises(ValidationError, match=r"is set but IMD_(POSTCODE|DEPRIVATION)_FILE is not"):
        IntakeSettings(**{given: tmp_path / "x.csv"})


def test_the_shipped_synthetic_demo_lookup_has_the_most_deprived_deciles():
    lookup = DeprivationLookup.from_files(*demo_files())
    assert [lookup.decile(f"LS{n} 1AA") for n in (1, 2, 10)] == [1, 2, 10]
    assert lookup.decile("CF10 1AA") is None


async def test_the_received_event_carries_the_decile_but_never_the_postcode_or_lsoa():
    unit, intake = FakeIntakeUnit(), IntakeService(deprivation=DeprivationLookup.from_files(*demo_files()))
    body = json.dumps(gp_referral(rng=random.Random(), ods_code="B82005", postcode="LS2 1AA")).encode()
    writer = Principal(subject="gp", scopes=frozenset({"referrals:write"}), ods_code="B82005")
    await intake.submit(unit, submission_from_body(body, max_depth=64, today=date.today()), writer, None)

    [event] = unit.events
    assert event.data["person"]["imd_decile"] == 2
    published = json.dumps(event.data).upper().replace(" ", "")
    assert "LS21AA" not in published
    assert "E01900002" not in published


def test_every_postcode_the_synthetic_traffic_makes_has_a_decile_in_the_demo_lookup():
    lookup = DeprivationLookup.from_files(*demo_files())
    rng = random.Random(7)
    deciles = {lookup.decile(leeds_postcode(rng)) for _ in range(500)}
    assert None not in deciles
    assert {1, 2} <= deciles  # Core20PLUS5 has something to show in the demo
