"""The public self-referral form in a real browser, by keyboard alone: a person fills it in, forgets to agree to be
contacted, follows the error summary to the box, ticks it and sends; the confirmation gives a reference, and
triage (served beside intake on the same topics) then accepts the referral: its decision and the Task say so.
axe-core checks the form, its error state and the confirmation."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from referral_intake.app import create_app as intake_app
from referral_intake.config import IntakeSettings
from support.auth import token
from support.browser import activate, assert_accessible, focused, screenshot, tab_to
from triage.app import create_app as triage_app
from triage.config import TriageSettings

pytestmark = [pytest.mark.browser, pytest.mark.integration]

STAFF = {"Authorization": f"Bearer {token('referrals:read', 'referrals:read-all', 'triage:read', ods=None)}"}


@pytest.fixture
def sites(serve):
    """Intake, and triage on its topics (the demo policy and roster): a form sent to one is triaged by the other."""
    intake = serve(intake_app, IntakeSettings)
    return intake, serve(triage_app, TriageSettings, beside=intake)


def _type_into(page: Page, field: Locator, text: str) -> None:
    tab_to(page, field, max_presses=80)
    page.keyboard.type(text)


def _fill_by_keyboard(page: Page) -> None:
    """Everything but the agreement to be contacted, with Tab, typing, arrows and Space only."""
    _type_into(page, page.get_by_label("Your full name"), "Ann Keyboard")
    _type_into(page, page.get_by_label("Day"), "27")
    page.keyboard.press("Tab")
    page.keyboard.type("3")
    page.keyboard.press("Tab")
    page.keyboard.type("1956")
    _type_into(page, page.get_by_label("Your postcode"), "LS6 2AB")
    _type_into(page, page.get_by_label("Email address"), "ann.keyboard@example.com")
    # A radio group is one Tab stop; the arrows move through it and choose.
    tab_to(page, page.get_by_label("A phone call"))
    for _ in range(4):
        page.keyboard.press("ArrowDown")
    expect(page.get_by_label("Chatting while we go for a walk")).to_be_checked()
    tab_to(page, page.get_by_label("Coping after someone has died"))
    activate(page, "Space")
    expect(page.get_by_label("Coping after someone has died")).to_be_checked()
    tab_to(page, page.locator("#interpreter"))
    page.keyboard.press("ArrowRight")
    expect(page.locator("#interpreter-2")).to_be_checked()


def _send(page: Page) -> None:
    tab_to(page, page.get_by_role("button", name="Send"), max_presses=80)
    activate(page, "Enter")


def _until(check: Any, what: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    pytest.fail(f"{what} did not happen within {timeout}s")


def test_a_person_refers_themselves_by_keyboard_alone_and_the_referral_is_triaged(sites, page, page_log):
    intake, triage = sites
    page.goto(intake.base_url + "/self-referral")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ask for support from a community connector")
    screenshot(page, "self-referral-form")
    assert_accessible(page, name="the self-referral form")

    _fill_by_keyboard(page)
    _send(page)

    expect(page).to_have_title(re.compile(r"^Error: "))
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_focused()  # NHS.UK's script moves focus there, so it is read out first
    expect(summary.get_by_role("link")).to_have_text("Tick the box to agree to be contacted: we cannot help without it")
    expect(page.get_by_label("Your full name")).to_have_value("Ann Keyboard")
    screenshot(page, "self-referral-error")
    assert_accessible(page, name="the self-referral form's error state")

    page.keyboard.press("Tab")
    assert focused(page).startswith("a Tick the box"), focused(page)
    activate(page, "Enter")
    expect(page.locator("#consent-contact")).to_be_focused()
    activate(page, "Space")
    expect(page.locator("#consent-contact")).to_be_checked()
    _send(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you, we have your request")
    reference = page.locator("#reference").inner_text().strip()
    assert re.fullmatch(r"[0-9a-f-]{36}", reference), reference
    screenshot(page, "self-referral-sent")
    assert_accessible(page, name="the self-referral confirmation")
    page_log(page).assert_only(intake.base_url)

    with httpx.Client(timeout=10) as client:

        def decision() -> dict[str, Any] | None:
            answer = client.get(f"{triage.base_url}/decisions/{reference}", headers=STAFF)
            return answer.json() if answer.status_code == 200 else None

        def task() -> dict[str, Any] | None:
            found = client.get(
                f"{intake.base_url}/fhir/Task", params={"focus": f"ServiceRequest/{reference}"}, headers=STAFF
            ).json()["entry"][0]["resource"]
            return found if found["status"] == "accepted" and found.get("businessStatus") else None

        assert _until(decision, "triage's decision")["outcome"] == "accepted"
        assert _until(task, "the Task accepted")["businessStatus"]["text"] == "assigned"
        referral = client.get(f"{intake.base_url}/fhir/ServiceRequest/{reference}", headers=STAFF).json()
    assert referral["status"] == "active"
    [patient] = [r for r in referral["contained"] if r["resourceType"] == "Patient"]
    assert patient["birthDate"] == "1956-03-27", "the date of birth typed into the NHS.UK date input"


def test_the_self_referral_form_works_without_javascript(sites, open_page, page_log):
    intake, _ = sites
    page = open_page(javascript=False)
    page.goto(intake.base_url + "/self-referral")
    page.get_by_label("Your full name").fill("Nell Nojs")
    page.get_by_label("Or your age, in years").fill("71")
    page.get_by_label("Your postcode").fill("LS6 2AB")
    page.get_by_label("Phone number").fill("0113 496 0002")
    page.get_by_label("A phone call").check()
    page.get_by_role("button", name="Send").click()

    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.locator(".nhsuk-error-summary").get_by_role("link")).to_have_text(
        "Tick the box to agree to be contacted: we cannot help without it"
    )
    page.get_by_label("I agree that a community connector may contact me").check()
    page.get_by_role("button", name="Send").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you, we have your request")
    reference = page.locator("#reference").inner_text().strip()
    page_log(page).assert_only(intake.base_url)
    with httpx.Client(timeout=10) as client:
        stored = client.get(f"{intake.base_url}/fhir/ServiceRequest/{reference}", headers=STAFF)
    assert stored.status_code == 200, stored.text
    assert "Age given instead of a date of birth: 71." in [note["text"] for note in stored.json()["note"]]
