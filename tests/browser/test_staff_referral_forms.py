"""The staff referral forms in a real browser: a partner organisation's worker signs in with a token carrying the
partner's `org` and refers someone at /refer; a connector records someone met through outreach at /outreach. Each
signs in through the page's own sign-in form, meets the error summary, then sends; axe-core checks the form, its
error state and the confirmation, and the referral is stored with its door and referrer."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from referral_intake.app import create_app
from referral_intake.config import IntakeSettings
from support.auth import token
from support.browser import assert_accessible, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.integration]

STAFF = {"Authorization": f"Bearer {token('referrals:read', 'referrals:read-all', ods=None)}"}
SAM = token("referrals:write", ods=None, subject="sam-at-leeds-mind", org="leeds-mind")
AMIRA = token("cases:write", ods=None, subject="leeds-north-amira")


@pytest.fixture
def intake_site(serve):
    return serve(create_app, IntakeSettings)


def _sign_in(page: Page, base_url: str, path: str, bearer_token: str) -> None:
    page.goto(base_url + path)
    expect(page).to_have_url(re.compile(rf"/sign-in\?next=%2F{path.strip('/')}$"))
    page.get_by_label("Bearer token").fill(bearer_token)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(base_url + path)


def _fill_the_person(page: Page) -> None:
    page.get_by_label("Their full name").fill("Dev Outreach")
    page.get_by_label("Or their age, in years").fill("58")
    page.get_by_label("Their postcode").fill("LS7 3AB")
    page.get_by_label("Phone number", exact=True).fill("0113 496 0001")
    page.get_by_label("A visit at home").check()
    page.get_by_label("Worries about where I live").check()
    page.get_by_label("They have agreed to this referral").check()


@pytest.mark.parametrize(
    ("path", "bearer_token", "heading", "send", "channel"),
    [
        pytest.param("/refer", SAM, "Refer someone to a community connector", "Send referral", "partner", id="refer"),
        pytest.param(
            "/outreach", AMIRA, "Record someone met through outreach", "Record referral", "outreach", id="outreach"
        ),
    ],
)
def test_staff_sign_in_and_send_a_referral_through_their_form(
    intake_site, page, page_log, path, bearer_token, heading, send, channel
):
    form_name = path.strip("/")
    _sign_in(page, intake_site.base_url, path, bearer_token)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    screenshot(page, f"{form_name}-form")
    assert_accessible(page, name=f"the {path} form")

    page.get_by_role("button", name=send).click()
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.locator(".nhsuk-error-summary")).to_be_focused()
    screenshot(page, f"{form_name}-error")
    assert_accessible(page, name=f"the {path} form's error state")

    if path == "/refer":
        page.get_by_label("Your name", exact=True).fill("Sam Jones")
    else:
        page.get_by_label("Where you met them (optional)").fill("Chapeltown library drop-in")
    _fill_the_person(page)
    page.get_by_role("button", name=send).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Referral sent")
    reference = page.locator("#reference").inner_text().strip()
    screenshot(page, f"{form_name}-sent")
    assert_accessible(page, name=f"the {path} confirmation")
    page_log(page).assert_only(intake_site.base_url)

    with httpx.Client(base_url=intake_site.base_url, timeout=10) as client:
        stored = client.get(f"/fhir/ServiceRequest/{reference}", headers=STAFF)
    assert stored.status_code == 200, stored.text
    resource = stored.json()
    [patient] = [r for r in resource["contained"] if r["resourceType"] == "Patient"]
    assert patient["address"][0]["postalCode"] == "LS7 3AB"
    notes = [note["text"] for note in resource["note"]]
    if channel == "partner":
        assert resource["requester"]["identifier"]["value"] == "leeds-mind"
        assert "Referred by Sam Jones." in notes
    else:
        assert resource["requester"]["display"] == "The person themselves"
        assert "Met through outreach at Chapeltown library drop-in; recorded by leeds-north-amira." in notes
