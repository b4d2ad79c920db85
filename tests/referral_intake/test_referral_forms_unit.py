"""The referral forms in-process, on a fake unit of work: the public self-referral, partners' /refer and connectors'
outreach. What each stores and announces (referral.received.v2), how each refuses, and the public form's abuse
controls (rate limit, honeypot, size limit)."""

from __future__ import annotations

import re
import uuid
from html import unescape

import httpx
import pytest

from referral_intake.adapters.fhir_contact import contact_card
from support.auth import token
from support.fakes.intake import FakeIntakeUnit
from support.intake_app import client_on_fake

pytestmark = pytest.mark.unit

COOKIE = "signpost_cases_token"
ANN = {
    "name": "Ann Smith",
    "dob[day]": "27",
    "dob[month]": "3",
    "dob[year]": "1956",
    "postcode": "ls6 2ab",
    "phone": "0113 496 0000",
    "email": "ann@example.com",
    "contact-times": "weekday mornings",
    "first-conversation": "walk",
    "help-with": ["bereavement", "social-isolation"],
    "language": "pl",
    "interpreter": "yes",
    "consent-contact": "yes",
}


@pytest.fixture
def unit() -> FakeIntakeUnit:
    return FakeIntakeUnit()


@pytest.fixture
async def pages(unit):
    async with client_on_fake(unit) as client:
        yield client


def received(unit: FakeIntakeUnit) -> list[dict]:
    return [event.data for event in unit.events if event.type == "referral.received.v2"]


def summary_links(html: str) -> list[str]:
    summary = html[html.index("nhsuk-error-summary") : html.index("<h1")]
    return re.findall(r'<a href="#([^"]+)">', summary)


def inline_error(html: str, field_id: str) -> str:
    found = re.search(rf'id="{field_id}-error">\s*<span class="nhsuk-u-visually-hidden">Error:\s*</span>([^<]+)<', html)
    assert found, f"no inline error on {field_id}"
    return unescape(" ".join(found[1].split()))


def reference(html: str) -> str:
    found = re.search(r'<strong id="reference">([^<]+)</strong>', html)
    assert found, "no reference on the page"
    return found[1]


async def test_the_self_referral_form_explains_the_service_without_labelling_anyone(pages):
    page = await pages.get("/self-referral")

    assert page.status_code == 200
    assert "Who we can help" in page.text
    assert "What happens next" in page.text
    words = re.sub(r"<[^>]*>", " ", page.text).lower()  # what a person reads (values like "loneliness" are codes)
    assert "lonel" not in words
    assert "isolat" not in words
    assert 'name="consent-contact"' in page.text
    assert re.search(r'name="form-id" value="[0-9a-f-]{36}"', page.text)


def field_names(html: str) -> set[str]:
    """The names of the fields a browser would send from the page."""
    return set(re.findall(r'<(?:input|select|textarea)\b[^>]*\bname="([^"]+)"', html))


async def test_every_answer_these_tests_send_is_a_field_the_page_has(pages):
    # The answers below are posted directly; a name the page does not use (as `dob-day` was, while the NHS.UK
    # date input names its boxes `dob[day]`) would pass here and fail every person in a browser.
    page = await pages.get("/self-referral")

    assert set(ANN) <= field_names(page.text), set(ANN) - field_names(page.text)
    assert {"dob[day]", "dob[month]", "dob[year]"} <= field_names(page.text)


async def test_a_self_referral_is_stored_and_announced_as_the_persons_own_with_their_contact(pages, unit):
    sent = await pages.post("/self-referral", data={**ANN, "consent-gp": "yes", "gp-practice": "Leeds Road Surgery"})

    assert sent.status_code == 200, sent.text
    [event] = received(unit)
    assert event["referral_id"] == reference(sent.text)
    assert event["channel"] == "self-referral"
    assert event["referrer"] == {
        "kind": "self",
        "ods_code": None,
        "partner_id": None,
        "organisation_name": None,
        # The person's own address goes apart, on the compacted contacts stream (this one is kept for ever).
        "contact": {"email": None, "phone": None, "fhir_endpoint": None},
        "contact_apart": True,
    }
    [contact] = [e.data for e in unit.events if e.type == "referral.person-contact.v1"]
    assert contact == {"referral_id": event["referral_id"], "email": "ann@example.com", "phone": "0113 496 0000"}
    assert event["needs"] == ["bereavement", "social-isolation"]
    assert event["person"]["postcode_district"] == "LS6"
    assert (event["person"]["preferred_language"], event["person"]["interpreter_needed"]) == ("pl", True)
    stored = await unit.referrals.get(event["referral_id"])
    card = contact_card(stored.resource)
    assert (card.name, card.interpreter_needed) == ("Ann Smith", True)
    assert "chatting while we go for a walk" in card.first_contact_preference
    assert "weekday mornings" in card.first_contact_preference
    assert "Their GP may be told about this referral (practice: Leeds Road Surgery)." in card.note


async def test_an_age_instead_of_a_date_of_birth_is_enough(pages, unit):
    without_date = {k: v for k, v in ANN.items() if not k.startswith("dob[")}

    sent = await pages.post("/self-referral", data={**without_date, "age": "67"})

    assert sent.status_code == 200
    assert received(unit)[0]["person"]["age_years"] == 67


async def test_an_empty_form_names_each_missing_answer_in_page_order_and_stores_nothing(pages, unit):
    refused = await pages.post("/self-referral", data={"language": "en"})

    assert refused.status_code == 400
    assert "<title>Error: " in refused.text
    assert summary_links(refused.text) == [
        "name",
        "dob-day",
        "postcode",
        "phone",
        "first-conversation",
        "consent-contact",
    ]
    assert inline_error(refused.text, "consent-contact").startswith("Tick the box to agree to be contacted")
    assert received(unit) == []


async def test_a_refused_form_comes_back_filled_in_with_the_problem_beside_its_field(pages, unit):
    refused = await pages.post("/self-referral", data={**ANN, "email": "ann at example", "postcode": "LS6"})

    assert refused.status_code == 400
    assert inline_error(refused.text, "postcode") == "Enter a full UK postcode, like LS6 2AB"
    assert inline_error(refused.text, "email").startswith("Enter an email address in the correct format")
    assert 'value="Ann Smith"' in refused.text
    assert re.search(r'value="bereavement"\s+checked', refused.text)
    assert received(unit) == []


async def test_without_consent_to_be_contacted_nothing_is_stored(pages, unit):
    refused = await pages.post("/self-referral", data={k: v for k, v in ANN.items() if k != "consent-contact"})

    assert refused.status_code == 400
    assert summary_links(refused.text) == ["consent-contact"]
    assert received(unit) == []


async def test_the_same_form_sent_twice_is_one_referral(pages, unit):
    form_id = str(uuid.uuid4())

    first = await pages.post("/self-referral", data={**ANN, "form-id": form_id})
    again = await pages.post("/self-referral", data={**ANN, "form-id": form_id})

    assert reference(first.text) == reference(again.text)
    assert len(received(unit)) == 1


async def test_a_filled_honeypot_is_answered_like_success_and_stores_nothing(pages, unit):
    sent = await pages.post("/self-referral", data={**ANN, "website": "http://spam.example"})

    assert sent.status_code == 200
    assert reference(sent.text)
    assert received(unit) == []
    assert await unit.referrals.get(reference(sent.text)) is None


async def test_past_the_rate_limit_a_client_is_told_when_to_try_again(unit):
    async with client_on_fake(unit, form_rate_limit=2, form_rate_window_seconds=600) as pages:
        answers = [await pages.post("/self-referral", data=ANN) for _ in range(3)]

    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert 0 < int(answers[2].headers["Retry-After"]) <= 600
    assert len(received(unit)) == 2


async def test_a_forwarded_address_is_believed_only_when_the_deployment_names_its_header(unit):
    async def statuses(**settings: object) -> list[int]:
        async with client_on_fake(unit, form_rate_limit=1, **settings) as pages:
            return [
                (
                    await pages.post("/self-referral", data=ANN, headers={"X-Forwarded-For": f"203.0.113.{n}"})
                ).status_code
                for n in (1, 2)
            ]

    assert await statuses() == [200, 429], "unconfigured: both come from the same connection"
    assert await statuses(form_client_ip_header="X-Forwarded-For") == [200, 200]


async def test_a_form_larger_than_any_real_answer_is_refused_unread(unit):
    async with client_on_fake(unit, form_max_bytes=2048) as pages:
        refused = await pages.post("/self-referral", data={**ANN, "help-other": "x" * 4000})

    assert refused.status_code == 413
    assert received(unit) == []


async def test_an_answer_past_its_length_limit_is_refused_beside_its_field(pages, unit):
    refused = await pages.post("/self-referral", data={**ANN, "name": "A" * 201})

    assert refused.status_code == 400
    assert inline_error(refused.text, "name").startswith("Shorten this to 200 characters")


# Partner organisations' staff at /refer

PARTNER = {**ANN, "referrer-name": "Sam Jones", "referrer-role": "Support worker", "referrer-contact": "0113 000 0102"}


def partner_staff(client: httpx.AsyncClient, org: str | None = "leeds-mind", *scopes: str) -> httpx.AsyncClient:
    client.cookies.set(COOKIE, token(*scopes or ("referrals:write",), ods=None, subject="sam", org=org))
    return client


async def test_a_partners_referral_is_the_registered_partners_with_replies_to_its_registered_address(pages, unit):
    form = await partner_staff(pages).get("/refer")
    sent = await pages.post("/refer", data=PARTNER)

    assert "Referring for Leeds Mind" in form.text
    assert sent.status_code == 200, sent.text
    [event] = received(unit)
    assert event["channel"] == "referral-form"
    assert event["referrer"] == {
        "kind": "community-organisation",
        "ods_code": None,
        "partner_id": "leeds-mind",
        "organisation_name": "Leeds Mind",
        "contact": {"email": "referrals@leedsmind.example.org", "phone": "0113 000 0101", "fhir_endpoint": None},
        "contact_apart": False,
    }
    stored = await unit.referrals.get(event["referral_id"])
    assert stored.requester_ods == "partner:leeds-mind"
    assert "Referred by Sam Jones, Support worker (0113 000 0102)." in contact_card(stored.resource).note


async def test_every_answer_the_partner_tests_send_is_a_field_the_partner_form_has(pages):
    form = await partner_staff(pages).get("/refer")

    assert set(PARTNER) <= field_names(form.text), set(PARTNER) - field_names(form.text)


async def test_the_partner_form_needs_the_referrers_name(pages, unit):
    refused = await partner_staff(pages).post("/refer", data={**PARTNER, "referrer-name": ""})

    assert refused.status_code == 400
    assert summary_links(refused.text)[0] == "referrer-name"
    assert received(unit) == []


@pytest.mark.parametrize(
    ("org", "why"),
    [(None, "needs a token with the 'referrals:write' scope"), ("no-such-partner", "no partner organisation")],
)
async def test_a_token_without_a_registered_partner_cannot_use_the_partner_form(pages, unit, org, why):
    refused = await partner_staff(pages, org).post("/refer", data=PARTNER)

    assert refused.status_code == 403
    assert why in unescape(refused.text)
    assert received(unit) == []


async def test_the_partner_form_refuses_a_post_from_another_site(pages, unit):
    refused = await partner_staff(pages).post("/refer", data=PARTNER, headers={"Origin": "https://evil.example"})

    assert refused.status_code == 403
    assert received(unit) == []


async def test_a_partners_token_does_not_open_the_connector_pages(pages):
    refused = await partner_staff(pages).get("/worklist")

    assert refused.status_code == 403


# Outreach, recorded by a connector or coordinator


@pytest.mark.parametrize("scope", ["cases:write", "cases:coordinate"])
async def test_a_connector_records_someone_met_through_outreach_as_their_own_referral(pages, unit, scope):
    pages.cookies.set(COOKIE, token(scope, ods=None, subject="leeds-north-amira"))

    sent = await pages.post("/outreach", data={**ANN, "met-at": "Chapeltown library drop-in"})

    assert sent.status_code == 200, sent.text
    [event] = received(unit)
    assert event["channel"] == "outreach"
    assert event["referrer"]["kind"] == "self"
    assert event["referrer"]["contact"]["email"] is None, "the person's own address is not on the kept stream"
    [contact] = [e.data for e in unit.events if e.type == "referral.person-contact.v1"]
    assert contact["email"] == "ann@example.com"
    assert event["sender"] == {"system": "leeds-north-amira", "ods_code": None}
    stored = await unit.referrals.get(event["referral_id"])
    assert "Met through outreach at Chapeltown library drop-in" in contact_card(stored.resource).note


async def test_outreach_is_for_connectors_and_coordinators_only(pages, unit):
    refused = await partner_staff(pages).post("/outreach", data=ANN)
    signed_out = await httpx.AsyncClient(transport=pages._transport, base_url="http://testserver").post(
        "/outreach", data=ANN
    )

    assert refused.status_code == 403
    assert signed_out.status_code == 303
    assert signed_out.headers["location"].startswith("/sign-in")
    assert received(unit) == []
