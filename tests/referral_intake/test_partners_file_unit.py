"""The partner register (PARTNERS_FILE): read at start, and refused with the file, the partner and the field named."""

from __future__ import annotations

import pytest

from referral_intake.adapters.partners_file import PartnersFileError, load_partners
from referral_intake.app import create_app
from referral_intake.config import IntakeSettings
from support.auth import TEST_JWT_SECRET

pytestmark = pytest.mark.unit

GOOD = """
[[partners]]
id = "leeds-mind"
name = "Leeds Mind"
kind = "community-organisation"
email = "referrals@leedsmind.example.org"
"""


def _file(tmp_path, text: str):
    path = tmp_path / "partners.toml"
    path.write_text(text)
    return path


def test_the_demo_register_loads_and_maps_each_partner_to_a_referrer_kind():
    register = load_partners(None)

    assert len(register) >= 3
    partner = register.get("leeds-adult-social-care-north")
    assert (partner.kind, partner.as_referrer().requester) == ("social-worker", "partner:leeds-adult-social-care-north")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (GOOD.replace("community-organisation", "gp"), "partner 1 (leeds-mind): field 'kind'"),
        (
            GOOD.replace('email = "referrals@leedsmind.example.org"', ""),
            "partner 1 (leeds-mind): field 'email' is missing",
        ),
        (GOOD.replace("referrals@leedsmind.example.org", "not-an-address"), "not an email address replies can go to"),
        (GOOD.replace('"leeds-mind"', '"Leeds Mind!"'), "use lowercase letters, digits and hyphens"),
        (GOOD + "ods = 'X1'\n", "field 'ods' is not a partner setting"),
        (GOOD + GOOD, "partner id 'leeds-mind' is registered twice"),
        ("[[partners]\n", "is not valid TOML"),
    ],
)
def test_a_wrong_register_is_refused_naming_the_partner_and_the_field(tmp_path, text, problem):
    path = _file(tmp_path, text)

    with pytest.raises(PartnersFileError) as refused:
        load_partners(path)

    assert str(refused.value).startswith(f"partners file {path}: ")
    assert problem in str(refused.value)


def test_intake_does_not_start_with_a_wrong_register(tmp_path):
    path = _file(tmp_path, GOOD.replace("community-organisation", "charity"))

    with pytest.raises(PartnersFileError, match="field 'kind'"):
        create_app(IntakeSettings(jwt_secret=TEST_JWT_SECRET, partners_file=path))


def test_a_missing_register_is_named(tmp_path):
    with pytest.raises(PartnersFileError, match="cannot be read"):
        load_partners(tmp_path / "nowhere.toml")
