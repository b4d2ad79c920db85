"""After signing in, the browser goes on only to a page of the same site (no open redirect)."""

from __future__ import annotations

import pytest

from signpost_web.sign_in import safe_next

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("path", ["/", "/cases", "/cases/abc?status=open"])
def test_a_page_of_this_site_is_where_the_browser_goes_next(path):
    assert safe_next(path) == path


@pytest.mark.parametrize(
    "path", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x", "", None]
)
def test_anywhere_else_becomes_the_home_page(path):
    assert safe_next(path) == "/"
