"""/who-we-help in a real browser: the page before triage has described the service, and once it has (triage
served beside intake publishes its status), with who the service is for and whether there is room. axe-core
checks both; nothing is fetched from another host."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from referral_intake.app import create_app as intake_app
from referral_intake.config import IntakeSettings
from support.browser import assert_accessible, screenshot
from triage.app import create_app as triage_app
from triage.config import TriageSettings

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def test_before_triage_has_described_the_service_the_page_says_it_is_being_brought_up_to_date(serve, page, page_log):
    intake = serve(intake_app, IntakeSettings)
    page.goto(intake.base_url + "/who-we-help")
    expect(page.get_by_role("heading", level=1)).to_have_text("Who we help")
    expect(page.get_by_text("This page is being brought up to date")).to_be_visible()
    assert_accessible(page, name="who-we-help before the service is described")
    screenshot(page, "who-we-help-unknown")
    page_log(page).assert_only(intake.base_url)


def test_the_page_says_who_the_service_is_for_and_whether_there_is_room(serve, page, page_log):
    intake = serve(intake_app, IntakeSettings)
    serve(triage_app, TriageSettings, beside=intake)  # the demo policy and roster: Leeds, room now
    deadline = time.monotonic() + 30
    while True:
        page.goto(intake.base_url + "/who-we-help")
        if page.get_by_role("heading", level=1).inner_text() == "Who we help in Leeds":
            break
        assert time.monotonic() < deadline, "triage's status never reached the page"
        time.sleep(0.5)
    expect(page.get_by_text("A connector can take a new referral now.")).to_be_visible()
    expect(page.get_by_text("Adults aged 18 and over who live in Leeds (postcodes LS).")).to_be_visible()
    expect(page.get_by_role("heading", name="How to be referred")).to_be_visible()
    assert_accessible(page, name="who-we-help")
    screenshot(page, "who-we-help")
    page_log(page).assert_only(intake.base_url)
