"""Wiring only: settings, runtime (pool, migrations, consumer, outbox relay), HTTP app, error handlers."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI

from referral_intake import directory_page
from referral_intake.adapters.deprivation import DeprivationLookup
from referral_intake.adapters.fhir_http import install_error_handlers
from referral_intake.adapters.partners_file import load_partners
from referral_intake.bars.headers import EchoBarsHeaders
from referral_intake.bars.routes import router as bars_router
from referral_intake.case_service import CaseService
from referral_intake.cases import pages as case_pages
from referral_intake.cases.access_log import router as access_log_router
from referral_intake.cases.routes import router as case_router
from referral_intake.config import IntakeSettings
from referral_intake.erasure.routes import router as erasure_router
from referral_intake.erasure_service import ErasureService
from referral_intake.fhir.directory import router as directory_router
from referral_intake.fhir.routes import router as fhir_router
from referral_intake.fhir.search import router as search_router
from referral_intake.fhir.withdrawal import router as withdrawal_router
from referral_intake.forms import pages as form_pages
from referral_intake.forms.abuse import RateLimiter
from referral_intake.handlers import event_handlers
from referral_intake.inbound.handler import inbound_handler
from referral_intake.inbound.producers import load_producers
from referral_intake.inbound.receive import InboundIntake
from referral_intake.retention import RetentionPurge
from referral_intake.service import IntakeService
from referral_intake.staff_session import SESSION
from referral_intake.task_index import index_unindexed
from referral_intake.unit import IntakeUnit
from signpost_contracts import Stream
from signpost_contracts.registry import (
    CASE_CLOSED,
    CONTACT_RECORDED,
    EXTENSION_GRANTED,
    EXTENSION_REFUSED,
    GOALS_SET,
    HANDOVER_REQUESTED,
    INBOUND_ACCEPTED,
    INBOUND_REFUSED,
    MEASURES_RECORDED,
    PERSON_CONTACT,
    PERSON_CONTACT_ERASED,
    REASSIGNMENT_REQUESTED,
    REFERRAL_ERASED,
    REFERRAL_RECEIVED_V2,
    REFERRAL_WITHDRAWN,
    SESSION_RECORDED,
)
from signpost_runtime.consumer import EventHandler
from signpost_runtime.db import service_migrations
from signpost_runtime.http import build_app, serve
from signpost_runtime.runtime import ExternalTopic, ServiceDefinition, ServiceRuntime
from signpost_web import mount_static

log = logging.getLogger(__name__)

PUBLISHES = [
    REFERRAL_RECEIVED_V2,
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
    REFERRAL_ERASED,
    PERSON_CONTACT,
    PERSON_CONTACT_ERASED,
    INBOUND_ACCEPTED,
    INBOUND_REFUSED,
]


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    # Read and checked now, so that a wrong partner register stops the service at start, saying what is wrong.
    partners = load_partners(settings.partners_file)
    deprivation = (
        DeprivationLookup.from_files(settings.imd_postcode_file, settings.imd_deprivation_file)
        if settings.imd_postcode_file is not None and settings.imd_deprivation_file is not None
        else DeprivationLookup.empty()
    )
    intake = IntakeService(
        person_key_secret=settings.person_key_secret.get_secret_value(), partners=partners, deprivation=deprivation
    )

    def inbound(runtime: ServiceRuntime) -> EventHandler:
        # Read at start, so a producers file that cannot be used stops the service with its name and field.
        producers = load_producers(settings.inbound_producers)
        log.info("inbound referrals: %d producer(s) from %s", len(producers.by_source), producers.origin)
        return inbound_handler(InboundIntake(intake, producers, max_json_depth=settings.max_json_depth))

    async def warn_about_development_defaults(runtime: ServiceRuntime) -> None:
        # At start, once logging is set up: every line the service logs is JSON.
        settings.warn_about_development_defaults()

    async def index_unindexed_tasks(runtime: ServiceRuntime) -> None:
        # After the migrations: referrals stored before the task index existed become searchable.
        indexed = await index_unindexed(runtime.units(IntakeUnit))
        if indexed:
            log.info("indexed the Tasks of %d referrals stored before the task index", indexed)

    # Off unless the policy sets a period (RETENTION_DAYS).
    purge = (
        RetentionPurge(settings.retention_days, settings.retention_every_seconds)
        if settings.retention_days is not None
        else None
    )

    definition = ServiceDefinition(
        settings=settings,
        migrations=service_migrations(Path(__file__).resolve().parent),
        consumes=[Stream.TRIAGE],
        publishes=PUBLISHES,
        handlers=event_handlers,
        unit=IntakeUnit,
        on_start=[warn_about_development_defaults, index_unindexed_tasks, *([purge.start] if purge else [])],
        on_stop=[purge.stop] if purge else [],
        # Requests need only PostgreSQL: the outbox holds their events until the broker is back.
        ready_needs_broker=False,
        external=[ExternalTopic(Stream.INBOUND_REFERRALS, "inbound", inbound)],
    )
    routers = [
        fhir_router,
        search_router,
        directory_router,
        withdrawal_router,
        bars_router,
        case_router,
        access_log_router,
        erasure_router,
        case_pages.router,
        form_pages.router,
        SESSION.router(),
        directory_page.router,
    ]
    app = build_app(
        ServiceRuntime(definition),
        routers,
        title="Signpost referral intake (FHIR R4, case API, connector pages, referral forms)",
    )
    app.state.intake = intake
    app.state.form_rate_limiter = RateLimiter(settings.form_rate_limit, settings.form_rate_window_seconds)
    app.state.cases = CaseService()
    app.state.erasure = ErasureService()
    app.state.base_url = settings.base_url
    install_error_handlers(app)
    app.add_middleware(EchoBarsHeaders)
    mount_static(app)
    return app


def main() -> None:
    serve(create_app())
