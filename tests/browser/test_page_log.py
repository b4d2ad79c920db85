"""The page log that every browser test ends on: it must excuse what the browser cancelled because the
test moved on to the next page, and nothing else.

Chromium cancels (net::ERR_ABORTED) the old document's unfinished loads when a link is followed; when
that happens against the next document's arrival is the browser's business, so a test that judged
such a cancellation a fault of the page failed now and then (a favicon, a chart script).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from playwright.sync_api import Page

from support.browser import PageLog, ServedApp

SLOW_SECONDS = 3.0


def _site() -> FastAPI:
    app = FastAPI()

    @app.get("/slow.js")
    async def slow_script() -> Response:
        await asyncio.sleep(SLOW_SECONDS)
        return Response("/* late */", media_type="text/javascript")

    @app.get("/still-loading")
    async def still_loading() -> HTMLResponse:
        return HTMLResponse('<!doctype html><title>one</title><script src="/slow.js"></script><p>one</p>')

    @app.get("/next")
    async def next_page() -> HTMLResponse:
        return HTMLResponse("<!doctype html><title>two</title><p>two</p>")

    @app.get("/cancels-its-own")
    async def cancels_its_own() -> HTMLResponse:
        script = "const c = new AbortController(); fetch('/slow.js', {signal: c.signal}).catch(() => {}); c.abort();"
        return HTMLResponse(f"<!doctype html><title>three</title><script>{script}</script><p>three</p>")

    return app


@pytest.fixture
def site() -> Iterator[ServedApp]:
    async def build() -> FastAPI:
        return _site()

    with ServedApp(build).running() as served:
        yield served


def _wait_for_a_cancellation(log: PageLog) -> None:
    deadline = time.monotonic() + SLOW_SECONDS + 5
    while not log.cancelled and time.monotonic() < deadline:
        time.sleep(0.05)
    assert log.cancelled, "the browser never reported the cancelled request"


def test_a_load_cancelled_because_the_test_followed_a_link_is_not_the_pages_fault(site, page: Page, page_log):
    page.goto(site.base_url + "/still-loading", wait_until="commit")  # slow.js still on its way
    page.goto(site.base_url + "/next")
    log = page_log(page)
    _wait_for_a_cancellation(log)
    log.assert_only(site.base_url)


def test_a_request_the_shown_document_lost_is_still_a_failure(site, page: Page, page_log):
    page.goto(site.base_url + "/cancels-its-own")
    log = page_log(page)
    _wait_for_a_cancellation(log)
    with pytest.raises(AssertionError, match=r"/slow\.js: net::ERR_ABORTED"):
        log.assert_only(site.base_url)
