"""/health/live, /health/ready and /metrics for every service."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

if TYPE_CHECKING:
    from signpost_runtime.runtime import ServiceRuntime

router = APIRouter(tags=["operations"])

# The classic Prometheus text format, which every scraper reads; Signpost's metric names need nothing newer.
METRICS_MEDIA_TYPE = "text/plain; version=0.0.4"
_VERDICT = {
    "type": "object",
    "required": ["status", "checks"],
    "properties": {
        "status": {"type": "string", "enum": ["ok", "failing"]},
        "checks": {"type": "object", "additionalProperties": {"type": "string"}},
        "degraded": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


def _verdicts(healthy: str, failing: str) -> dict[int | str, dict[str, Any]]:
    content = {"application/json": {"schema": _VERDICT}}
    return {200: {"description": healthy, "content": content}, 503: {"description": failing, "content": content}}


def _runtime(request: Request) -> ServiceRuntime:
    return request.app.state.runtime  # type: ignore[no-any-return]


def _verdict(checks: dict[str, Any], degraded: dict[str, str] | None = None) -> JSONResponse:
    healthy = all(check == "ok" for check in checks.values())
    body: dict[str, Any] = {"status": "ok" if healthy else "failing", "checks": checks}
    if degraded:
        body["degraded"] = degraded
    return JSONResponse(body, status_code=200 if healthy else 503)


@router.get(
    "/health/live",
    response_class=JSONResponse,
    responses=_verdicts("the process is making progress", "a worker is stuck: restart this process"),
)
async def live(request: Request) -> JSONResponse:
    return _verdict(await _runtime(request).liveness())


@router.get(
    "/health/ready",
    response_class=JSONResponse,
    responses=_verdicts("ready for traffic (`degraded` lists what it is doing without)", "not ready: see `checks`"),
)
async def ready(request: Request) -> JSONResponse:
    runtime = _runtime(request)
    checks: dict[str, Any] = {}
    try:
        await asyncio.wait_for(runtime.pool.fetchval("SELECT 1"), timeout=2)
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"unreachable: {exc!r}"
    broker_ok = await runtime.broker.ping(timeout=2)
    if runtime.definition.ready_needs_broker:
        checks["broker"] = "ok" if broker_ok else "unreachable"
        return _verdict(checks)
    # The database alone decides; a missing broker is reported, not failed on, because events wait
    # in the outbox until it is back.
    return _verdict(checks, degraded=None if broker_ok else {"broker": "unreachable"})


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"description": "Prometheus metrics", "content": {METRICS_MEDIA_TYPE: {"schema": {"type": "string"}}}}
    },
)
async def metrics(request: Request) -> Response:
    await _runtime(request).refresh_lag_metric()
    return Response(generate_latest(), media_type=CONTENT_TYPE_PLAIN_0_0_4)
