"""Each service's pipeline health, from the newest report of each of its instances (service.pipeline-health.v1).

An instance is *stale* once its newest report is older than STALE_AFTER_REPORTS of its own reporting intervals:
it stopped, or cannot reach the broker. A service's figures add up its fresh instances' lag and dead letters
sent (each instance reads its own partitions and counts its own dead letters); its outbox figures are its
database's, the same from every instance, so they are taken from the newest report, never added. A service
with no fresh instance shows its newest report, marked stale, so the page says when it was last heard from.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

# Three missed reports: one late report (a busy event loop, a broker election) does not mark a service stale.
STALE_AFTER_REPORTS = 3


@dataclass(frozen=True)
class InstanceReport:
    service: str
    instance: str
    as_of: datetime
    every_seconds: float
    outbox_waiting: int
    outbox_parked: int
    dead_letters_sent: int
    dead_letters_parked: int
    lag: dict[tuple[str, str], int] = field(default_factory=dict)  # (group, topic) -> records waiting

    def stale(self, now: datetime) -> bool:
        return now - self.as_of > timedelta(seconds=STALE_AFTER_REPORTS * self.every_seconds)


@dataclass(frozen=True)
class ServiceHealth:
    service: str
    as_of: datetime  # the newest report counted
    stale: bool
    instances: int  # instances counted: the fresh ones, or the newest one when none is fresh
    outbox_waiting: int
    outbox_parked: int
    dead_letters_sent: int
    dead_letters_parked: int
    lag: dict[tuple[str, str], int]

    @property
    def consumer_lag(self) -> int:
        return sum(self.lag.values())


def service_health(reports: Iterable[InstanceReport], now: datetime) -> list[ServiceHealth]:
    """One row per service that has ever reported, by service name."""
    by_service: dict[str, list[InstanceReport]] = {}
    for report in reports:
        by_service.setdefault(report.service, []).append(report)
    return [_one_service(name, by_service[name], now) for name in sorted(by_service)]


def _one_service(name: str, reports: list[InstanceReport], now: datetime) -> ServiceHealth:
    newest = max(reports, key=lambda r: r.as_of)
    counted = [r for r in reports if not r.stale(now)] or [newest]
    lag: dict[tuple[str, str], int] = {}
    for report in counted:
        for key, waiting in report.lag.items():
            lag[key] = lag.get(key, 0) + waiting
    return ServiceHealth(
        service=name,
        as_of=newest.as_of,
        stale=newest.stale(now),
        instances=len(counted),
        outbox_waiting=newest.outbox_waiting,
        outbox_parked=newest.outbox_parked,
        dead_letters_sent=sum(r.dead_letters_sent for r in counted),
        dead_letters_parked=newest.dead_letters_parked,
        lag=dict(sorted(lag.items())),
    )
