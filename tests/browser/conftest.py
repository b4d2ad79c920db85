"""Browser tests: real headless Chromium (Debian's, installed by `make browser`) against services on a
real uvicorn on 127.0.0.1, on the real broker and PostgreSQL.

Fixtures:
- `chromium`: one browser for the browser tests (stopped after them: see the fixture).
- `open_page(javascript=True)`: a new page in a fresh browser context (no cookies shared between
  tests), with bounded timeouts; its `PageLog` (requests, failures, console errors) is `page_log(page)`.
  Every page opened is photographed when the test ends, passed or failed, into
  .local/test-artifacts/screenshots/<test>-<page number>-<passed|failed>.png.
- `page`: `open_page()`, for the common case.
- `serve(create_app, SettingsClass, beside=None, **settings)`: a service on a real uvicorn on 127.0.0.1, on its
  own topics (or those of the `beside` site) and database on the real infrastructure (`Site`: base_url,
  namespace, deliver).
- `reporting_site`: `serve(...)` for reporting.
"""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, sync_playwright

from reporting.app import create_app
from reporting.config import ReportingSettings
from signpost_contracts import EventEnvelope
from signpost_runtime.settings import ServiceSettings
from support.auth import bearer
from support.browser import (
    ACTION_TIMEOUT_MS,
    NAVIGATION_TIMEOUT_MS,
    SCREENSHOTS,
    PageLog,
    ServedApp,
    launch_chromium,
    screenshot,
)
from support.infra import Namespace, new_database, publish, unique
from support.services import settings_for

_LOGS = pytest.StashKey[dict[int, PageLog]]()
_OUTCOME = pytest.StashKey[str]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    report = yield
    if report.when == "call" or report.failed:
        item.stash[_OUTCOME] = "failed" if report.failed else "passed"
    return report


@pytest.fixture(scope="package")
def chromium() -> Iterator[Browser]:
    # Not session-wide: while Playwright's synchronous API is started, its event loop counts as running
    # in this thread, and every async test after the browser tests would fail to start its own.
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)  # only this run's pictures, none left from an older one
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def open_page(chromium: Browser, request: pytest.FixtureRequest) -> Iterator[Callable[..., Page]]:
    pages: list[Page] = []
    logs = request.node.stash.setdefault(_LOGS, {})

    def opened(*, javascript: bool = True) -> Page:
        context = chromium.new_context(
            java_script_enabled=javascript, locale="en-GB", viewport={"width": 1024, "height": 768}
        )
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
        page = context.new_page()
        logs[id(page)] = PageLog.attach(page)
        pages.append(page)
        return page

    yield opened
    outcome = request.node.stash.get(_OUTCOME, "failed")
    for number, page in enumerate(pages, start=1):
        try:
            screenshot(page, f"{request.node.name}-{number}-{outcome}")
        except Exception as exc:  # a page that crashed must not hide the test's own failure
            print(f"no screenshot of page {number}: {exc}")
        finally:
            page.context.close()


@pytest.fixture
def page(open_page: Callable[..., Page]) -> Page:
    return open_page()


@pytest.fixture
def page_log(request: pytest.FixtureRequest) -> Callable[[Page], PageLog]:
    def log(page: Page) -> PageLog:
        return request.node.stash[_LOGS][id(page)]

    return log


@dataclass
class Site:
    """A service served for the browser: its address, its app's loop, and its own topics."""

    served: ServedApp
    namespace: Namespace

    @property
    def base_url(self) -> str:
        return self.served.base_url

    def deliver(self, *events: EventEnvelope, total_referrals: int) -> None:
        """(reporting) Publish events as the producing services would; wait until the summary counts them."""
        self.served.call(publish(self.namespace, events))
        with httpx.Client(base_url=self.base_url, headers=bearer("reporting:read"), timeout=5) as client:
            for _ in range(200):
                if client.get("/api/summary").json()["total_referrals"] == total_referrals:
                    return
                time.sleep(0.1)
        pytest.fail(f"reporting never counted {total_referrals} referrals")


@pytest.fixture
def serve(infrastructure) -> Iterator[Callable[..., Site]]:
    """serve(create_app, SettingsClass, **settings): a service on a real uvicorn on its own topics and database.

    Stopped when the test ends. For a page that needs two services, serve both; `beside=site` puts the second
    on the first's topics (its own database still), so that the two talk to each other over the broker.
    """
    with contextlib.ExitStack() as running:

        def served(
            create_app: Callable[[Any], FastAPI],
            settings_class: type[ServiceSettings],
            *,
            beside: Site | None = None,
            **overrides: Any,
        ) -> Site:
            shared = beside is not None
            namespace = beside.namespace if beside else Namespace(unique("t"), infrastructure.kafka_bootstrap_servers)

            async def build() -> FastAPI:
                if not shared:
                    await namespace.create()
                database_url = await new_database(infrastructure.postgres_url)
                return create_app(settings_for(settings_class, infrastructure, namespace, database_url, **overrides))

            return Site(running.enter_context(ServedApp(build).running()), namespace)

        yield served


@pytest.fixture
def reporting_site(serve) -> Site:
    # A long refresh: the page must not reload under a test; its meta refresh is checked on its own.
    return serve(create_app, ReportingSettings, dashboard_refresh_seconds=600)
