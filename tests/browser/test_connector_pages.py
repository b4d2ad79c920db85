"""The connector pages in a real browser: a connector signs in, records first contact, goals, a session and the
closure of a case through the forms (the first by keyboard alone), meets a refusal as an NHS.UK error summary,
and the case API then shows the case closed. axe-core checks the worklist and each state of the case page."""

from __future__ import annotations

import random
import re
import time

import httpx
import pytest
from playwright.sync_api import Page, expect

from referral_intake.app import create_app
from referral_intake.config import IntakeSettings
from signpost_devstack.synthetic import gp_referral
from support.auth import bearer, token
from support.browser import activate, assert_accessible, focused, screenshot, tab_to
from support.events import TERMS, referral_assigned
from support.infra import publish

pytestmark = [pytest.mark.browser, pytest.mark.integration]

AMIRA = "leeds-north-amira"
CONNECTOR = {"Authorization": f"Bearer {token('cases:write', ods=None, subject=AMIRA)}"}
ONE_SESSION = TERMS.model_copy(update={"session_allowance": 1, "max_extensions": 1})


@pytest.fixture
def intake_site(serve):
    return serve(create_app, IntakeSettings)


def _assigned_case(site, **referral) -> tuple[str, str]:
    """A GP referral sent to intake, and triage's assignment of it to Amira; waits until her worklist has it."""
    body = gp_referral(rng=random.Random(), ods_code="B82005")
    body.update(referral)
    with httpx.Client(base_url=site.base_url, timeout=10) as client:
        sent = client.post("/fhir/ServiceRequest", json=body, headers={
            **bearer("referrals:write"), "Content-Type": "application/fhir+json"})  # fmt: skip
        assert sent.status_code == 201, sent.text
        referral_id = sent.json()["id"]
        event = referral_assigned(referral_id, connector_id=AMIRA, complexity="low", terms=ONE_SESSION)
        site.served.call(publish(site.namespace, [event]))
        for _ in range(200):
            if client.get(f"/cases/{referral_id}", headers=CONNECTOR).json().get("status") == "assigned":
                return referral_id, client.get(f"/cases/{referral_id}", headers=CONNECTOR).json()["person"]["name"]
            time.sleep(0.1)
    pytest.fail(f"intake never applied the assignment of {referral_id}")


def _sign_in_by_keyboard(page: Page, site) -> None:
    page.goto(site.base_url + "/worklist")
    expect(page).to_have_url(re.compile(r"/sign-in\?next=%2Fworklist$"))
    tab_to(page, page.get_by_label("Bearer token"))
    page.keyboard.insert_text(CONNECTOR["Authorization"].removeprefix("Bearer "))  # what pasting does
    page.keyboard.press("Tab")
    assert focused(page) == "button Sign in"
    activate(page, "Enter")
    expect(page).to_have_url(site.base_url + "/worklist")


def _form(page: Page, name: str):
    return page.locator(f"form[action$='/{name}']")


def _banner(page: Page):
    return page.locator(".nhsuk-notification-banner--success")


def test_a_connector_works_a_case_from_first_contact_to_closure_through_the_pages(intake_site, page, page_log):
    referral_id, name = _assigned_case(intake_site, patientInstruction="Phone after 2pm, she is hard of hearing")
    _sign_in_by_keyboard(page, intake_site)

    expect(page.get_by_role("heading", level=1)).to_have_text("Your cases")
    row = page.locator("table#worklist tbody tr", has_text=name)
    expect(row).to_contain_text("Phone after 2pm, she is hard of hearing")
    expect(row).to_contain_text("0 of 1")
    screenshot(page, "connector-worklist")
    assert_accessible(page, name="the worklist")

    tab_to(page, page.get_by_role("link", name=name), max_presses=60)
    activate(page, "Enter")
    expect(page).to_have_url(f"{intake_site.base_url}/worklist/{referral_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    assert_accessible(page, name="the case page, assigned")

    # First contact by keyboard alone: Space picks a radio, Tab moves to the next group, Enter sends.
    tab_to(page, page.locator("#contact-mode"), max_presses=80)
    activate(page, "Space")
    page.keyboard.press("Tab")
    assert focused(page).startswith("input#contact-outcome"), focused(page)
    activate(page, "Space")
    tab_to(page, _form(page, "contact").get_by_role("button", name="Record contact"))
    activate(page, "Enter")
    expect(_banner(page)).to_contain_text("Contact recorded.")
    expect(page.locator("#case-status")).to_have_text("In progress")

    goals = _form(page, "goals")
    goals.get_by_label("Goal 1").fill("Join a walking group")
    goals.get_by_label("Goal 2 (optional)").fill("Cook with others")
    goals.get_by_role("button", name="Save goals").click()
    expect(_banner(page)).to_contain_text("Goals saved.")

    session = _form(page, "session")
    session.get_by_label("On a walk").check()
    session.get_by_role("button", name="Record session").click()
    expect(_banner(page)).to_contain_text("Session recorded: 1 of 1 used.")
    screenshot(page, "connector-case-in-progress")
    assert_accessible(page, name="the case page after a session, with its banner")

    closure = _form(page, "closure")
    closure.get_by_label("Connected onward to community groups or services").check()
    closure.get_by_label("Onward connections (optional)").fill("Hyde Park walking group\nCommunity kitchen")
    closure.get_by_role("button", name="Close the case").click()
    expect(_banner(page)).to_contain_text("Case closed.")
    expect(page.locator("#no-more-records")).to_be_visible()
    screenshot(page, "connector-case-closed")
    page_log(page).assert_only(intake_site.base_url)

    with httpx.Client(base_url=intake_site.base_url, timeout=10) as client:
        case = client.get(f"/cases/{referral_id}", headers=CONNECTOR).json()
    assert (case["status"], case["reached"], case["sessions_used"]) == ("closed", True, 1)
    assert case["goals"] == ["Join a walking group", "Cook with others"]
    assert [(c["mode"], c["outcome"]) for c in case["contacts"]] == [("telephone", "reached")]
    assert case["closure"]["reason"] == "connected-onward"
    assert case["closure"]["onward"] == ["Hyde Park walking group", "Community kitchen"]


def test_a_session_past_the_allowance_is_shown_as_an_error_summary_that_says_how_to_ask_for_more(
    intake_site, page, page_log
):
    referral_id, _ = _assigned_case(intake_site)
    _sign_in_by_keyboard(page, intake_site)
    page.goto(f"{intake_site.base_url}/worklist/{referral_id}")
    contact = _form(page, "contact")
    contact.get_by_label("On a walk").check()
    contact.get_by_label("Reached the person").check()
    contact.get_by_role("button", name="Record contact").click()
    for _ in range(2):
        session = _form(page, "session")
        session.get_by_label("Telephone").check()
        session.get_by_role("button", name="Record session").click()

    expect(page).to_have_title(re.compile(r"^Error: "))
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_focused()  # NHS.UK's script moves focus there, so it is read out first
    expect(summary.get_by_role("link")).to_have_text(
        re.compile(r"All 1 sessions of this case's allowance are used; to hold another, ask for an extension")
    )
    expect(page.locator("#session-mode-error")).to_contain_text("Use “Ask for more sessions” on this page.")
    screenshot(page, "connector-case-allowance-used-up")
    assert_accessible(page, name="the case page refusing a session past the allowance")

    summary.get_by_role("link").focus()
    activate(page, "Enter")
    expect(page.locator("#session-mode")).to_be_focused()
    page_log(page).assert_only(intake_site.base_url)
    with httpx.Client(base_url=intake_site.base_url, timeout=10) as client:
        assert client.get(f"/cases/{referral_id}", headers=CONNECTOR).json()["sessions_used"] == 1
