"""The staff page for feedback to a referrer, in Chromium: the form, the figures as tables, the CSV link,
the NHS.UK error pattern for a wrong form, and axe-core on each state (no serious or critical violation)."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from reporting.feedback_pages import last_calendar_month
from signpost_contracts.events.referrals import Referrer
from support.auth import token
from support.browser import assert_accessible, screenshot, table_rows
from support.events import case_closed, measures_recorded, referral_assigned, referral_received, referral_triaged

pytestmark = [pytest.mark.browser, pytest.mark.integration]

MARCH = datetime(2019, 3, 4, 9, 0, tzinfo=UTC)


def _march_referrals(site) -> None:
    """From B82005 in March 2019: two supported and closed (goals met), one declined, one redirected;
    and one from another practice, which must not show."""
    events = []
    for n, (baseline, closing) in enumerate([(8, 5), (7, 7)]):
        rid = f"fb-{uuid.uuid4()}"
        at = MARCH + timedelta(days=n)
        events += [
            referral_received(rid, at=at),
            referral_triaged(rid, at=at + timedelta(hours=1)),
            referral_assigned(rid, at=at + timedelta(days=1)),
            measures_recorded(rid, stage="baseline", at=at + timedelta(days=2), ucla3=None, ucla3_total=baseline),
            measures_recorded(rid, stage="closing", at=at + timedelta(days=9), ucla3=None, ucla3_total=closing),
            case_closed(rid, at=at + timedelta(days=10), reason="goals-met", sessions_used=4),
        ]
    for outcome in ("declined", "redirected"):
        rid = f"fb-{uuid.uuid4()}"
        events += [referral_received(rid, at=MARCH), referral_triaged(rid, outcome, at=MARCH + timedelta(hours=1))]
    elsewhere = Referrer(kind="gp", ods_code="Y12345", organisation_name="Another Surgery")
    events.append(referral_received(f"fb-{uuid.uuid4()}", at=MARCH, referrer=elsewhere))
    site.deliver(*events, total_referrals=5)


def _sign_in(page: Page, base_url: str, then: str) -> None:
    page.goto(base_url + then)
    page.get_by_label("Bearer token").fill(token("reporting:read"))
    page.get_by_role("button", name="Sign in").click()


def test_staff_see_what_became_of_a_referrers_referrals_and_can_download_them(reporting_site, page, page_log):
    _march_referrals(reporting_site)
    _sign_in(page, reporting_site.base_url, "/?refresh=off")
    page.get_by_role("link", name="See what became of one referrer's referrals").click()  # from the dashboard
    expect(page.get_by_role("heading", level=1)).to_have_text("Feedback to a referrer")
    first, last = last_calendar_month(datetime.now(UTC).date())
    expect(page.get_by_label("First day of the period")).to_have_value(str(first))
    expect(page.get_by_label("Last day of the period")).to_have_value(str(last))
    assert_accessible(page, name="the empty feedback form")

    page.get_by_label("Referrer's ODS code").fill("b82005")
    page.get_by_label("First day of the period").fill("2019-03-01")
    page.get_by_label("Last day of the period").fill("2019-03-31")
    page.get_by_role("button", name="Show feedback").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Feedback to a referrer: B82005")
    referrals = table_rows(page, "feedback-referrals")
    assert list(referrals)[:3] == ["Referrals sent", "Not yet triaged", "Accepted"], "in the order of a referral's path"
    assert referrals["Referrals sent"] == ["4"], referrals
    assert referrals["Accepted"] == ["2"]
    assert referrals["Declined"] == ["1"]
    assert referrals["Redirected to another service"] == ["1"]
    assert referrals["Support ended"] == ["2"]
    assert table_rows(page, "feedback-declined") == {"outside-service-area": ["1"]}
    assert table_rows(page, "feedback-closures") == {"Goals met": ["2"]}
    # Two people closed: below the threshold of 5, so no outcome figure that rests on them is shown.
    outcomes = table_rows(page, "feedback-outcomes")
    assert outcomes["People with a score at the start and at the end"] == ["Not shown: fewer than 5 people"]
    assert outcomes["Mean change (a fall is better)"] == ["Not shown: fewer than 5 people"]
    assert_accessible(page, name="the feedback for B82005")
    screenshot(page, "referrer-feedback")

    link = page.get_by_role("link", name="Download these figures as CSV")
    download = page.request.get(reporting_site.base_url + link.get_attribute("href"))  # the page's own cookie
    assert download.ok, download.text()
    assert "B82005-2019-03-01-to-2019-03-31.csv" in download.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(download.text())))
    assert rows[0] == ["table", "category", "measure", "value"]
    assert ["referrals", "sent", "count", "4"] in rows
    assert ["outcomes", "ucla3_total", "people", "*"] in rows
    page_log(page).assert_only(reporting_site.base_url)


def test_a_wrong_form_shows_what_to_mend_in_the_nhs_error_pattern_and_passes_axe(reporting_site, page):
    _sign_in(page, reporting_site.base_url, "/referrers/feedback?ods_code=not+a+code&from=2019-03-31&to=2019-03-01")
    expect(page).to_have_title("Error: Feedback to a referrer - Signpost reporting")
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("Enter the referrer's ODS code")
    expect(summary.get_by_role("link", name="Enter the referrer's ODS code", exact=False)).to_have_attribute(
        "href", "#ods-code"
    )
    described_by = page.locator("#ods-code").get_attribute("aria-describedby") or ""
    assert "ods-code-error" in described_by.split(), "the field's own message is read with the field"
    expect(page.locator("#ods-code-error")).to_contain_text("Enter the referrer's ODS code")
    expect(page.locator("table")).to_have_count(0)
    assert_accessible(page, name="the feedback form with errors")

    page.goto(reporting_site.base_url + "/referrers/feedback?ods_code=B82005&from=2019-03-31&to=2019-03-01")
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("must be the same as or after the first day")
    assert page.request.get(reporting_site.base_url + "/referrers/feedback.csv?ods_code=B82005&from=x").status == 400


def test_the_page_asks_for_sign_in_and_comes_back(reporting_site, page):
    page.goto(reporting_site.base_url + "/referrers/feedback?ods_code=B82005")
    expect(page).to_have_url(reporting_site.base_url + "/sign-in?next=%2Freferrers%2Ffeedback%3Fods_code%3DB82005")
    page.get_by_label("Bearer token").fill(token("reporting:read"))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Feedback to a referrer: B82005")
