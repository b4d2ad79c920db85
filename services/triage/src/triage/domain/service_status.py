"""Who the service is for and whether it has room, as referrers are told it (HealthcareService, /who-we-help).

Capacity, in the Gravity SDOH Clinical Care IG's terms (SDOHCC-ValueSetCapacityStatus):
- `capacity`: some connector taking new work has a free place, so a referral may be assigned at once
  (in its district, if a connector covering it has room: the figure is for the whole service);
- `waitlist`: no free place, but connectors are taking work, so an accepted referral waits for one;
- `no-capacity`: no connector is taking new work at all (every one on leave, gone, or at nil capacity).
The typical wait is the median wait of the people placed from the waiting list in the last 90 days.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from triage.domain.policy import Policy

Capacity = Literal["capacity", "no-capacity", "waitlist"]
TYPICAL_WAIT_WINDOW_DAYS = 90


@dataclass(frozen=True)
class CapacityFigures:
    connectors_taking_work: int
    places_free: int
    waiting: int
    typical_wait_days: float | None


@dataclass(frozen=True)
class ServiceStatusView:
    policy_version: str
    area_name: str
    postcode_prefixes: tuple[str, ...]
    age_minimum: int
    age_maximum: int | None
    cohorts: tuple[str, ...]
    exclusions: tuple[str, ...]
    capacity: Capacity
    places_free: int
    waiting: int
    typical_wait_days: float | None


def capacity_of(figures: CapacityFigures) -> Capacity:
    if figures.places_free > 0:
        return "capacity"
    return "waitlist" if figures.connectors_taking_work > 0 else "no-capacity"


def service_status(policy: Policy, figures: CapacityFigures) -> ServiceStatusView:
    wait = figures.typical_wait_days
    return ServiceStatusView(
        policy_version=policy.version,
        area_name=policy.service_area.name,
        postcode_prefixes=tuple(policy.service_area.postcode_prefixes),
        age_minimum=policy.age.minimum,
        age_maximum=policy.age.maximum,
        cohorts=tuple(cohort.description for cohort in policy.cohorts),
        exclusions=tuple(rule.reason for rule in policy.decline_rules),
        capacity=capacity_of(figures),
        places_free=figures.places_free,
        waiting=figures.waiting,
        # Rounded to a tenth of a day: the status is republished when it changes, not every few seconds.
        typical_wait_days=None if wait is None else round(wait, 1),
    )
