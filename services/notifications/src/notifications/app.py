"""Wiring only: settings, runtime, event handlers, the dispatcher's lifecycle, HTTP routes."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from notifications.adapters.smtp import SmtpSender
from notifications.adapters.templates import EmailTemplates
from notifications.config import NotificationsSettings
from notifications.dispatcher import Dispatcher
from notifications.domain.retry import RetryPolicy
from notifications.handlers import event_handlers
from notifications.routes import router
from notifications.service import Notifier
from signpost_contracts import Stream
from signpost_contracts.registry import NOTIFICATION_FAILED, NOTIFICATION_SENT
from signpost_runtime.consumer import EventHandler
from signpost_runtime.db import service_migrations
from signpost_runtime.http import build_app, serve
from signpost_runtime.runtime import ServiceDefinition, ServiceRuntime


class DispatcherLifecycle:
    """Starts the dispatcher with the runtime and stops it, then publishes what it wrote, on shutdown."""

    def __init__(self, settings: NotificationsSettings) -> None:
        self.settings = settings
        self.dispatcher: Dispatcher | None = None

    async def start(self, runtime: ServiceRuntime) -> None:
        settings = self.settings
        policy = RetryPolicy(
            settings.delivery_max_attempts,
            settings.delivery_retry_backoff_seconds,
            settings.delivery_retry_backoff_max_seconds,
        )
        self.dispatcher = Dispatcher(
            runtime.pool,
            SmtpSender(settings),
            runtime.outbox,
            policy,
            database_url=settings.database_url,
            message_id_domain=settings.message_id_domain,
            batch_size=settings.dispatcher_batch_size,
            lease_seconds=settings.dispatcher_lease_seconds,
            poll_seconds=settings.dispatcher_poll_seconds,
        )
        self.dispatcher.start()
        runtime.add_liveness_check("delivery_dispatcher", self._dispatcher_health)

    def _dispatcher_health(self) -> str:
        if self.dispatcher is None:
            return "dispatcher is not running"
        return self.dispatcher.problem(self.settings.liveness_stall_seconds) or "ok"

    async def stop(self, runtime: ServiceRuntime) -> None:
        if self.dispatcher is None:
            return
        # The runtime flushes its outbox after stop hooks, so events from sends finishing now are published.
        await self.dispatcher.stop()


def create_app(settings: NotificationsSettings | None = None) -> FastAPI:
    settings = settings or NotificationsSettings()
    templates = EmailTemplates()
    dispatcher = DispatcherLifecycle(settings)

    def handlers(runtime: ServiceRuntime) -> dict[str, EventHandler]:
        return event_handlers(Notifier(runtime.outbox, templates))

    definition = ServiceDefinition(
        settings=settings,
        migrations=service_migrations(Path(__file__).resolve().parent),
        consumes=[Stream.REFERRALS, Stream.TRIAGE],
        publishes=[NOTIFICATION_SENT, NOTIFICATION_FAILED],
        handlers=handlers,
        on_start=[dispatcher.start],
        on_stop=[dispatcher.stop],
    )
    app = build_app(ServiceRuntime(definition), [router], title="Signpost notifications")
    app.state.dispatcher = dispatcher
    return app


def main() -> None:
    serve(create_app())
