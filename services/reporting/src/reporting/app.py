"""Wiring only: the reporting runtime (four topics in, only its pipeline health out), its routes, and main()."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from reporting import dashboard_api, exports, feedback, feedback_pages, pages, routes
from reporting.config import ReportingSettings
from reporting.handlers import CONSUMES, LIVE_ONLY, event_handlers
from reporting.unit import ReportingUnit
from signpost_runtime.db import service_migrations
from signpost_runtime.http import build_app, serve
from signpost_runtime.runtime import ServiceDefinition, ServiceRuntime
from signpost_web import mount_static


def create_app(settings: ReportingSettings | None = None) -> FastAPI:
    settings = settings or ReportingSettings()
    definition = ServiceDefinition(
        settings=settings,
        migrations=service_migrations(Path(__file__).resolve().parent),
        consumes=(*CONSUMES, *LIVE_ONLY),
        publishes=[],  # reporting never decides anything: it announces only its pipeline's health (the kit's)
        handlers=event_handlers,
        unit=ReportingUnit,
    )
    routers = [
        routes.router,
        dashboard_api.router,
        exports.router,
        feedback.router,
        pages.router,
        feedback_pages.router,
        pages.SESSION.router(),
    ]
    app = build_app(ServiceRuntime(definition), routers, title="Signpost reporting")
    mount_static(app)
    pages.PAGES.warm("dashboard.html", "denied.html")
    pages.SESSION.pages.warm("signpost/sign_in.html")
    return app


def main() -> None:
    serve(create_app())
