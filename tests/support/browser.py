"""Driving pages in Debian's Chromium through Playwright: launching it, serving a service to it,
recording what a page asked for, checking it with axe-core, and moving through it by keyboard.

Playwright cannot download its own browser on these machines; `make browser` installs Debian's
`chromium`, and Playwright drives that binary (`executable_path`). The tests use Playwright's
synchronous API, so the service under test runs on a real uvicorn in a thread of its own, with its
own event loop (`ServedApp`): a test reaches into that loop with `ServedApp.call`.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from fastapi import FastAPI
from playwright.sync_api import Browser, ConsoleMessage, Frame, Locator, Page, Playwright, Request, Response

from support.listening import listening

T = TypeVar("T")

CHROMIUM = "/usr/bin/chromium"
# As the machine's notes say: no sandbox (root in a container), no GPU, and no background
# connections to Google's services (refused by the closed network, many at a time, at every start).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
LAUNCH_TIMEOUT_MS = 30_000
ACTION_TIMEOUT_MS = 10_000
NAVIGATION_TIMEOUT_MS = 15_000
BLOCKING_IMPACTS = ("serious", "critical")

ARTIFACTS = Path(__file__).resolve().parents[2] / ".local" / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"


def launch_chromium(playwright: Playwright) -> Browser:
    """Debian's Chromium, headless. Playwright's launch gives it a new, empty profile (user-data-dir) each time."""
    executable = shutil.which("chromium") or CHROMIUM
    if not Path(executable).exists():
        pytest.fail("Chromium is not installed: run `make browser` (as root) or `apt-get install chromium`")
    return playwright.chromium.launch(
        executable_path=executable, headless=True, args=CHROMIUM_ARGS, timeout=LAUNCH_TIMEOUT_MS
    )


def screenshot(page: Page, name: str) -> Path:
    """A full-page PNG under .local/test-artifacts/screenshots/, named for what it shows."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name).strip('-')}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@dataclass
class PageLog:
    """Everything a page asked the network for, and every error it reported, from its first request.

    A document's own status (a form answered 401) is the test's business; a style sheet, script or
    image that did not load (`failed`), and an error in the console (a CSP refusal, an uncaught
    exception) are the page's faults.

    One failure is not: Chromium cancels (net::ERR_ABORTED) whatever the old document was still
    loading when the test follows a link or submits a form, and the order of that cancellation
    against the next document's arrival is the browser's. So an aborted request is the page's
    fault only if the document that asked for it is still the one shown when the test judges.
    """

    requests: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    documents_shown: int = 0
    _document_of: dict[Request, int] = field(default_factory=dict)
    cancelled: list[tuple[str, int]] = field(default_factory=list)

    @classmethod
    def attach(cls, page: Page) -> PageLog:
        log = cls()
        page.on("request", log._request)
        page.on("requestfailed", log._request_failed)
        page.on("framenavigated", lambda frame: log._navigated(page, frame))
        page.on("response", log._response)
        page.on("console", log._console)
        page.on("pageerror", lambda error: log.errors.append(f"uncaught: {error}"))
        return log

    def _request(self, request: Request) -> None:
        self.requests.append(request.url)
        self._document_of[request] = self.documents_shown

    def _navigated(self, page: Page, frame: Frame) -> None:
        if frame == page.main_frame:
            self.documents_shown += 1

    def _request_failed(self, request: Request) -> None:
        failure = f"{request.url}: {request.failure}"
        if request.failure == "net::ERR_ABORTED":
            self.cancelled.append((failure, self._document_of.get(request, self.documents_shown)))
        else:
            self.failed.append(failure)

    def _response(self, response: Response) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            self.failed.append(f"{response.url}: {response.status}")

    def _console(self, message: ConsoleMessage) -> None:
        # Chromium reports every 4xx/5xx response here too, the page's own included: _response judges those.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(message.text)

    def hosts(self) -> set[str]:
        return {urlsplit(url).netloc for url in self.requests}

    def assert_only(self, base_url: str) -> None:
        """Every request went to this one site (scheme, host and port), none failed, nothing was refused."""
        origin = urlsplit(base_url)
        elsewhere = [u for u in self.requests if (urlsplit(u).scheme, urlsplit(u).netloc) != origin[:2]]
        assert not elsewhere, f"requests to other hosts: {elsewhere}"
        cancelled_on_the_shown_document = [f for f, document in self.cancelled if document == self.documents_shown]
        failed = self.failed + cancelled_on_the_shown_document
        assert not failed, f"requests that failed: {failed}"
        assert not self.errors, f"console errors (a CSP refusal shows here): {self.errors}"


def assert_accessible(page: Page, *, name: str = "page", exempt: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Run axe-core on the page as it is now; fail on any serious or critical violation, naming each node.

    Lesser findings are printed (pytest shows them with a failure) but do not fail the test.
    `exempt` names a rule axe cannot judge on this page, with the reason, which the test must
    then check itself (the dashboard's meta refresh: axe cannot see the control that stops it).
    """
    exempt = exempt or {}
    results: dict[str, Any] = Axe().run(page).response
    blocking, minor = [], []
    for violation in results["violations"]:
        if violation["id"] in exempt:
            print(f"axe ({name}), exempt because {exempt[violation['id']]}: {_described(violation)}")
        elif violation["impact"] in BLOCKING_IMPACTS:
            blocking.append(violation)
        else:
            minor.append(violation)
    for violation in minor:
        print(f"axe ({name}), not blocking: {_described(violation)}")
    if blocking:
        pytest.fail(f"axe found serious or critical violations on {name}:\n" + "\n".join(map(_described, blocking)))
    return results


def _described(violation: dict[str, Any]) -> str:
    nodes = "\n".join(
        f"    {' '.join(node['target'])}: {node.get('failureSummary', '').strip()}" for node in violation["nodes"]
    )
    return f"  {violation['id']} ({violation['impact']}): {violation['help']} {violation['helpUrl']}\n{nodes}"


def focused(page: Page) -> str:
    """The focused element, as a person would name it: tag, id and its text or label."""
    description: str = page.evaluate(
        """() => {
            const el = document.activeElement;
            if (!el || el === document.body) return "body";
            const name = el.getAttribute("aria-label") || el.innerText || el.value || el.name || "";
            return `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""} ${name.trim().replace(/\\s+/g, " ")}`.trim();
        }"""
    )
    return description


def tab_to(page: Page, target: Locator, *, max_presses: int = 30) -> list[str]:
    """Press Tab until `target` has focus; return what had focus on the way (the tab order). Fails if never."""
    order: list[str] = []
    for _ in range(max_presses):
        page.keyboard.press("Tab")
        order.append(focused(page))
        if target.evaluate("element => element === document.activeElement"):
            return order
    pytest.fail(f"Tab never reached {target} in {max_presses} presses; focus went: {order}")


def activate(page: Page, key: str = "Enter") -> None:
    """Activate what has focus the way a keyboard user does: Enter (links, buttons) or Space (buttons)."""
    assert key in ("Enter", "Space"), key
    page.keyboard.press(key)


class ServedApp:
    """A FastAPI app on a real uvicorn on 127.0.0.1, in its own thread and event loop.

    `build` runs in that loop (so pools and consumers are made there); `call` runs a coroutine
    there from the test's thread and waits for it.
    """

    def __init__(self, build: Callable[[], Awaitable[FastAPI]], *, start_timeout: float = 60.0) -> None:
        self._build = build
        self._start_timeout = start_timeout
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._failure: BaseException | None = None
        self.app: FastAPI | None = None
        self.base_url = ""
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), name="served-app", daemon=True)

    async def _serve(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        try:
            self.app = await self._build()
            async with listening(self.app) as (host, port):
                self.base_url = f"http://{host}:{port}"
                self._ready.set()
                await self._stop.wait()
        except BaseException as exc:
            self._failure = exc
            raise
        finally:
            self._ready.set()

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        assert self._loop is not None, "the app is not running"
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    @contextlib.contextmanager
    def running(self) -> Iterator[ServedApp]:
        self._thread.start()
        if not self._ready.wait(self._start_timeout):
            pytest.fail(f"the app did not start listening within {self._start_timeout} s")
        if self._failure is not None:
            raise RuntimeError("the app failed to start") from self._failure
        try:
            yield self
        finally:
            if self._loop is not None and self._stop is not None:
                self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(timeout=30)
            assert not self._thread.is_alive(), "the app did not stop within 30 s"


def table_rows(page: Page, table_id: str) -> dict[str, list[str]]:
    """A table as a screen reader reads it: each body row's header, then its cells."""
    rows: dict[str, list[str]] = {}
    for row in page.locator(f"table#{table_id} tbody tr").all():
        header = row.locator("th").inner_text().strip()
        rows[header] = [cell.strip() for cell in row.locator("td").all_inner_texts()]
    return rows
