"""/api/summary and the HTML dashboard: who may see them, and what they show."""

from __future__ import annotations

import re
import uuid
from html.parser import HTMLParser

import pytest

from signpost_contracts.events.cases import Ons4
from signpost_contracts.events.referrals import Referrer
from support.auth import bearer, token
from support.events import case_closed, measures_recorded

pytestmark = pytest.mark.integration

COOKIE = "signpost_reporting_token"


class _Tables(HTMLParser):
    """Each <table id=...> as {row header: [cell texts]}: what a screen reader announces per row."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, dict[str, list[str]]] = {}
        self._table: str | None = None
        self._row: list[str] | None = None
        self._text: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._table = dict(attrs).get("id")
            self.tables[self._table] = {}
        elif tag == "tr" and self._table:
            self._row = []
        elif tag in ("th", "td") and self._row is not None:
            self._text = []

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag in ("th", "td") and self._text is not None and self._row is not None:
            self._row.append("".join(self._text).strip())
            self._text = None
        elif tag == "tr" and self._row:
            self.tables[self._table][self._row[0]] = self._row[1:]
            self._row = None
        elif tag == "table":
            self._table = None


def _tables(html: str) -> dict[str, dict[str, list[str]]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


async def test_the_summary_refuses_a_request_without_a_bearer_token(reporting):
    response = await reporting.client.get("/api/summary")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 401
    assert "Authorization: Bearer" in response.json()["detail"]


async def test_the_summary_refuses_a_token_without_the_reporting_scope(reporting):
    response = await reporting.client.get("/api/summary", headers=bearer("referrals:read"))
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert "reporting:read" in response.json()["detail"]


async def test_the_summary_does_not_accept_the_dashboards_cookie_or_query_token(reporting):
    valid = token("reporting:read")
    reporting.client.cookies.set(COOKIE, valid)
    assert (await reporting.client.get("/api/summary")).status_code == 401
    assert (await reporting.client.get("/api/summary", params={"access_token": valid})).status_code == 401


async def test_the_summary_of_an_empty_projection_lists_every_status_at_zero(reporting):
    summary = await reporting.summary()
    assert summary["total_referrals"] == 0
    assert set(summary["by_status"]) == {
        "awaiting-triage",
        "accepted",
        "assigned",
        "waitlisted",
        "declined",
        "redirected",
        "closed",
        "withdrawn",
        "linked",
    }
    assert set(summary["by_status"].values()) == {0}
    assert summary["by_decision"] == {"accepted": 0, "declined": 0, "redirected": 0}
    assert summary["notifications"] == {"sent": 0, "failed": 0}
    assert summary["generated_at"].endswith(("Z", "+00:00"))


async def _sign_in(client, bearer_token: str, **headers: str):
    """Sign in the way a browser does: load the form, then post it with the token pasted in."""
    form = await client.get("/sign-in", params={"next": "/"})
    form_id = re.search(r'name="form_id" value="([^"]+)"', form.text)
    assert form_id, form.text
    return await client.post(
        "/sign-in",
        data={"form_id": form_id[1], "next": "/", "token": bearer_token},
        headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
    )


async def test_the_dashboard_without_a_token_sends_the_browser_to_a_sign_in_form_that_says_how(reporting):
    response = await reporting.client.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=%2F"
    form = await reporting.client.get(response.headers["location"])
    assert form.status_code == 200
    assert form.headers["content-type"].startswith("text/html")
    assert "reporting:read" in form.text
    assert ".local/dev-token" in form.text


async def test_a_token_without_the_reporting_scope_is_turned_away_at_sign_in_and_keeps_no_cookie(reporting):
    response = await _sign_in(reporting.client, token("referrals:read"))
    assert response.status_code == 403
    assert "lacks the &#39;reporting:read&#39; scope" in response.text
    assert COOKIE not in reporting.client.cookies


async def test_a_forged_token_is_turned_away_at_sign_in(reporting):
    response = await _sign_in(reporting.client, token("reporting:read")[:-4] + "AAAA")
    assert response.status_code == 401
    assert "bearer token rejected" in response.text
    assert COOKIE not in reporting.client.cookies


async def test_signing_in_keeps_the_token_in_a_strict_http_only_cookie(reporting):
    valid = token("reporting:read")
    response = await _sign_in(reporting.client, valid)

    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith(f"{COOKIE}="))
    assert cookie.startswith(f"{COOKIE}={valid};")
    assert "HttpOnly" in cookie
    assert "samesite=strict" in cookie.lower()
    refreshed = await reporting.client.get("/")
    assert refreshed.status_code == 200, "the meta refresh reloads the page with the cookie"
    assert '<meta http-equiv="refresh" content="7">' in refreshed.text


async def test_a_token_in_the_address_bar_signs_nobody_in(reporting):
    # A link with ?access_token= would let any site plant its own token in a visitor's browser.
    response = await reporting.client.get("/", params={"access_token": token("reporting:read")})
    assert response.status_code == 303
    assert response.headers["location"].startswith("/sign-in")
    assert COOKIE not in reporting.client.cookies


async def test_a_sign_in_form_posted_from_another_site_signs_nobody_in(reporting):
    valid = token("reporting:read")
    # Another site's form cannot know the one-time value, and its POST carries no SameSite=Strict cookie.
    blind = await reporting.client.post(
        "/sign-in",
        data={"form_id": "guessed", "next": "/", "token": valid},
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert blind.status_code == 403
    assert COOKIE not in reporting.client.cookies
    cross_site = await _sign_in(
        reporting.client, valid, Origin="https://evil.example", **{"Sec-Fetch-Site": "cross-site"}
    )
    assert cross_site.status_code == 403
    assert COOKIE not in reporting.client.cookies


async def test_the_dashboard_shows_the_same_counts_as_the_summary(reporting, events):
    assigned, declined, waiting = (f"ref-{uuid.uuid4()}" for _ in range(3))
    await reporting.deliver(
        *events.journey(assigned),
        events.received(declined),
        events.triaged(declined, "declined"),
        events.failed(declined),
        events.triaged(waiting),
        events.waitlisted(waiting),
    )

    await _sign_in(reporting.client, token("reporting:read"))
    response = await reporting.client.get("/")

    assert response.status_code == 200
    assert response.headers["content-security-policy"].startswith("default-src 'none'")
    tables = _tables(response.text)
    assert tables["totals"] == {"Total referrals": ["3"], "Of which, receipt not yet recorded here": ["1"]}
    assert tables["by-status"] == {
        "Status": ["Referrals"],
        "Awaiting triage": ["0"],
        "Accepted, not yet assigned or waitlisted": ["0"],
        "Assigned to a connector": ["1"],
        "Waitlisted": ["1"],
        "Declined": ["1"],
        "Redirected elsewhere": ["0"],
        "Closed: support ended": ["0"],
        "Withdrawn by the referrer": ["0"],
        "Linked to the person's open case": ["0"],
    }
    assert tables["by-decision"] == {
        "Decision": ["Referrals"],
        "Accepted": ["2"],
        "Declined": ["1"],
        "Redirected": ["0"],
    }
    assert tables["notifications"] == {
        "Result": ["Notifications"],
        "Sent": ["1"],
        "Failed after retries (follow up)": ["1"],
    }
    assert tables["by-referrer"] == {
        "ODS code": ["Referrals", "Declined"],
        "B82005": ["2", "1"],
        "None recorded": ["1", "0"],
    }


async def test_the_dashboard_shows_the_case_figures_in_tables(reporting, events):
    closed, still_open = f"ref-{uuid.uuid4()}", f"ref-{uuid.uuid4()}"
    await reporting.deliver(
        events.received(closed),
        events.assigned(closed),
        measures_recorded(closed, stage="baseline", ucla3_total=8, ons_loneliness="often-always", ons4=Ons4(anxiety=7)),
        measures_recorded(closed, stage="closing", ucla3_total=5, ons_loneliness="occasionally", ons4=Ons4(anxiety=4)),
        case_closed(closed, reason="goals-met", sessions_used=5),
        events.assigned(still_open),
    )

    tables = _tables((await reporting.client.get("/", headers=bearer("reporting:read"))).text)

    assert tables["cases"]["Open: assigned a connector"] == ["1"]
    assert tables["cases"]["Closed"] == ["1"]
    assert tables["closure-reasons"]["Goals met"] == ["1"]
    assert tables["closure-reasons"]["Moved away"] == ["0"]
    assert tables["sessions"] == {
        "Figure": ["Value"],
        "Sessions in total": ["5"],
        "Closed cases": ["1"],
        "Mean sessions per closed case": ["5.0"],
    }
    scores = tables["score-changes"]
    assert scores["Measure"] == ["People with both", "Mean at baseline", "Mean at closing", "Change"]
    assert scores["UCLA-3 loneliness (3 to 9, higher is lonelier)"] == ["1", "8.0", "5.0", "-3.0"]
    assert scores["ONS4 anxiety (0 to 10, lower is better)"] == ["1", "7.0", "4.0", "-3.0"]
    assert scores["ONS4 happiness (0 to 10)"] == ["0", "Not yet", "Not yet", "Not yet"]
    assert tables["ons-loneliness"]["Less often lonely"] == ["1"]
    assert tables["ons-loneliness"]["People who answered both times"] == ["1"]


async def test_the_dashboard_escapes_what_came_in_on_an_event(reporting, events):
    hostile = '<script>alert("x")</script>'
    referral = f"ref-{uuid.uuid4()}"
    await reporting.deliver(events.received(referral, referrer=Referrer(kind="gp", ods_code=hostile)))

    response = await reporting.client.get("/", headers=bearer("reporting:read"))

    assert response.status_code == 200
    assert "<script>" not in response.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in response.text
    assert _tables(response.text)["by-referrer"][hostile] == ["1", "0"]


async def test_a_refused_token_comes_back_in_the_nhsuk_error_pattern_on_the_token_field(reporting):
    response = await _sign_in(reporting.client, token("reporting:read")[:-4] + "AAAA")

    assert response.status_code == 401
    assert "<title>Error: Sign in to Signpost reporting - Signpost reporting</title>" in response.text
    summary = response.text[response.text.index('class="nhsuk-error-summary"') : response.text.index("<h1")]
    assert re.search(r'<a href="#token">\s*The token was not accepted: bearer token rejected', summary)
    assert 'class="nhsuk-error-message" id="token-error"' in response.text
    assert re.search(
        r'<textarea class="nhsuk-textarea nhsuk-textarea--error" id="token"[^>]*token-error', response.text
    )
    assert re.search(r'name="form_id" value="[^"]+"', response.text), "a fresh form to try again"


async def test_an_empty_token_asks_for_one_and_signs_nobody_in(reporting):
    response = await _sign_in(reporting.client, "   ")
    assert response.status_code == 400
    assert re.search(r'<a href="#token">\s*Enter a bearer token', response.text)
    assert COOKIE not in reporting.client.cookies


async def test_the_pages_load_their_nhsuk_styles_from_this_service(reporting):
    form = await reporting.client.get("/sign-in")
    stylesheet = re.search(r'<link rel="stylesheet" href="(/static/nhsuk/[^"]+\.css)">', form.text)
    assert stylesheet, form.text
    css = await reporting.client.get(stylesheet[1])
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert "immutable" in css.headers["cache-control"]
    assert "style-src 'self'" in form.headers["content-security-policy"]


async def test_the_dashboard_offers_to_stop_its_refresh_and_stops_when_asked(reporting):
    await _sign_in(reporting.client, token("reporting:read"))

    refreshing = await reporting.client.get("/")
    stopped = await reporting.client.get("/", params={"refresh": "off"})

    assert '<meta http-equiv="refresh" content="7">' in refreshing.text
    assert '<a id="refresh-control" href="/?refresh=off">Stop refreshing this page</a>' in refreshing.text
    assert stopped.status_code == 200
    assert 'http-equiv="refresh"' not in stopped.text
    assert '<a id="refresh-control" href="/">Refresh it every 7 seconds</a>' in stopped.text
    assert _tables(stopped.text)["totals"] == _tables(refreshing.text)["totals"]
