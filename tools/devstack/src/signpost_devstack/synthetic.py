"""Realistic synthetic GP referrals: valid FHIR R4 ServiceRequests that referral_intake accepts.

Everything here is invented. NHS numbers come from the 999 range, which is reserved for testing
and never issued to a person; emails use example.nhs.uk; phone numbers are Ofcom drama numbers.
Given a seeded `random.Random` (and a fixed `today`) the output is the same every time,
identifiers included: use a fresh or unseeded generator when each call must be a new referral.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

SNOMED = "http://snomed.info/sct"
NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
NEED_CATEGORY_SYSTEM = "https://signpost.dev/fhir/CodeSystem/need-category"
RISK_FLAG_SYSTEM = "https://signpost.dev/fhir/CodeSystem/risk-flag"
SOCIAL_PRESCRIBING_REFERRAL = "871731000000106"

DEFAULT_ODS_CODE = "B82005"  # the organisation in the local stack's dev token
OUT_OF_AREA_POSTCODE = "M1 1AE"  # Manchester city centre: outside the demo Leeds service area
REDIRECT_RISK_FLAG = "self-harm-risk"  # the demo policy redirects this to the crisis team

LEEDS_DISTRICTS = ("LS1", "LS2", "LS4", "LS6", "LS7", "LS8", "LS9", "LS11", "LS12", "LS14", "LS15", "LS16", "LS17")
_ELSEWHERE = ("BD1 1HY", "WF1 2DA", "HX1 1UJ", "YO1 7HH")
# Inward-code letters the generator uses: a few of the real ones (no C, I, K, M, O, V are used at all), so
# that the synthetic deprivation lookup (signpost_devstack.demo_deprivation) can list every postcode made.
DEMO_INWARD_LETTERS = "ABDE"
_STREETS = (
    "Otley Road", "Headingley Lane", "Harehills Lane", "Roundhay Road", "Kirkstall Road", "Tong Road",
    "Chapeltown Road", "York Road", "Dewsbury Road", "Easterly Road", "Cardigan Road", "Stainbeck Lane",
)  # fmt: skip
_FEMALE = ("Margaret", "Harpreet", "Aisha", "Siobhan", "Joan", "Tendai", "Agnieszka", "Patricia", "Nasreen", "Eileen")
_MALE = ("Mohammed", "Derek", "Wojciech", "Kwame", "Brian", "Imran", "Gareth", "Tariq", "Colin", "Sunil")
_FAMILY = ("Smith", "Khan", "Patel", "Kowalski", "O'Brien", "Okafor", "Hussain", "Wright", "Walker", "Begum", "Kaur")
_LANGUAGES = (("en", "English"),) * 8 + (("pa", "Punjabi"), ("ur", "Urdu"), ("pl", "Polish"))
_NEEDS = {
    "loneliness": ("Loneliness", "267076002", "Feeling lonely"),
    "social-isolation": ("Social isolation", "422650009", "Social isolation"),
    "bereavement": ("Bereavement", None, None),
    "low-mood": ("Low mood", "366979004", "Depressed mood"),
    "carer-support": ("Carer needing support", None, None),
    "financial-worries": ("Money worries", "160932005", "Financial problem"),
    "housing": ("Housing problem", "105531004", "Housing problem"),
    "physical-inactivity": ("Physically inactive", None, None),
    "mental-health-crisis": ("Mental health crisis", None, None),
}
_NOTES = {
    "loneliness": "Lives alone and says days can pass without speaking to anyone.",
    "bereavement": "Husband died last year; has stopped going to the chapel group they went to together.",
    "carer-support": "Full-time carer for a parent with dementia; no time for themself.",
    "financial-worries": "Worried about energy bills and a letter about council tax arrears.",
    "physical-inactivity": "Would like to be more active but is nervous about joining a gym.",
}


def nhs_number(rng: random.Random) -> str:
    """A valid NHS number (Modulus 11) in the 999 test range."""
    while True:
        first_nine = "999" + "".join(str(rng.randint(0, 9)) for _ in range(6))
        remainder = sum(int(d) * w for d, w in zip(first_nine, range(10, 1, -1), strict=True)) % 11
        check = (11 - remainder) % 11
        if check != 10:  # no NHS number is issued with a check digit of 10
            return first_nine + str(check)


def leeds_postcode(rng: random.Random) -> str:
    inward = f"{rng.randint(1, 9)}{rng.choice(DEMO_INWARD_LETTERS)}{rng.choice(DEMO_INWARD_LETTERS)}"
    return f"{rng.choice(LEEDS_DISTRICTS)} {inward}"


def gp_referral(
    *,
    postcode: str | None = None,
    age: int | None = None,
    needs: list[str] | tuple[str, ...] | None = None,
    risk_flags: list[str] | tuple[str, ...] = (),
    ods_code: str = DEFAULT_ODS_CODE,
    email: str | None = None,
    priority: str = "routine",
    rng: random.Random | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """One FHIR R4 ServiceRequest JSON: a social prescribing referral from a GP practice."""
    rng = rng or random.Random()
    now = datetime.now(UTC).replace(microsecond=0)
    authored = now if today is None else datetime.combine(today, time(9, 30), UTC)
    today = today or now.date()
    needs = list(needs) if needs is not None else rng.sample(["loneliness", "social-isolation", "low-mood"], k=2)
    email = email or f"referrals@{ods_code.lower()}.example.nhs.uk"
    referral_id = uuid.UUID(int=rng.getrandbits(128), version=4)
    return {
        "resourceType": "ServiceRequest",
        "contained": [
            _patient(rng, postcode or leeds_postcode(rng), age if age is not None else _adult_age(rng), today),
            _practice(ods_code, email, rng),
        ],
        "identifier": [{"system": f"https://{ods_code.lower()}.example.nhs.uk/Id/referral", "value": str(referral_id)}],
        "status": "active",
        "intent": "order",
        "category": [{"coding": [{"system": SNOMED, "code": "3457005", "display": "Patient referral"}]}],
        "priority": priority,
        "code": {
            "coding": [
                {
                    "system": SNOMED,
                    "code": SOCIAL_PRESCRIBING_REFERRAL,
                    "display": "Referral to social prescribing service",
                }
            ]
        },
        "subject": {"reference": "#patient"},
        "authoredOn": authored.isoformat(),
        "requester": {"reference": "#practice"},
        "reasonCode": [_need(need) for need in needs] + [_risk(flag) for flag in risk_flags],
        "note": [{"text": _NOTES.get(needs[0], "Would benefit from meeting people nearby.") if needs else "Referred."}],
    }


def in_area_referral(*, rng: random.Random | None = None, **overrides: Any) -> dict[str, Any]:
    """An adult in Leeds with ordinary needs: the demo policy accepts it."""
    rng = rng or random.Random()
    return gp_referral(**{"postcode": leeds_postcode(rng), "rng": rng, **overrides})


def out_of_area_referral(*, rng: random.Random | None = None, **overrides: Any) -> dict[str, Any]:
    """Someone living in Manchester: outside the demo service area, so declined."""
    return gp_referral(**{"postcode": OUT_OF_AREA_POSTCODE, "rng": rng, **overrides})


def redirect_referral(*, rng: random.Random | None = None, **overrides: Any) -> dict[str, Any]:
    """A Leeds referral flagged for self-harm risk: the demo policy redirects it to the crisis team."""
    rng = rng or random.Random()
    fields = {"postcode": leeds_postcode(rng), "risk_flags": [REDIRECT_RISK_FLAG], "needs": ["low-mood"], "rng": rng}
    return gp_referral(**{**fields, **overrides})


def demo_mix(rng: random.Random) -> dict[str, Any]:
    """A stream that looks like a month of real referrals: mostly in area, some elsewhere, a few urgent."""
    roll = rng.random()
    needs = rng.sample(list(_NEEDS)[:-1], k=rng.choice((1, 1, 2, 2, 3)))
    if roll < 0.05:
        return redirect_referral(rng=rng)
    if roll < 0.12:
        return out_of_area_referral(rng=rng, needs=needs)
    if roll < 0.16:
        return gp_referral(postcode=rng.choice(_ELSEWHERE), needs=needs, rng=rng)
    return in_area_referral(rng=rng, needs=needs, priority="urgent" if roll > 0.97 else "routine")


def _adult_age(rng: random.Random) -> int:
    # Social prescribing referrals skew older; a triangular draw keeps most between 55 and 85.
    return round(rng.triangular(18, 97, 74))


def _birth_date(age: int, today: date, rng: random.Random) -> date:
    try:
        last_birthday = today.replace(year=today.year - age)
    except ValueError:  # 29 February in a year without one
        last_birthday = today.replace(year=today.year - age, day=28)
    return last_birthday - timedelta(days=rng.randint(0, 360))


def _patient(rng: random.Random, postcode: str, age: int, today: date) -> dict[str, Any]:
    female = rng.random() < 0.6
    given = rng.choice(_FEMALE if female else _MALE)
    family = rng.choice(_FAMILY)
    language, language_name = rng.choice(_LANGUAGES)
    communication: dict[str, Any] = {
        "language": {
            "coding": [{"system": "urn:ietf:bcp:47", "code": language, "display": language_name}],
        },
        "preferred": True,
    }
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "id": "patient",
        "identifier": [{"system": NHS_NUMBER_SYSTEM, "value": nhs_number(rng)}],
        "name": [{"use": "official", "family": family, "given": [given], "prefix": ["Mrs" if female else "Mr"]}],
        "telecom": [{"system": "phone", "value": f"07700 900{rng.randint(0, 999):03d}", "use": "mobile"}],
        "gender": "female" if female else "male",
        "birthDate": _birth_date(age, today, rng).isoformat(),
        "address": [
            {
                "use": "home",
                "line": [f"{rng.randint(1, 180)} {rng.choice(_STREETS)}"],
                "city": "Leeds" if postcode.startswith("LS") else None,
                "postalCode": postcode,
            }
        ],
        "communication": [communication],
        "generalPractitioner": [{"reference": "#practice"}],
    }
    if language != "en" and rng.random() < 0.6:
        patient["extension"] = [
            {"url": "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired", "valueBoolean": True}
        ]
    patient["address"][0] = {k: v for k, v in patient["address"][0].items() if v is not None}
    return patient


def _practice(ods_code: str, email: str, rng: random.Random) -> dict[str, Any]:
    name = rng.choice(("Leeds Road Surgery", "Chapeltown Health Centre", "Meanwood Group Practice", "Armley Medical"))
    return {
        "resourceType": "Organization",
        "id": "practice",
        "identifier": [{"system": ODS_SYSTEM, "value": ods_code}],
        "name": name,
        "telecom": [
            {"system": "email", "value": email, "use": "work"},
            {"system": "phone", "value": f"0113 496 0{rng.randint(0, 999):03d}", "use": "work"},
        ],
    }


def _need(need: str) -> dict[str, Any]:
    text, snomed_code, snomed_display = _NEEDS.get(need, (need, None, None))
    coding: list[dict[str, str | None]] = [{"system": NEED_CATEGORY_SYSTEM, "code": need, "display": text}]
    if snomed_code:
        coding.append({"system": SNOMED, "code": snomed_code, "display": snomed_display})
    return {"coding": coding, "text": text}


def _risk(flag: str) -> dict[str, Any]:
    return {"coding": [{"system": RISK_FLAG_SYSTEM, "code": flag}], "text": flag.replace("-", " ").capitalize()}
