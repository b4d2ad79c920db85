"""The HTTP side of a service: a FastAPI app around a ServiceRuntime, served by uvicorn."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import AsyncIterator, Sequence
from types import FrameType

import uvicorn
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from signpost_runtime import health
from signpost_runtime.auth import AuthError, TokenVerifier
from signpost_runtime.logs import configure_logging
from signpost_runtime.runtime import ServiceRuntime


async def _auth_error_as_json(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AuthError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
    return JSONResponse({"error": exc.message}, status_code=exc.status_code, headers=headers)


def build_app(runtime: ServiceRuntime, routers: Sequence[APIRouter] = (), *, title: str) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with runtime.lifespan():
            yield

    app = FastAPI(title=title, lifespan=lifespan)
    app.state.runtime = runtime
    app.state.token_verifier = TokenVerifier(runtime.settings)
    app.add_exception_handler(AuthError, _auth_error_as_json)
    app.include_router(health.router)
    for router in routers:
        app.include_router(router)
    return app


def _exit_quietly_after_drain(signum: int, frame: FrameType | None) -> None:
    """uvicorn re-raises the signal that stopped it once it has drained; by then all is done."""


def serve(app: FastAPI) -> None:
    """Run the app under uvicorn; SIGTERM drains HTTP requests, then the runtime stops in order.

    A graceful stop exits 0, so an orchestrator can tell a clean drain from a crash.
    """
    settings = app.state.runtime.settings
    configure_logging(settings.service_name, settings.log_level)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _exit_quietly_after_drain)
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
    )
