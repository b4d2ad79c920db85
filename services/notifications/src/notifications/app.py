"""Wiring only: settings, runtime, event handlers, the background workers' lifecycle, HTTP routes."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from notifications.config import NotificationsSettings
from notifications.dispatcher import Dispatcher
from notifications.domain.retry import ProviderOutage, RetryPolicy
from notifications.followup import FollowUp
from notifications.handlers import event_handlers
from notifications.providers import Providers
from notifications.routes import router
from notifications.unit import NotificationsUnit
from notifications.watch import AwaitingReferralWatch
from signpost_contracts import Stream
from signpost_contracts.registry import NOTIFICATION_FAILED, NOTIFICATION_SENT, URGENT_SETTLED, URGENT_UNCONFIRMED
from signpost_runtime.consumer import EventHandler
from signpost_runtime.db import service_migrations
from signpost_runtime.http import build_app, serve
from signpost_runtime.runtime import ServiceDefinition, ServiceRuntime


def build_dispatcher(
    runtime: ServiceRuntime, settings: NotificationsSettings, providers: Providers | None = None
) -> Dispatcher:
    """One delivery dispatcher on the runtime's database (each replica of the service runs one)."""
    providers = providers or Providers.from_settings(settings)
    return Dispatcher(
        runtime.units(NotificationsUnit),
        providers.senders,
        RetryPolicy(
            settings.delivery_max_attempts,
            settings.delivery_retry_backoff_seconds,
            settings.delivery_retry_backoff_max_seconds,
            settings.delivery_max_unrecorded_claims,
        ),
        lambda: ProviderOutage(settings.smtp_outage_backoff_seconds, settings.smtp_outage_backoff_max_seconds),
        receipts=providers.receipts,
        notifier=providers.notifier,
        database_url=settings.database_url,
        message_id_domain=settings.message_id_domain,
        batch_size=settings.dispatcher_batch_size,
        lease_seconds=settings.dispatcher_lease_seconds,
        poll_seconds=settings.dispatcher_poll_seconds,
    )


class DeliveryWorkers:
    """Starts the dispatcher, the follow-up (receipts, urgent escalation) and the awaiting-referral watch
    with the runtime, and stops them on shutdown."""

    def __init__(self, settings: NotificationsSettings, providers: Providers) -> None:
        self.settings = settings
        self.providers = providers
        self.dispatcher: Dispatcher | None = None
        self.follow_up: FollowUp | None = None
        self.watch: AwaitingReferralWatch | None = None

    async def start(self, runtime: ServiceRuntime) -> None:
        self.dispatcher = build_dispatcher(runtime, self.settings, self.providers)
        self.dispatcher.start()
        self.follow_up = FollowUp(
            runtime.units(NotificationsUnit),
            self.providers.notifier,
            self.providers.receipts,
            every_seconds=self.settings.follow_up_every_seconds,
            receipt_every_seconds=self.settings.receipt_poll_seconds,
            receipt_give_up_seconds=self.settings.receipt_give_up_seconds,
        )
        self.follow_up.start()
        runtime.add_liveness_check("delivery_dispatcher", self._dispatcher_health)
        self.watch = AwaitingReferralWatch(
            runtime.units(NotificationsUnit),
            longer_than_seconds=self.settings.outcome_awaiting_referral_alert_seconds,
            every_seconds=self.settings.awaiting_referral_check_seconds,
        )
        self.watch.start()

    def _dispatcher_health(self) -> str:
        if self.dispatcher is None:
            return "dispatcher is not running"
        return self.dispatcher.problem(self.settings.liveness_stall_seconds) or "ok"

    async def stop(self, runtime: ServiceRuntime) -> None:
        if self.watch is not None:
            await self.watch.stop()
        if self.follow_up is not None:
            await self.follow_up.stop()
        if self.dispatcher is not None:
            # The runtime flushes its outbox after stop hooks, so events from sends finishing now are published.
            await self.dispatcher.stop()
        await self.providers.aclose()


def create_app(settings: NotificationsSettings | None = None) -> FastAPI:
    settings = settings or NotificationsSettings()
    providers = Providers.from_settings(settings)
    workers = DeliveryWorkers(settings, providers)

    def handlers(runtime: ServiceRuntime) -> dict[str, EventHandler]:
        return event_handlers(providers.notifier, settings)

    definition = ServiceDefinition(
        settings=settings,
        migrations=service_migrations(Path(__file__).resolve().parent),
        consumes=[Stream.REFERRALS, Stream.TRIAGE, Stream.CONTACTS],
        publishes=[NOTIFICATION_SENT, NOTIFICATION_FAILED, URGENT_UNCONFIRMED, URGENT_SETTLED],
        handlers=handlers,
        unit=NotificationsUnit,
        on_start=[workers.start],
        on_stop=[workers.stop],
    )
    app = build_app(ServiceRuntime(definition), [router], title="Signpost notifications")
    app.state.workers = workers
    return app


def main() -> None:
    serve(create_app())
