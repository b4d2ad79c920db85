"""Failures that are not the sender's fault are reported as such, as OperationOutcomes."""

from __future__ import annotations

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from referral_intake.adapters.fhir_http import install_error_handlers
from referral_intake.config import IntakeSettings
from signpost_runtime.http import install_edge

pytestmark = pytest.mark.unit


def _app_raising(error: Exception) -> FastAPI:
    app = FastAPI()
    install_edge(app, IntakeSettings())
    install_error_handlers(app)

    @app.post("/fhir/ServiceRequest")
    async def create() -> None:
        raise error

    return app


@pytest.mark.parametrize(
    "error",
    [ConnectionRefusedError(111, "refused"), asyncpg.CannotConnectNowError("starting up"), TimeoutError()],
    ids=["refused", "starting-up", "timeout"],
)
async def test_a_database_outage_is_503_with_retry_after_never_a_bad_request(error):
    transport = httpx.ASGITransport(app=_app_raising(error))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.post("/fhir/ServiceRequest")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    issue = response.json()["issue"][0]
    assert (issue["code"], issue["details"]["coding"][0]["code"]) == ("transient", "REC_SERVICE_UNAVAILABLE")
    assert "resending the same ServiceRequest.identifier or X-Request-ID is safe" in issue["diagnostics"]


async def test_a_bug_is_a_500_operation_outcome_saying_it_is_safe_to_resend():
    transport = httpx.ASGITransport(app=_app_raising(RuntimeError("bug")), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.post("/fhir/ServiceRequest")
    assert response.status_code == 500
    issue = response.json()["issue"][0]
    assert issue["details"]["coding"][0]["code"] == "REC_SERVER_ERROR"
    assert "never stored twice" in issue["diagnostics"]
