"""Wiring only: settings, runtime (pool, migrations, consumer, outbox relay), HTTP app, error handlers."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from referral_intake.adapters.fhir_http import install_error_handlers
from referral_intake.case_service import CaseService
from referral_intake.cases import pages as case_pages
from referral_intake.cases.routes import router as case_router
from referral_intake.config import IntakeSettings
from referral_intake.fhir.routes import router as fhir_router
from referral_intake.fhir.withdrawal import router as withdrawal_router
from referral_intake.handlers import event_handlers
from referral_intake.service import IntakeService
from referral_intake.unit import IntakeUnit
from signpost_contracts import Stream
from signpost_contracts.registry import (
    CASE_CLOSED,
    CONTACT_RECORDED,
    EXTENSION_GRANTED,
    EXTENSION_REFUSED,
    GOALS_SET,
    HANDOVER_REQUESTED,
    MEASURES_RECORDED,
    REASSIGNMENT_REQUESTED,
    REFERRAL_RECEIVED,
    REFERRAL_WITHDRAWN,
    SESSION_RECORDED,
)
from signpost_runtime.db import service_migrations
from signpost_runtime.http import build_app, serve
from signpost_runtime.runtime import ServiceDefinition, ServiceRuntime
from signpost_web import mount_static

PUBLISHES = [
    REFERRAL_RECEIVED,
    REFERRAL_WITHDRAWN,
    CONTACT_RECORDED,
    GOALS_SET,
    SESSION_RECORDED,
    EXTENSION_GRANTED,
    EXTENSION_REFUSED,
    MEASURES_RECORDED,
    CASE_CLOSED,
    HANDOVER_REQUESTED,
    REASSIGNMENT_REQUESTED,
]


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()

    async def warn_about_development_defaults(runtime: ServiceRuntime) -> None:
        # At start, once logging is set up: every line the service logs is JSON.
        settings.warn_about_development_defaults()

    definition = ServiceDefinition(
        settings=settings,
        migrations=service_migrations(Path(__file__).resolve().parent),
        consumes=[Stream.TRIAGE],
        publishes=PUBLISHES,
        handlers=event_handlers,
        unit=IntakeUnit,
        on_start=[warn_about_development_defaults],
        # Requests need only PostgreSQL: the outbox holds their events until the broker is back.
        ready_needs_broker=False,
    )
    routers = [fhir_router, withdrawal_router, case_router, case_pages.router, case_pages.SESSION.router()]
    app = build_app(
        ServiceRuntime(definition), routers, title="Signpost referral intake (FHIR R4, case API, connector pages)"
    )
    app.state.intake = IntakeService(person_key_secret=settings.person_key_secret.get_secret_value())
    app.state.cases = CaseService()
    app.state.base_url = settings.base_url
    install_error_handlers(app)
    mount_static(app)
    return app


def main() -> None:
    serve(create_app())
