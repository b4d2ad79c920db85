"""The HTTP side of a service: a FastAPI app around a ServiceRuntime, served by uvicorn."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import AsyncIterator, Sequence
from types import FrameType

import uvicorn
from fastapi import APIRouter, FastAPI

from signpost_runtime import health
from signpost_runtime.auth import TokenVerifier
from signpost_runtime.edge import EdgeMiddleware
from signpost_runtime.logs import configure_logging
from signpost_runtime.openapi import install_truthful_openapi
from signpost_runtime.problem_handlers import install_problem_handlers
from signpost_runtime.problems import ErrorShapes
from signpost_runtime.runtime import ServiceRuntime
from signpost_runtime.settings import ServiceSettings


def build_app(runtime: ServiceRuntime, routers: Sequence[APIRouter] = (), *, title: str) -> FastAPI:
    """The service's HTTP app: its routes behind the edge (limits, malformed input, problem+json errors).

    A service that answers errors in another shape on some paths registers it on
    `app.state.error_shapes` (intake: OperationOutcomes under /fhir).
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with runtime.lifespan():
            yield

    app = FastAPI(title=title, lifespan=lifespan)
    app.state.runtime = runtime
    app.state.token_verifier = TokenVerifier(runtime.settings)
    install_edge(app, runtime.settings)
    app.include_router(health.router)
    for router in routers:
        app.include_router(router)
    return app


def install_edge(app: FastAPI, settings: ServiceSettings) -> ErrorShapes:
    """Body and parameter limits, errors as problems (or a registered shape), and a truthful OpenAPI."""
    app.state.error_shapes = shapes = ErrorShapes()
    install_problem_handlers(app)
    app.add_middleware(EdgeMiddleware, settings=settings, shapes=shapes)
    install_truthful_openapi(app, shapes, max_parameter_length=settings.max_parameter_length)
    return shapes


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
