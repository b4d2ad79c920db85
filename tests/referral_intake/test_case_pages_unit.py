"""The connector pages in-process, on a fake unit of work: what each page shows, what each form records through
the case's use cases, and how a refusal comes back (the NHS.UK error summary and the message on its field)."""

from __future__ import annotations

import json
import random
import re
from datetime import UTC, datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import httpx
import pytest

from referral_intake.adapters.fhir_request import submission_from_body
from referral_intake.service import IntakeService
from referral_intake.triage_facts import TriageFacts
from signpost_devstack.synthetic import gp_referral
from signpost_runtime.auth import Principal
from support.auth import token
from support.events import TERMS, referral_assigned
from support.fakes.intake import FakeIntakeUnit
from support.intake_app import client_on_fake

pytestmark = pytest.mark.unit

AMIRA, BILAL = "leeds-north-amira", "leeds-north-bilal"
WRITER = Principal(subject="gp-system", scopes=frozenset({"referrals:write"}), ods_code="B82005")
ONE_SESSION = TERMS.model_copy(update={"session_allowance": 1})
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def unit() -> FakeIntakeUnit:
    return FakeIntakeUnit()


@pytest.fixture
async def pages(unit):
    """A client on intake's own app (its routers, sign-in and assets), with its unit of work on the fake."""
    async with client_on_fake(unit) as client:
        yield client


def signed_in(client: httpx.AsyncClient, *scopes: str, subject: str = AMIRA) -> httpx.AsyncClient:
    client.cookies.set("signpost_cases_token", token(*scopes or ("cases:write",), ods=None, subject=subject))
    return client


async def assigned(unit: FakeIntakeUnit, *, connector: str = AMIRA, terms=TERMS, **resource: object) -> str:
    body = {**gp_referral(rng=random.Random()), **resource}
    submission = submission_from_body(json.dumps(body).encode(), max_depth=64, today=datetime.now(UTC).date())
    referral_id = (await IntakeService().submit(unit, submission, WRITER, None)).referral.id
    event = referral_assigned(referral_id, connector_id=connector, complexity="low", terms=terms)
    await TriageFacts().record_assignment(unit, event)
    return referral_id


async def send(client: httpx.AsyncClient, referral_id: str, form: str, fields: dict[str, str], **headers: str):
    return await client.post(f"/worklist/{referral_id}/{form}", data=fields, headers={**FORM, **headers})


def recorded(unit: FakeIntakeUnit) -> list[str]:
    return [event.type for event in unit.events if event.type.startswith("case.")]


def summary_links(html: str) -> list[tuple[str, str]]:
    summary = html[html.index("nhsuk-error-summary") : html.index("<h1")]
    links = re.findall(r'<a href="(#[^"]+)">([^<]+)</a>', summary)
    return [(href, unescape(re.sub(r"\s+", " ", text).strip())) for href, text in links]


def inline_error(html: str, field_id: str) -> str:
    found = re.search(rf'id="{field_id}-error">\s*<span class="nhsuk-u-visually-hidden">Error:\s*</span>([^<]+)<', html)
    assert found, f"no inline error on {field_id}"
    return unescape(re.sub(r"\s+", " ", found[1]).strip())


async def test_the_worklist_shows_a_connector_their_own_cases_with_what_first_contact_needs(pages, unit):
    mine = await assigned(unit, patientInstruction="Phone after 2pm, she is hard of hearing")
    theirs = await assigned(unit, connector=BILAL)

    page = await signed_in(pages).get("/worklist")

    assert page.status_code == 200
    assert f'href="/worklist/{mine}"' in page.text
    assert theirs not in page.text
    assert "Phone after 2pm, she is hard of hearing" in page.text
    assert "0 of 6" in page.text
    assert re.search(r"Days since assignment </span>\s*0\s*</td>", page.text), "assigned today: 0 days, not blank"
    assert "<title>Your cases - Signpost connector pages</title>" in page.text


async def test_a_coordinator_sees_every_connectors_cases_and_the_status_filter_hides_closed_ones(pages, unit):
    first, second = await assigned(unit), await assigned(unit, connector=BILAL)
    coordinator = signed_in(pages, "cases:coordinate", subject="coordinator-1")

    everyone = await coordinator.get("/worklist")
    assert first in everyone.text
    assert second in everyone.text
    assert '<h1 class="nhsuk-heading-l">All cases</h1>' in everyone.text

    await send(coordinator, first, "closure", {"closure-reason": "moved-away"})
    assert first not in (await coordinator.get("/worklist?status=open")).text
    assert first in (await coordinator.get("/worklist?status=closed")).text


async def test_a_browser_that_is_not_signed_in_is_sent_to_sign_in_and_back_to_the_case(pages, unit):
    """A page is a redirect to sign-in; a form POSTed without a session is 401 with the sign-in form itself
    (a redirect would drop what was typed without saying why), leading back to the case page."""
    referral_id = await assigned(unit)

    page = await pages.get(f"/worklist/{referral_id}")
    form = await send(pages, referral_id, "contact", {"contact-mode": "walk", "contact-outcome": "reached"})

    assert page.status_code == 303
    assert page.headers["location"] == f"/sign-in?next=%2Fworklist%2F{referral_id}"
    assert form.status_code == 401
    assert form.headers["www-authenticate"] == "Bearer"
    assert "sign in, then send the form again" in form.text
    assert f'name="next" value="/worklist/{referral_id}"' in form.text
    assert recorded(unit) == []


async def test_signing_in_without_a_page_to_return_to_lands_on_the_worklist(pages):
    form = await pages.get("/sign-in")
    form_id = re.search(r'name="form_id" value="([^"]+)"', form.text)[1]
    assert "<code>cases:write</code> or <code>cases:coordinate</code>" in form.text

    answer = await pages.post("/sign-in", data={"token": token("cases:write", ods=None), "form_id": form_id,
                                                "next": ""}, headers=FORM)  # fmt: skip

    assert (answer.status_code, answer.headers["location"]) == (303, "/worklist")


async def test_a_contact_form_records_through_the_use_case_and_redirects_to_the_case_with_a_banner(pages, unit):
    referral_id = await assigned(unit)
    client = signed_in(pages)

    answer = await send(client, referral_id, "contact", {"contact-mode": "telephone", "contact-outcome": "reached",
                                                         "contact-at": ""})  # fmt: skip

    assert answer.status_code == 303
    assert answer.headers["location"] == f"/worklist/{referral_id}?done=contact"
    assert recorded(unit) == ["case.contact-recorded.v1"]
    case = await client.get(answer.headers["location"])
    assert "nhsuk-notification-banner--success" in case.text
    assert "Contact recorded." in case.text
    assert unit.cases.by_referral[referral_id].contacts[0].mode == "telephone"


async def test_a_contact_time_typed_in_uk_time_is_recorded_as_that_moment(pages, unit):
    referral_id = await assigned(unit)
    # The next minute: typed times have no seconds, and a time before the referral arrived is refused.
    soon = (datetime.now(UTC) + timedelta(minutes=1)).astimezone(ZoneInfo("Europe/London"))
    typed = soon.strftime("%d/%m/%Y %H:%M")

    answer = await send(signed_in(pages), referral_id, "contact", {"contact-mode": "walk", "contact-outcome":
                                                                   "no-answer", "contact-at": typed})  # fmt: skip

    assert answer.status_code == 303, answer.text
    at = unit.cases.by_referral[referral_id].contacts[0].at
    assert at == soon.replace(second=0, microsecond=0)


async def test_a_contact_without_a_mode_is_shown_again_asking_for_one_and_keeps_what_was_chosen(pages, unit):
    referral_id = await assigned(unit)

    page = await send(signed_in(pages), referral_id, "contact", {"contact-outcome": "no-answer", "contact-at": "soon"})

    assert page.status_code == 400
    assert page.text.count("<title>Error: ") == 1
    assert summary_links(page.text) == [
        ("#contact-mode", "Select how you tried to make contact"),
        ("#contact-at", "Enter the date and time like 14/03/2025 14:30, or leave it blank for now"),
    ]
    assert inline_error(page.text, "contact-mode") == "Select how you tried to make contact"
    assert re.search(r'value="no-answer"\s+checked', page.text)
    assert 'value="soon"' in page.text
    assert recorded(unit) == []


async def test_a_session_past_the_allowance_says_how_to_ask_for_more_and_records_nothing(pages, unit):
    referral_id = await assigned(unit, terms=ONE_SESSION)
    client = signed_in(pages)
    await send(client, referral_id, "contact", {"contact-mode": "walk", "contact-outcome": "reached"})
    assert (await send(client, referral_id, "session", {"session-mode": "walk"})).status_code == 303

    page = await send(client, referral_id, "session", {"session-mode": "walk"})

    assert page.status_code == 409
    [(href, message)] = summary_links(page.text)
    assert href == "#session-mode"
    assert message.startswith("All 1 sessions of this case's allowance are used; to hold another, ask for an extension")
    assert message.endswith("Use “Ask for more sessions” on this page.")
    assert inline_error(page.text, "session-mode") == message
    assert unit.cases.by_referral[referral_id].sessions_used == 1


async def test_a_repeated_goal_is_shown_on_the_box_it_was_typed_in(pages, unit):
    referral_id = await assigned(unit)
    client = signed_in(pages)
    await send(client, referral_id, "contact", {"contact-mode": "walk", "contact-outcome": "reached"})

    page = await send(
        client, referral_id, "goals", {"goals-1": "Join a choir", "goals-2": "", "goals-3": "join a CHOIR"}
    )

    assert page.status_code == 422
    assert summary_links(page.text) == [("#goals-3", "Goals 1 and 2 are the same goal")]
    assert unit.cases.by_referral[referral_id].goals == ()


async def test_an_extension_for_a_goal_the_case_has_is_refused_on_the_new_goal_field(pages, unit):
    referral_id = await assigned(unit)
    client = signed_in(pages)
    await send(client, referral_id, "contact", {"contact-mode": "walk", "contact-outcome": "reached"})
    await send(client, referral_id, "goals", {"goals-1": "Join a choir"})

    page = await send(client, referral_id, "extension", {"extension-new-goal": "join a choir", "extension-reason": ""})

    assert page.status_code == 422
    assert summary_links(page.text) == [
        ("#extension-new-goal", "The new goal repeats the goal 'Join a choir' this case already has; an extension "
                                "is granted only for another goal the person has set"),
        ("#extension-reason", "The reason is blank; write it out"),
    ]  # fmt: skip
    assert "case.extension-granted.v1" not in recorded(unit)


async def test_an_extension_granted_or_refused_by_the_terms_says_which_in_the_banner(pages, unit):
    referral_id = await assigned(unit)
    client = signed_in(pages)
    await send(client, referral_id, "contact", {"contact-mode": "walk", "contact-outcome": "reached"})
    await send(client, referral_id, "goals", {"goals-1": "Join a choir"})

    answer = await send(client, referral_id, "extension", {"extension-new-goal": "Cook with others",
                                                           "extension-reason": "She wants to"})  # fmt: skip

    assert answer.status_code == 303
    banner = (await client.get(answer.headers["location"])).text
    assert f"More sessions granted: {TERMS.extension_sessions} added, 10 in all." in banner


async def test_measures_left_blank_are_not_recorded_and_a_number_out_of_range_is_named(pages, unit):
    referral_id = await assigned(unit)
    client = signed_in(pages)
    await send(client, referral_id, "contact", {"contact-mode": "walk", "contact-outcome": "reached"})

    unreadable = await send(client, referral_id, "measures", {"measures-stage": "baseline",
                                                              "measures-ons4-happiness": "lots"})  # fmt: skip
    out_of_range = await send(client, referral_id, "measures", {"measures-stage": "baseline",
                                                                "measures-ons4-anxiety": "11"})  # fmt: skip
    answered = await send(client, referral_id, "measures", {"measures-stage": "baseline", "measures-ucla3-1": "3",
                                                            "measures-ucla3-2": "", "measures-ons4-happiness": "4",
                                                            "measures-ons-loneliness": "occasionally"})  # fmt: skip

    assert unreadable.status_code == 400
    assert summary_links(unreadable.text)[0][0] == "#measures-ons4-happiness"
    assert out_of_range.status_code == 422
    assert summary_links(out_of_range.text) == [("#measures-ons4-anxiety", "ONS4 anxiety is 11; answers are 0 to 10")]
    assert answered.status_code == 303
    [measures] = unit.cases.by_referral[referral_id].measures
    assert (measures.ucla3, measures.ons_loneliness, measures.ons4.happiness, measures.ons4.anxiety) == (
        (3, None, None), "occasionally", 4, None)  # fmt: skip


async def test_closing_records_the_onward_connections_one_a_line_and_the_page_takes_no_more_records(pages, unit):
    referral_id = await assigned(unit)
    client = signed_in(pages)

    answer = await send(client, referral_id, "closure", {"closure-reason": "connected-onward",
                                                         "closure-onward": "Hyde Park walkers\r\n\r\n Choir \r\n",
                                                         "closure-note": ""})  # fmt: skip

    assert answer.status_code == 303
    closure = unit.cases.by_referral[referral_id].closure
    assert (closure.reason, closure.onward, closure.note) == ("connected-onward", ("Hyde Park walkers", "Choir"), None)
    page = (await client.get(answer.headers["location"])).text
    assert "Case closed." in page
    assert 'action="/worklist/' not in page
    again = await send(client, referral_id, "session", {"session-mode": "walk"})
    assert again.status_code == 409
    assert "closed: this case was closed" in again.text.lower()


async def test_a_form_posted_from_another_site_records_nothing(pages, unit):
    referral_id = await assigned(unit)

    page = await send(signed_in(pages), referral_id, "closure", {"closure-reason": "moved-away"},
                      Origin="https://elsewhere.example")  # fmt: skip

    assert page.status_code == 403
    assert "this form came from another site" in page.text
    assert unit.cases.by_referral[referral_id].closure is None


async def test_a_token_passed_by_a_proxy_in_front_is_taken_like_the_cookie(pages, unit):
    referral_id = await assigned(unit)
    proxy = {"Authorization": f"Bearer {token('cases:write', ods=None, subject=AMIRA)}"}

    page = await pages.get(f"/worklist/{referral_id}", headers=proxy)
    answer = await send(pages, referral_id, "contact", {"contact-mode": "walk", "contact-outcome": "reached"}, **proxy)

    assert page.status_code == 200
    assert answer.status_code == 303
    assert recorded(unit) == ["case.contact-recorded.v1"]


async def test_another_connectors_case_is_not_found_and_cannot_be_written(pages, unit):
    referral_id = await assigned(unit, connector=BILAL)
    client = signed_in(pages)

    page = await client.get(f"/worklist/{referral_id}")
    answer = await send(client, referral_id, "contact", {"contact-mode": "walk", "contact-outcome": "reached"})

    assert (page.status_code, answer.status_code) == (404, 404)
    assert "There is no case here for you" in page.text
    assert recorded(unit) == []


async def test_only_a_coordinator_is_offered_reassignment_and_a_connector_posting_it_is_refused(pages, unit):
    referral_id = await assigned(unit)

    as_connector = await signed_in(pages).get(f"/worklist/{referral_id}")
    refused = await send(pages, referral_id, "reassignment", {"reassignment-reason": "leave"})
    coordinator = signed_in(pages, "cases:coordinate", subject="coordinator-1")
    as_coordinator = await coordinator.get(f"/worklist/{referral_id}")
    reassign = {"reassignment-connector-id": BILAL, "reassignment-reason": "Amira is on leave"}
    asked = await send(coordinator, referral_id, "reassignment", reassign)

    assert "Reassign the case" not in as_connector.text
    assert refused.status_code == 403
    assert "Reassign the case" in as_coordinator.text
    assert asked.status_code == 303
    assert recorded(unit) == ["case.reassignment-requested.v1"]
