"""The page kit: what every page carries, how a form shows its errors, how the assets are served."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI

from signpost_web import FormErrors, Pages, mount_static
from signpost_web.assets import STATIC_DIRECTORY, STYLESHEET_URL

pytestmark = pytest.mark.unit

PAGES = Pages("signpost_web", service_name="Signpost example")

FORM = """{% extends "signpost/layout.jinja" %}
{% from "signpost/nhsuk.jinja" import errorSummary, input %}
{% block content %}
{{ errorSummary(errors.summary()) if errors }}
<h1 class="nhsuk-heading-l">{{ title }}</h1>
<form method="post" novalidate>
{{ input({"id": "postcode", "name": "postcode", "label": {"text": "Postcode"}, "value": postcode,
          "errorMessage": errors.message("postcode")}) }}
{{ input({"id": "email", "name": "email", "label": {"text": "Email"}, "errorMessage": errors.message("email")}) }}
</form>
{% endblock %}"""


def _form(errors: FormErrors | None = None, postcode: str = "") -> str:
    template = PAGES.environment.from_string(FORM)
    return PAGES.render(template, title="Your details", errors=errors, postcode=postcode).body.decode()


def test_a_page_has_the_nhsuk_header_with_the_service_name_a_skip_link_and_one_main_region():
    html = _form()
    assert '<html lang="en-GB">' in html
    assert "<title>Your details - Signpost example</title>" in html
    assert re.search(r'<a class="nhsuk-skip-link"[^>]*href="#maincontent"', html)
    assert '<span class="nhsuk-header__service-name">Signpost example</span>' in html
    assert html.count("<main") == 1
    assert 'id="maincontent"' in html
    assert f'<link rel="stylesheet" href="{STYLESHEET_URL}">' in html


def test_a_form_with_errors_is_titled_error_and_its_summary_links_to_each_field_in_page_order():
    errors = FormErrors()
    errors.add("postcode", "Enter a postcode, like LS1 4AP")
    errors.add("email", "Enter an email address in the correct format, like name@example.com")
    errors.add("postcode", "a second message for the same field is not shown")

    html = _form(errors)

    assert "<title>Error: Your details - Signpost example</title>" in html
    summary = html[html.index("nhsuk-error-summary") : html.index("<h1")]
    links = re.findall(r'<a href="(#[a-z]+)"', summary)
    assert links == ["#postcode", "#email"]
    assert "a second message" not in html
    assert 'class="nhsuk-error-message" id="postcode-error"' in html
    assert re.search(r'id="postcode"[^>]*aria-describedby="postcode-error"', html)
    assert "nhsuk-form-group--error" in html


def test_a_form_without_errors_has_no_summary_and_a_plain_title():
    html = _form(FormErrors())
    assert "nhsuk-error-summary" not in html
    assert "nhsuk-error-message" not in html
    assert "<title>Your details" in html


def test_what_a_person_typed_is_escaped_when_the_form_comes_back():
    html = _form(postcode='"><script>alert(1)</script>')
    assert "<script>alert(1)</script>" not in html
    assert "&#34;&gt;&lt;script&gt;" in html


def test_a_page_allows_only_this_sites_files_and_its_own_inline_scripts():
    response = PAGES.render(PAGES.environment.from_string(FORM), title="Your details")
    policy = response.headers["content-security-policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy)
    assert nonce
    assert policy.startswith("default-src 'none'")
    assert "https:" not in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    scripts = re.findall(r"<script([^>]*)>", response.body.decode())
    assert scripts
    assert all(f'nonce="{nonce[1]}"' in attributes for attributes in scripts)
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-frame-options"] == "DENY"
    # Not no-referrer: under it Chromium sends `Origin: null` with the page's own form POSTs.
    assert response.headers["referrer-policy"] == "same-origin"
    other = PAGES.render(PAGES.environment.from_string(FORM), title="Your details")
    assert other.headers["content-security-policy"] != policy, "a fresh nonce for every page"


def test_the_vendored_stylesheet_and_script_load_nothing_from_another_host():
    vendored = [*STATIC_DIRECTORY.rglob("*.css"), *STATIC_DIRECTORY.rglob("*.js")]
    # NHS.UK's stylesheet and script, Chart.js, and the kit's own script that draws the charts.
    assert sorted(path.name for path in vendored) == [
        "chart.umd.min.js", "charts.js", "nhsuk-frontend.min.css", "nhsuk-frontend.min.js"
    ]  # fmt: skip
    for path in vendored:
        text = path.read_text()
        assert "assets.nhs.uk" not in text, path
        assert not re.search(r"url\(\s*['\"]?(https?:)?//", text), path
        assert "@font-face" not in text, path
    stylesheet = next(p for p in vendored if p.suffix == ".css")
    for image in set(re.findall(r"url\((assets/[^)]+)\)", stylesheet.read_text())):
        assert (stylesheet.parent / image).is_file(), image


async def test_static_files_are_cached_for_a_year_under_their_version_and_missing_ones_are_not():
    app = FastAPI()
    mount_static(app)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        found = await client.get(STYLESHEET_URL)
        missing = await client.get(STYLESHEET_URL.replace("nhsuk-frontend", "nothing"))
    assert found.status_code == 200
    assert found.headers["content-type"].startswith("text/css")
    assert found.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert found.headers["x-content-type-options"] == "nosniff"
    assert "10.6.1" in STYLESHEET_URL, "the version is in the path, so a new version is a new URL"
    assert missing.status_code == 404
    assert "immutable" not in missing.headers.get("cache-control", "")
