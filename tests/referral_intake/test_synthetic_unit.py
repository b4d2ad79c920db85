"""The synthetic GP referrals used by `make demo`, the e2e test and the benchmark."""

from __future__ import annotations

import random
from datetime import date

import pytest

from referral_intake.adapters.fhir_referral import read_submission
from referral_intake.adapters.fhir_validation import validate_service_request
from signpost_contracts.vocabulary import postcode_district
from signpost_devstack.synthetic import (
    OUT_OF_AREA_POSTCODE,
    REDIRECT_RISK_FLAG,
    gp_referral,
    in_area_referral,
    out_of_area_referral,
    redirect_referral,
)

pytestmark = pytest.mark.unit

TODAY = date(2025, 6, 1)


def _accepted(resource):
    validate_service_request(resource)
    return read_submission(resource, TODAY)


def test_a_seeded_generator_gives_the_same_referral_every_time():
    assert gp_referral(rng=random.Random(3), today=TODAY) == gp_referral(rng=random.Random(3), today=TODAY)


def test_each_call_is_a_new_referral_with_its_own_identifier():
    rng = random.Random(3)
    identifiers = {gp_referral(rng=rng)["identifier"][0]["value"] for _ in range(200)}
    assert len(identifiers) == 200
    assert gp_referral()["identifier"] != gp_referral()["identifier"]


def test_the_steering_arguments_are_what_intake_reads():
    resource = gp_referral(
        postcode="LS11 5DQ",
        age=45,
        needs=["carer-support", "housing"],
        risk_flags=["safeguarding-concern"],
        ods_code="B86010",
        email="gp@b86010.example.nhs.uk",
        rng=random.Random(1),
        today=TODAY,
    )
    submission = _accepted(resource)
    assert submission.person.birth_date is not None
    assert (TODAY - submission.person.birth_date).days // 365 == 45
    assert postcode_district(submission.person.postcode) == "LS11"
    assert submission.needs == ("carer-support", "housing")
    assert submission.risk_flags == ("safeguarding-concern",)
    assert (submission.referrer.ods_code, submission.referrer.email) == ("B86010", "gp@b86010.example.nhs.uk")


def test_the_helpers_steer_towards_each_triage_outcome():
    rng = random.Random(9)
    assert postcode_district(_accepted(in_area_referral(rng=rng, today=TODAY)).person.postcode).startswith("LS")
    assert _accepted(out_of_area_referral(rng=rng, today=TODAY)).person.postcode == OUT_OF_AREA_POSTCODE
    assert REDIRECT_RISK_FLAG in _accepted(redirect_referral(rng=rng, today=TODAY)).risk_flags


@pytest.mark.parametrize("age", [18, 64, 65, 101])
def test_the_age_asked_for_is_the_age_on_the_day(age):
    submission = _accepted(gp_referral(age=age, rng=random.Random(age), today=TODAY))
    born = submission.person.birth_date
    assert TODAY.year - born.year - ((TODAY.month, TODAY.day) < (born.month, born.day)) == age
