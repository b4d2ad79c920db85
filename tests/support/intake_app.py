"""Intake's own app (its routers, sign-in and assets) in process, with every unit of work on one fake unit."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx

from referral_intake.app import create_app
from referral_intake.config import IntakeSettings
from support.auth import TEST_JWT_SECRET
from support.fakes.intake import FakeIntakeUnit


class FakeUnits:
    """The app's unit of work, on the fake: every request sees the same in-memory stores."""

    def __init__(self, unit: FakeIntakeUnit) -> None:
        self.unit = unit

    @contextlib.asynccontextmanager
    async def __call__(self, *, isolation: str | None = None, readonly: bool = False) -> AsyncIterator[FakeIntakeUnit]:
        yield self.unit


def client_on_fake(unit: FakeIntakeUnit, **settings: Any) -> httpx.AsyncClient:
    """A client on intake's app built with `settings`, whose units of work are all `unit`."""
    app = create_app(IntakeSettings(jwt_secret=TEST_JWT_SECRET, **settings))
    app.state.runtime.units = lambda kind: FakeUnits(unit)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
