"""Wiring only: settings, runtime (pool, migrations, consumer, outbox relay), HTTP app, error handlers."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from referral_intake.adapters.fhir_http import install_error_handlers
from referral_intake.config import IntakeSettings
from referral_intake.handlers import event_handlers
from referral_intake.routes import router
from referral_intake.service import IntakeService
from referral_intake.unit import IntakeUnit
from signpost_contracts import Stream
from signpost_contracts.registry import REFERRAL_RECEIVED
from signpost_runtime.db import service_migrations
from signpost_runtime.http import build_app, serve
from signpost_runtime.runtime import ServiceDefinition, ServiceRuntime


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()

    definition = ServiceDefinition(
        settings=settings,
        migrations=service_migrations(Path(__file__).resolve().parent),
        consumes=[Stream.TRIAGE],
        publishes=[REFERRAL_RECEIVED],
        handlers=event_handlers,
        unit=IntakeUnit,
        # POST needs only PostgreSQL: the outbox holds referral.received until the broker is back.
        ready_needs_broker=False,
    )
    app = build_app(ServiceRuntime(definition), [router], title="Signpost referral intake (FHIR R4)")
    app.state.intake = IntakeService()
    app.state.base_url = settings.base_url
    install_error_handlers(app)
    return app


def main() -> None:
    serve(create_app())
