"""Wiring only: settings, policy and roster files, runtime, routes."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

from fastapi import FastAPI

from signpost_contracts import Stream
from signpost_contracts.registry import (
    HANDOVER_REFUSED,
    REASSIGNMENT_REFUSED,
    REFERRAL_ASSIGNED,
    REFERRAL_ASSIGNED_FROM_WAITLIST,
    REFERRAL_HANDED_OVER,
    REFERRAL_LINKED,
    REFERRAL_REASSIGNED,
    REFERRAL_TRIAGED,
    REFERRAL_WAITLISTED,
    ROSTER_CASELOADS,
    SERVICE_STATUS,
)
from signpost_runtime.db import service_migrations
from signpost_runtime.http import build_app, serve
from signpost_runtime.runtime import ServiceDefinition, ServiceRuntime
from triage.adapters.events import Cause
from triage.adapters.files import ConfigFileError, load_policy, load_roster
from triage.config import TriageSettings
from triage.handlers import event_handlers
from triage.routes import router
from triage.service import TriageService
from triage.status_publisher import ServiceStatusPublisher
from triage.unit import TriageUnit


def create_app(settings: TriageSettings | None = None) -> FastAPI:
    """Build the service; a bad policy or roster file raises ConfigFileError before anything starts."""
    settings = settings or TriageSettings()
    policy = load_policy(settings.policy_file)
    roster = load_roster(settings.roster_file)
    triage = TriageService(policy.value)
    status = ServiceStatusPublisher(policy.value, settings.service_status_every_seconds)

    async def load_roster_into_database(runtime: ServiceRuntime) -> None:
        # As a reload: a connector back from leave or given more room takes waiting people at once.
        async with runtime.units(TriageUnit)() as unit:
            await triage.reload_roster(unit, roster.value, roster.source, Cause(None, f"start-{uuid.uuid4()}"))

    definition = ServiceDefinition(
        settings=settings,
        migrations=service_migrations(Path(__file__).resolve().parent),
        consumes=[Stream.REFERRALS],
        publishes=[
            REFERRAL_TRIAGED,
            REFERRAL_ASSIGNED,
            REFERRAL_WAITLISTED,
            REFERRAL_ASSIGNED_FROM_WAITLIST,
            REFERRAL_HANDED_OVER,
            HANDOVER_REFUSED,
            REFERRAL_REASSIGNED,
            REASSIGNMENT_REFUSED,
            REFERRAL_LINKED,
            SERVICE_STATUS,
            ROSTER_CASELOADS,
        ],
        handlers=lambda runtime: event_handlers(triage),
        unit=TriageUnit,
        on_start=[load_roster_into_database, status.start],
        on_stop=[status.stop],
    )
    app = build_app(ServiceRuntime(definition), [router], title="Signpost triage")
    app.state.policy = policy.value
    app.state.policy_source = policy.source
    app.state.roster_file = settings.roster_file
    app.state.triage = triage
    return app


def main() -> None:
    try:
        app = create_app()
    except ConfigFileError as exc:
        sys.exit(f"triage cannot start: {exc}")
    serve(app)
