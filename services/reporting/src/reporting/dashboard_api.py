"""GET /api/dashboard: the operations dashboard's views for a period and filters, as JSON.

Bearer header only, with the reporting:read scope, as /api/summary. The HTML dashboard at `/` shows the
same figures (reporting.pages). What each view counts is in reporting.domain.dashboard.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from reporting.domain.caseloads import LoadState
from reporting.domain.dashboard import MAX_PERIOD_DAYS, Dashboard, Filters, default_period, period_error
from reporting.domain.pipeline_health import STALE_AFTER_REPORTS, ServiceHealth
from reporting.exports import IsoDate
from reporting.routes import ReportingReader, UrgentCountsRow
from reporting.service import dashboard
from signpost_contracts.events.referrals import ChannelV2
from signpost_contracts.vocabulary import ConnectorKind, ReferrerKind
from signpost_runtime.openapi import problem_responses
from signpost_runtime.problems import Problem

router = APIRouter(prefix="/api", tags=["reporting"])

AREA_PATTERN = r"^[A-Za-z]{1,2}[0-9][A-Za-z0-9]?$"


class PeriodRow(BaseModel):
    from_: date = Field(alias="from", description="first day of receipt (UTC), inclusive")
    to: date = Field(description="last day of receipt (UTC), inclusive")


class FiltersRow(BaseModel):
    area: str | None = Field(description="the person's postcode district; null: every area")
    route: str | None = Field(description="the route in (channel); null: every route")
    referrer_kind: str | None = Field(description="null: every kind of referrer")


class FunnelRow(BaseModel):
    received: int = Field(description="referrals received in the period that match the filters")
    triaged: int = Field(description="of those, with a triage decision")
    assigned_or_waiting: int = Field(description="given a connector, or a place on the waitlist")
    assigned: int = Field(description="given a connector (from the waitlist too)")
    waiting: int = Field(description="on the waitlist now")
    first_contact: int = Field(description="the person was reached: support started")
    closed: int


class DayRow(BaseModel):
    day: date
    total: int
    by_route: dict[str, int] = Field(description="every route in `routes`, zero included")


class WaitRow(BaseModel):
    n: int = Field(description="referrals that reached the later milestone")
    median_days: float | None = Field(description="null when n is 0")
    p90_days: float | None = Field(description="90th percentile (linear interpolation); null when n is 0")


class WaitsRow(BaseModel):
    received_to_assigned: WaitRow
    assigned_to_first_contact: WaitRow


class WaitlistRow(BaseModel):
    area: str | None = Field(description="the waitlist's area; null when none was given")
    waiting: int
    oldest_waitlisted_at: datetime
    oldest_wait_days: float = Field(description="days the longest-waiting one has waited, at generated_at")


class CaseFlagsRow(BaseModel):
    open: int = Field(description="assigned a connector and not ended")
    stalled: int = Field(description="open, and no session for the case terms' stalled_after_days")
    could_not_contact: int = Field(description="open, and the limit of unanswered contact attempts was reached")


class ReferrerDeclinesRow(BaseModel):
    ods_code: str | None = Field(description="null: self-referrals and referrers without an ODS code")
    declined: int
    redirected: int
    declined_because: dict[str, int] = Field(description="fired rule id -> referrals it declined")
    redirected_because: dict[str, int] = Field(description="fired rule id -> referrals it redirected")


class NotificationsRow(BaseModel):
    sent: int
    failed: int = Field(description="gave up after retries and not sent since")


class CaseloadRow(BaseModel):
    connector_id: str = Field(description="the connector's roster id")
    kind: ConnectorKind
    capacity: int = Field(description="most open cases at once")
    open_cases: int = Field(description="cases assigned and not yet ended")
    taking_new_work: bool = Field(description="false: on leave, left or out of the roster; their cases need moving")
    state: LoadState = Field(description="over-capacity: open cases above capacity; full: at capacity; room: below")
    as_of: datetime = Field(description="when triage read these figures")


class ReportingItselfRow(BaseModel):
    last_event_applied_at: datetime | None = Field(
        description="when reporting last applied an event from any stream (not filtered); null before the first."
        " Each service's consumer lag, dead letters and parked outbox rows are in `pipeline_health`"
    )


class ConsumerLagRow(BaseModel):
    group: str = Field(description="the Kafka consumer group")
    topic: str
    lag: int = Field(description="records waiting, summed over the instances counted")


class PipelineHealthRow(BaseModel):
    service: str
    as_of: datetime = Field(description="when the newest report counted was read")
    stale: bool = Field(
        description=f"true: no instance has reported for {STALE_AFTER_REPORTS} of its reporting intervals (stopped,"
        " or cannot reach the broker); the figures are its newest report's"
    )
    instances: int = Field(description="instances counted: those reporting, or the newest one when none is")
    outbox_waiting: int = Field(description="outbox rows waiting to be published (the service's database)")
    outbox_parked: int = Field(description="outbox rows the broker refused for good; see `signpost-outbox list`")
    dead_letters_sent: int = Field(description="messages dead-lettered since each counted instance started")
    dead_letters_parked: int = Field(
        description="dead-letter copies too large for their topic, parked in the outbox (of outbox_parked)"
    )
    consumer_lag: int = Field(description="records waiting on every topic the service consumes")
    consumers: list[ConsumerLagRow] = Field(description="lag per consumer group and topic")


class DashboardResponse(BaseModel):
    generated_at: datetime = Field(description="the moment 'now' in every view (waiting, stalled, unconfirmed)")
    period: PeriodRow
    filters: FiltersRow
    funnel: FunnelRow
    routes: list[str] = Field(description="routes with arrivals in the period, in the order of by_route")
    arrivals: list[DayRow] = Field(description="one row per day of the period, zero-filled")
    decisions: dict[str, int] = Field(description="accepted, declined, redirected and undecided, zero included")
    waits: WaitsRow
    waitlist: list[WaitlistRow] = Field(description="waiting now, by area, longest wait first")
    cases: CaseFlagsRow
    referrers: list[ReferrerDeclinesRow] = Field(description="referrers with declines or redirects, most first")
    urgent: UrgentCountsRow
    notifications: NotificationsRow
    reporting: ReportingItselfRow = Field(description="what reporting can say about its own data")
    caseloads: list[CaseloadRow] = Field(
        description="every connector triage has announced, paid first, as it last announced them: current figures,"
        " so neither the period nor the filters apply; empty until triage's first roster.caseloads.v1"
    )
    pipeline_health: list[PipelineHealthRow] = Field(
        description="each service that has reported its pipeline (service.pipeline-health.v1), by name: current"
        " figures, so neither the period nor the filters apply"
    )

    @classmethod
    def of(cls, figures: Dashboard) -> DashboardResponse:
        f = figures
        waits = {name: WaitRow(n=w.n, median_days=w.median_days, p90_days=w.p90_days) for name, w in f.waits.items()}
        return cls(
            generated_at=f.generated_at,
            period=PeriodRow.model_validate({"from": f.start, "to": f.end}),
            filters=FiltersRow(area=f.filters.area, route=f.filters.route, referrer_kind=f.filters.referrer_kind),
            funnel=FunnelRow(**vars(f.funnel)),
            routes=f.routes,
            arrivals=[DayRow(day=d.day, total=d.total, by_route=d.by_route) for d in f.arrivals],
            decisions=f.decisions,
            waits=WaitsRow(**waits),
            waitlist=[WaitlistRow(**vars(row)) for row in f.waitlist],
            cases=CaseFlagsRow(**vars(f.cases)),
            referrers=[ReferrerDeclinesRow(**vars(row)) for row in f.referrers],
            urgent=UrgentCountsRow(
                unconfirmed=f.urgent.unconfirmed,
                oldest_raised_at=f.urgent.oldest_raised_at,
                most_escalations=f.urgent.most_escalations,
            ),
            notifications=NotificationsRow(sent=f.notifications_sent, failed=f.notifications_failed),
            reporting=ReportingItselfRow(last_event_applied_at=f.last_event_applied_at),
            caseloads=[CaseloadRow(**vars(load), state=load.state) for load in f.caseloads],
            pipeline_health=[_health_row(health) for health in f.pipeline_health],
        )


def _health_row(health: ServiceHealth) -> PipelineHealthRow:
    consumers = [ConsumerLagRow(group=group, topic=topic, lag=lag) for (group, topic), lag in health.lag.items()]
    fields = {name: value for name, value in vars(health).items() if name != "lag"}
    return PipelineHealthRow(**fields, consumer_lag=health.consumer_lag, consumers=consumers)


async def current_dashboard(request: Request, start: date, end: date, filters: Filters) -> Dashboard:
    async with request.app.state.runtime.unit_of_work(isolation="repeatable_read", readonly=True) as unit:
        return await dashboard(unit, start, end, filters, now=datetime.now(UTC))


def checked_period(start: date | None, end: date | None) -> tuple[date, date]:
    """The period asked for (`end` defaults to today, `start` to four weeks before `end`); a 422 if it cannot be
    answered."""
    end = end or datetime.now(UTC).date()
    start = start or default_period(end)[0]
    if error := period_error(start, end, max_days=MAX_PERIOD_DAYS):
        raise Problem(422, error)
    return start, end


@router.get("/dashboard", response_model=DashboardResponse, responses=problem_responses(400, 401, 403, 422, 503))
async def dashboard_figures(
    request: Request,
    _: ReportingReader,
    start: Annotated[
        date | None,
        IsoDate,
        Query(alias="from", description="first day of receipt (UTC), inclusive; default 27 days before `to`"),
    ] = None,
    end: Annotated[
        date | None,
        IsoDate,
        Query(alias="to", description=f"last day (UTC), inclusive; default today; at most {MAX_PERIOD_DAYS} days"),
    ] = None,
    area: Annotated[
        str | None, Query(pattern=AREA_PATTERN, description="a postcode district (outward code), e.g. LS6")
    ] = None,
    route: Annotated[ChannelV2 | None, Query(description="the route the referral came in by")] = None,
    referrer_kind: Annotated[ReferrerKind | None, Query(description="the kind of referrer")] = None,
) -> DashboardResponse:
    """Funnel, arrivals by day and route, decision mix, waits (median, 90th percentile), the waitlist by area,
    stalled and could-not-contact cases, declines and redirects by referrer with the rules that fired,
    urgent messages unconfirmed and notification failures: all for the referrals received in the period
    that match the filters. Then each connector's caseload against capacity, as triage last announced it
    (current, not filtered), and each service's pipeline health: outbox, dead letters and consumer lag from
    its instances' newest reports (current, not filtered). A period that ends before it starts, or is too
    long, is a 422 problem."""
    start, end = checked_period(start, end)
    filters = Filters(area=area.upper() if area else None, route=route, referrer_kind=referrer_kind)
    return DashboardResponse.of(await current_dashboard(request, start, end, filters))
