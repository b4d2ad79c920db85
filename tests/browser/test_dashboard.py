"""The reporting dashboard in a real browser: signing in by keyboard, the error state, what a page
loads, and axe-core on each state (no serious or critical violation)."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import Page, expect

from signpost_contracts import new_event
from signpost_contracts.events.cases import Ons4
from signpost_contracts.events.notifications import UrgentUnconfirmed
from signpost_contracts.events.referrals import Referrer
from support.auth import bearer, token
from support.browser import activate, assert_accessible, focused, screenshot, tab_to, table_rows
from support.events import (
    case_closed,
    measures_recorded,
    notification_sent,
    pipeline_health,
    referral_assigned,
    referral_received,
    referral_triaged,
    roster_caseloads,
)
from support.infra import publish

pytestmark = [pytest.mark.browser, pytest.mark.integration]

# axe fails any meta refresh under 20 hours, as it cannot see that the page offers a way to stop it
# (WCAG 2.2.1 asks for one, before the limit is met); the stop control is tested by keyboard below.
REFRESH_CONTROLLED = {"meta-refresh": "the dashboard's first control stops the refresh (tested below)"}


def _one_assigned_and_one_declined(site) -> None:
    assigned, declined = (f"ref-{uuid.uuid4()}" for _ in range(2))
    site.deliver(
        referral_received(assigned),
        referral_triaged(assigned, "accepted"),
        referral_assigned(assigned),
        notification_sent(assigned),
        referral_received(declined),
        referral_triaged(declined, "declined"),
        total_referrals=2,
    )


def test_a_person_signs_in_with_the_keyboard_alone_and_sees_the_dashboard(reporting_site, page, page_log):
    _one_assigned_and_one_declined(reporting_site)
    page.goto(reporting_site.base_url + "/")
    expect(page).to_have_url(re.compile(r"/sign-in\?next=%2F$"))
    assert_accessible(page, name="the sign-in form")

    order = tab_to(page, page.get_by_label("Bearer token"))
    assert order[0].startswith("a Skip to main content"), order
    page.keyboard.insert_text(token("reporting:read"))  # what pasting does
    page.keyboard.press("Tab")
    assert focused(page) == "button Sign in"
    activate(page, "Enter")

    expect(page).to_have_url(reporting_site.base_url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Referrals dashboard")
    expect(page).to_have_title("Referrals dashboard - Signpost reporting")
    assert table_rows(page, "totals") == {"Total referrals": ["2"], "Of which, receipt not yet recorded here": ["0"]}
    assert table_rows(page, "by-decision") == {"Accepted": ["1"], "Declined": ["1"], "Redirected": ["0"]}
    assert table_rows(page, "by-referrer") == {"B82005": ["2", "1"]}
    expect(page.locator("table#by-status caption")).to_have_text("Referrals by status")
    assert page.locator("table#by-status thead th").all_inner_texts() == ["Status", "Referrals"]
    assert page.locator('meta[http-equiv="refresh"]').get_attribute("content") == "600"
    screenshot(page, "dashboard-signed-in")
    assert_accessible(page, name="the refreshing dashboard", exempt=REFRESH_CONTROLLED)
    page_log(page).assert_only(reporting_site.base_url)


def test_the_dashboards_refresh_can_be_stopped_from_the_keyboard_and_then_passes_axe_in_full(reporting_site, page):
    page.goto(reporting_site.base_url + "/sign-in")
    page.get_by_label("Bearer token").fill(token("reporting:read"))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Referrals dashboard")

    order = tab_to(page, page.locator("#refresh-control"))
    assert order[-1] == "a#refresh-control Stop refreshing this page"
    assert len(order) == 4, f"skip link, header, sign out, then this: the first control of the content ({order})"
    activate(page, "Enter")

    expect(page).to_have_url(reporting_site.base_url + "/?refresh=off")
    expect(page.locator('meta[http-equiv="refresh"]')).to_have_count(0)
    expect(page.locator("#refresh-control")).to_have_text("Refresh it every 600 seconds")
    assert_accessible(page, name="the dashboard, not refreshing")


def test_the_case_figures_read_as_tables_with_headers_and_pass_axe(reporting_site, page):
    closed = f"ref-{uuid.uuid4()}"
    # One topic and one key, so one partition in this order: once the closure is counted, all are applied.
    reporting_site.deliver(
        measures_recorded(closed, stage="baseline", ucla3_total=8, ons_loneliness="often-always", ons4=Ons4(anxiety=7)),
        measures_recorded(closed, stage="closing", ucla3_total=5, ons_loneliness="occasionally", ons4=Ons4(anxiety=4)),
        case_closed(closed, reason="connected-onward", sessions_used=6),
        total_referrals=1,
    )
    page.goto(reporting_site.base_url + "/sign-in")
    page.get_by_label("Bearer token").fill(token("reporting:read"))
    page.get_by_role("button", name="Sign in").click()
    page.goto(reporting_site.base_url + "/?refresh=off")

    assert table_rows(page, "cases")["Closed"] == ["1"]
    assert table_rows(page, "closure-reasons")["Connected onward"] == ["1"]
    assert table_rows(page, "sessions")["Mean sessions per closed case"] == ["6.0"]
    ucla = table_rows(page, "score-changes")["UCLA-3 loneliness (3 to 9, higher is lonelier)"]
    assert ucla == ["1", "8.0", "5.0", "-3.0"]
    assert table_rows(page, "ons-loneliness")["Less often lonely"] == ["1"]
    expect(page.get_by_role("table", name="Change between baseline and closing measures")).to_be_visible()
    assert_accessible(page, name="the dashboard with case figures")
    screenshot(page, "dashboard-case-figures")


def test_the_sign_out_button_works_from_the_keyboard_with_space(reporting_site, page):
    page.goto(reporting_site.base_url + "/sign-in")
    page.get_by_label("Bearer token").fill(token("reporting:read"))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Referrals dashboard")

    page.get_by_role("button", name="Sign out").focus()
    activate(page, "Space")

    expect(page).to_have_url(reporting_site.base_url + "/sign-in")
    page.goto(reporting_site.base_url + "/")
    expect(page).to_have_url(re.compile(r"/sign-in\?next="))


def test_a_refused_token_shows_the_error_summary_and_the_field_error_and_passes_axe(reporting_site, page, page_log):
    page.goto(reporting_site.base_url + "/sign-in?next=/")
    page.get_by_label("Bearer token").fill(token("reporting:read")[:-4] + "AAAA")
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_title(re.compile(r"^Error: Sign in to Signpost reporting"))
    summary = page.locator(".nhsuk-error-summary")
    expect(summary.get_by_role("heading", level=2)).to_have_text("There is a problem")
    expect(summary.get_by_role("link")).to_have_text(re.compile(r"The token was not accepted: bearer token rejected"))
    expect(page.locator("#token-error")).to_contain_text("The token was not accepted")
    expect(summary).to_be_focused()  # NHS.UK's script moves focus to the summary, so it is read out first
    screenshot(page, "sign-in-refused-token")
    assert_accessible(page, name="the sign-in form with a refused token")

    summary.get_by_role("link").focus()
    activate(page, "Enter")
    expect(page.get_by_label("Bearer token")).to_be_focused()
    page_log(page).assert_only(reporting_site.base_url)


def test_signing_in_and_reading_the_dashboard_work_without_javascript(reporting_site, open_page, page_log):
    page = open_page(javascript=False)
    page.goto(reporting_site.base_url + "/")
    page.get_by_label("Bearer token").fill("")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Enter a bearer token")

    page.get_by_label("Bearer token").fill(token("reporting:read"))
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Referrals dashboard")
    assert table_rows(page, "totals")["Total referrals"] == ["0"]
    expect(page.locator("table#by-referrer tbody")).to_have_text("No referrals yet.")
    # axe itself needs JavaScript: these pages' markup is checked with it in the tests above.
    page_log(page).assert_only(reporting_site.base_url)


def test_the_pages_load_everything_from_the_service_itself_and_nothing_from_anywhere_else(
    reporting_site, page, page_log
):
    page.goto(reporting_site.base_url + "/sign-in")
    page.get_by_label("Bearer token").fill(token("reporting:read"))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Referrals dashboard")
    page.wait_for_load_state("networkidle")

    log = page_log(page)
    log.assert_only(reporting_site.base_url)
    paths = {url.removeprefix(reporting_site.base_url).split("?")[0] for url in log.requests}
    assert "/static/nhsuk/10.6.1/nhsuk-frontend.min.css" in paths
    assert "/static/nhsuk/10.6.1/nhsuk-frontend.min.js" in paths
    # The stylesheet applied (NHS blue header) and NHS.UK's script ran under the page's CSP.
    header_colour = page.locator("header.nhsuk-header").evaluate("e => getComputedStyle(e).backgroundColor")
    assert header_colour == "rgb(0, 94, 184)"
    expect(page.locator("body")).to_have_class(re.compile(r"\bnhsuk-frontend-supported\b"))


def test_an_urgent_redirect_not_yet_confirmed_is_a_warning_on_the_dashboard_and_passes_axe(reporting_site, page):
    urgent = f"ref-{uuid.uuid4()}"
    raised = UrgentUnconfirmed(
        referral_id=urgent,
        outcome_event_id=f"triaged-{urgent}",
        raised_at=datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
        escalations=1,
        last_escalation="told again by email",
        at=datetime.now(UTC),
    )
    reporting_site.deliver(
        new_event(raised, subject=urgent, correlation_id=urgent), referral_received(urgent), total_referrals=1
    )
    with httpx.Client(base_url=reporting_site.base_url, headers=bearer("reporting:read"), timeout=5) as client:
        for _ in range(100):
            if client.get("/api/summary").json()["urgent"]["unconfirmed"] == 1:
                break
            time.sleep(0.1)
    page.goto(reporting_site.base_url + "/sign-in")
    page.get_by_label("Bearer token").fill(token("reporting:read"))
    page.get_by_role("button", name="Sign in").click()
    page.goto(reporting_site.base_url + "/?refresh=off")

    warning = page.locator("#urgent-unconfirmed")
    expect(warning.get_by_role("heading")).to_contain_text("Urgent redirects not yet confirmed")
    expect(warning).to_contain_text("1 urgent message has not been confirmed as reaching the referrer")
    expect(warning).to_contain_text("01 December 2026, 09:30 UTC")
    expect(warning).to_contain_text("escalated 1 time")
    assert_accessible(page, name="the dashboard with an urgent redirect not confirmed")
    screenshot(page, "dashboard-urgent-unconfirmed")


MARCH_2019 = datetime(2019, 3, 4, 9, 0, tzinfo=UTC)


def _march_referrals(site) -> None:
    """Three referrals in March 2019 (two by FHIR, one self-referral), one declined and one assigned after 2 days."""
    fhir, declined, self_referral = (f"ref-{uuid.uuid4()}" for _ in range(3))
    site.deliver(
        referral_received(fhir, at=MARCH_2019),
        referral_triaged(fhir, "accepted", at=MARCH_2019 + timedelta(hours=1)),
        referral_assigned(fhir, at=MARCH_2019 + timedelta(days=2)),
        referral_received(declined, at=MARCH_2019 + timedelta(days=1)),
        referral_triaged(declined, "declined", at=MARCH_2019 + timedelta(days=1, hours=1)),
        referral_received(
            self_referral, at=MARCH_2019 + timedelta(days=1), channel="self-referral", referrer=Referrer(kind="self")
        ),
        total_referrals=3,
    )


def _caseloads(site) -> None:
    """Triage's announcement of two connectors' caseloads, one full; waits until the dashboard's JSON has them."""
    site.served.call(publish(site.namespace, [roster_caseloads(at=MARCH_2019)]))
    with httpx.Client(base_url=site.base_url, headers=bearer("reporting:read"), timeout=5) as client:
        for _ in range(200):
            if client.get("/api/dashboard").json()["caseloads"]:
                return
            time.sleep(0.1)
    pytest.fail("reporting never showed the caseloads")


def _pipeline_health(site) -> datetime:
    """Triage reporting now, notifications silent for an hour; waits until the dashboard's JSON has both.

    Returns when notifications last reported."""
    silent_since = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    reports = [
        pipeline_health("triage", "triage-0", outbox_waiting=4, outbox_parked=1),
        pipeline_health("notifications", "notifications-0", at=silent_since, dead_letters_sent=2, consumers=[]),
    ]
    site.served.call(publish(site.namespace, reports))
    with httpx.Client(base_url=site.base_url, headers=bearer("reporting:read"), timeout=5) as client:
        for _ in range(200):
            services = {row["service"] for row in client.get("/api/dashboard").json()["pipeline_health"]}
            if {"triage", "notifications"} <= services:
                return silent_since
            time.sleep(0.1)
    pytest.fail("reporting never showed the pipeline health reports")


def _sign_in(page: Page, site) -> None:
    page.goto(site.base_url + "/sign-in")
    page.get_by_label("Bearer token").fill(token("reporting:read"))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Referrals dashboard")


def test_the_period_views_show_charts_beside_their_tables_served_by_the_service_itself(reporting_site, page, page_log):
    _march_referrals(reporting_site)
    _caseloads(reporting_site)
    silent_since = _pipeline_health(reporting_site)
    _sign_in(page, reporting_site)
    page.goto(reporting_site.base_url + "/?refresh=off&from=2019-03-01&to=2019-03-31")
    page.wait_for_load_state("networkidle")

    expect(page.locator("#period-heading")).to_have_text("Referrals received from 01 March 2019 to 31 March 2019")
    assert table_rows(page, "funnel") == {
        "Received": ["3"],
        "Triaged": ["2"],
        "Assigned or waiting": ["1"],
        "Of which, assigned a connector": ["1"],
        "Of which, on the waitlist now": ["0"],
        "First contact made": ["0"],
        "Closed": ["0"],
    }
    arrivals = table_rows(page, "arrivals")
    assert len(arrivals) == 31
    assert arrivals["Mon 04 Mar 2019"] == ["1", "0", "1"]  # NHS system (FHIR), self-referral form, all routes
    assert arrivals["Tue 05 Mar 2019"] == ["1", "1", "2"]
    assert page.locator("table#arrivals thead th").all_inner_texts() == [
        "Day",
        "NHS system (FHIR)",
        "Self-referral form",
        "All routes",
    ]
    assert table_rows(page, "decisions") == {
        "Accepted": ["1"],
        "Declined": ["1"],
        "Redirected": ["0"],
        "Not yet decided": ["1"],
    }
    assert table_rows(page, "waits")["Received to assigned"] == ["1", "2.0", "2.0"]
    assert table_rows(page, "referrer-declines") == {"B82005": ["1", "outside-service-area (1)", "0", "None"]}
    # Each chart is drawn, and hidden from assistive technology: its table says the same.
    charts = page.locator("canvas[data-chart]")
    expect(charts).to_have_count(4)
    expect(page.locator('canvas[data-chart-drawn="true"]')).to_have_count(4)
    for index in range(4):
        assert charts.nth(index).evaluate("c => c.closest('[aria-hidden=true]') !== null")
        assert charts.nth(index).evaluate("c => c.width > 0 && c.height > 0")
    expect(page.locator("#freshness")).to_contain_text("Reporting last applied an event at")
    as_of = "04 March 2019, 09:00:00 UTC"
    assert table_rows(page, "caseloads") == {
        "leeds-north-amira": ["Paid", "3", "3", "FULL: no room", "Yes", as_of],
        "leeds-vol-2": ["Volunteer", "1", "2", "Room for 1 more", "No: their open cases need moving", as_of],
    }
    health = table_rows(page, "pipeline-health")
    # Instances, waiting to be consumed, by topic, outbox waiting and parked, dead letters sent and parked, as of.
    assert health["Triage"][:7] == ["1", "5", "signpost.referrals (5)", "4", "1", "1", "0"]
    assert not health["Triage"][7].startswith("STALE")
    assert health["Notifications"] == [
        "1",
        "0",
        "Consumes nothing",
        "2",
        "1",
        "2",
        "0",
        f"STALE: not reported since {silent_since:%d %B %Y, %H:%M:%S} UTC",
    ]
    screenshot(page, "dashboard-period-charts")
    assert_accessible(page, name="the dashboard with the period's charts")

    log = page_log(page)
    log.assert_only(reporting_site.base_url)  # no CDN, and no CSP refusal in the console
    paths = {url.removeprefix(reporting_site.base_url).split("?")[0] for url in log.requests}
    assert {"/static/chartjs/4.5.1/chart.umd.min.js", "/static/signpost/1/charts.js"} <= paths


def test_the_filter_form_changes_the_figures_and_the_refresh_keeps_the_filters(reporting_site, page):
    _march_referrals(reporting_site)
    _sign_in(page, reporting_site)
    page.get_by_label("First day").fill("2019-03-01")
    page.get_by_label("Last day").fill("2019-03-31")
    page.get_by_label("Route in").select_option("self-referral")
    page.get_by_role("button", name="Show figures").click()

    expect(page).to_have_url(re.compile(r"from=2019-03-01&to=2019-03-31&area=&route=self-referral&referrer_kind=$"))
    expect(page.locator("#period-filters")).to_have_text("Only referrals, in by Self-referral form.")
    assert table_rows(page, "funnel")["Received"] == ["1"]
    assert table_rows(page, "decisions")["Not yet decided"] == ["1"]
    expect(page.get_by_label("Route in")).to_have_value("self-referral")
    # The meta refresh reloads this same address, filters and all; the stop control keeps them too.
    assert page.locator('meta[http-equiv="refresh"]').get_attribute("content") == "600"
    page.locator("#refresh-control").click()
    expect(page).to_have_url(re.compile(r"refresh=off"))
    expect(page.locator('meta[http-equiv="refresh"]')).to_have_count(0)
    assert table_rows(page, "funnel")["Received"] == ["1"]

    page.get_by_label("Kind of referrer").select_option("gp")
    page.get_by_label("Route in").select_option("")
    page.get_by_role("button", name="Show figures").click()
    expect(page).to_have_url(re.compile(r"refresh=off&from=2019-03-01"))  # still not refreshing
    expect(page.locator('meta[http-equiv="refresh"]')).to_have_count(0)
    assert table_rows(page, "funnel")["Received"] == ["2"]
    assert_accessible(page, name="the dashboard, filtered and not refreshing")
    screenshot(page, "dashboard-filtered")


def test_a_filter_it_cannot_read_is_named_in_the_error_summary_and_passes_axe(reporting_site, page):
    _sign_in(page, reporting_site)
    page.get_by_label("Area (postcode district)").fill("Leeds")
    page.get_by_role("button", name="Show figures").click()

    expect(page).to_have_title(re.compile(r"^Error: Referrals dashboard"))
    summary = page.locator(".nhsuk-error-summary")
    expect(summary.get_by_role("link")).to_have_text(
        "Enter a postcode district, like LS6, or leave it empty for every area"
    )
    expect(page.locator("#area-error")).to_contain_text("Enter a postcode district")
    expect(page.locator('meta[http-equiv="refresh"]')).to_have_count(0)
    expect(page.locator("#period-heading")).to_have_count(0)
    assert table_rows(page, "totals")["Total referrals"] == ["0"]  # the all-time figures are still there
    assert_accessible(page, name="the dashboard with a filter error")
    screenshot(page, "dashboard-filter-error")


def test_the_filters_and_figures_work_without_javascript(reporting_site, open_page, page_log):
    _march_referrals(reporting_site)
    page = open_page(javascript=False)
    _sign_in(page, reporting_site)
    page.get_by_label("First day").fill("2019-03-01")
    page.get_by_label("Last day").fill("2019-03-31")
    page.get_by_label("Area (postcode district)").fill("ls6")
    page.get_by_role("button", name="Show figures").click()

    expect(page.locator("#period-filters")).to_have_text("Only referrals from LS6.")
    assert table_rows(page, "funnel")["Received"] == ["3"]
    expect(page.locator('canvas[data-chart-drawn="true"]')).to_have_count(0)
    page_log(page).assert_only(reporting_site.base_url)
