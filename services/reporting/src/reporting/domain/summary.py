"""The numbers the dashboard and /api/summary show."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from reporting.domain.cases import CaseSummary
from reporting.domain.status import Decision, Status


@dataclass(frozen=True)
class ReferrerCounts:
    ods_code: str | None  # None: a self-referral, or the receipt is not projected yet
    referrals: int
    declined: int


@dataclass(frozen=True)
class Summary:
    generated_at: datetime
    total_referrals: int
    # Counted in the total and in their status, but their receipt has not reached reporting yet.
    awaiting_receipt: int
    by_status: dict[Status, int]
    by_decision: dict[Decision, int]
    notifications_sent: int
    notifications_failed: int
    by_referrer: list[ReferrerCounts]
    cases: CaseSummary
    urgent: UrgentCounts


@dataclass(frozen=True)
class UrgentCounts:
    """Urgent messages not yet known to have reached their referrer: notifications' GET /urgent lists them."""

    unconfirmed: int
    oldest_raised_at: datetime | None
    most_escalations: int


def zero_filled_statuses(counts: Mapping[str, int]) -> dict[Status, int]:
    """Every status appears, so a reader never mistakes a missing key for a zero."""
    return {status: counts.get(status.value, 0) for status in Status}


def zero_filled_decisions(counts: Mapping[str, int]) -> dict[Decision, int]:
    return {decision: counts.get(decision.value, 0) for decision in Decision}
