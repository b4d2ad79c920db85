"""The projection in PostgreSQL: fact upserts, derived status, and counts computed in SQL, on a unit's connection."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any

import asyncpg

from reporting.domain.facts import NotificationOutcome
from reporting.domain.status import Decision, Status
from signpost_contracts.events.notifications import UrgentSettled, UrgentUnconfirmed

# Every column a fact may write. Column names reach the SQL text, so they must come from here.
_FACT_COLUMNS = frozenset(
    {
        "received_at",
        "channel",
        "priority",
        "age_band",
        "postcode_district",
        "needs",
        "referrer_kind",
        "referrer_ods_code",
        "decided_at",
        "outcome",
        "complexity",
        "assigned_at",
        "connector_kind",
        "waitlisted_at",
        "closed_at",
        "closure",
        "sessions_used",
        "withdrawn_at",
        "linked_at",
        "imd_decile",
        "fired_rules",
        "redirect_urgent",
        "area",
        "stalled_after_days",
        "connector_since",
        "waitlist_area",
        "first_reached_at",
        "unreachable_at",
        "last_session_at",
    }
)
# Columns more than one event may set, merged so that arrival order does not matter: the earliest first
# contact, the latest session, and the connector's (kind, since) with the latest connector_since.
_EARLIEST = frozenset({"first_reached_at"})
_LATEST = frozenset({"last_session_at"})
_CONNECTOR = frozenset({"connector_kind", "connector_since"})
# Shared with the dashboard's period views (dashboard_store), over `notification_facts n` / `urgent_alert_facts u`.
# A notification that failed and was later sent (a replayed dead letter) counts as sent only: the rule the
# summary's notification_tallies keep too (migration 0006; tests/reporting/test_running_tallies.py compares).
NOTIFICATION_COUNTS = (
    "count(*) FILTER (WHERE n.sent_at IS NOT NULL) AS sent,"
    " count(*) FILTER (WHERE n.sent_at IS NULL AND n.failed_at IS NOT NULL) AS failed"
)
# Urgent messages not yet confirmed delivered nor acknowledged by staff.
URGENT_COUNTS = (
    "count(*) FILTER (WHERE u.settled_at IS NULL) AS unconfirmed,"
    " min(u.raised_at) FILTER (WHERE u.settled_at IS NULL) AS oldest_raised_at,"
    " coalesce(max(u.escalations) FILTER (WHERE u.settled_at IS NULL), 0) AS most_escalations"
)


def _merge(column: str) -> str:
    if column in _EARLIEST:
        return f"{column} = LEAST(referral_facts.{column}, EXCLUDED.{column})"
    if column in _LATEST:
        return f"{column} = GREATEST(referral_facts.{column}, EXCLUDED.{column})"
    if column in _CONNECTOR:
        # In an UPDATE every referral_facts.* is the row before it, so connector_since compares with the old value.
        newer = "referral_facts.connector_since IS NULL OR EXCLUDED.connector_since >= referral_facts.connector_since"
        return f"{column} = CASE WHEN {newer} THEN EXCLUDED.{column} ELSE referral_facts.{column} END"
    return f"{column} = EXCLUDED.{column}"


def _sql_value(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    return list(value) if isinstance(value, tuple) else value


class ProjectionStore:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def upsert_referral_fields(self, referral_id: str, fields: Mapping[str, Any]) -> asyncpg.Record:
        """Set only these fields, creating the row if this is the first fact; return the row as it now stands.

        The upsert row-locks the referral until the transaction ends, so two consumers applying facts
        for one referral at once are serialised and the second sees the first one's facts.
        """
        unknown = set(fields) - _FACT_COLUMNS
        if unknown:
            raise ValueError(f"not a projection column: {sorted(unknown)}")
        names = sorted(fields)
        placeholders = ", ".join(f"${index}" for index in range(2, len(names) + 2))
        updates = ", ".join(_merge(name) for name in names)
        sql = (
            f"INSERT INTO referral_facts (referral_id, {', '.join(names)}) VALUES ($1, {placeholders}) "
            f"ON CONFLICT (referral_id) DO UPDATE SET {updates}, updated_at = now() RETURNING *"
        )
        row: asyncpg.Record = await self.connection.fetchrow(
            sql, referral_id, *(_sql_value(fields[name]) for name in names)
        )
        return row

    async def set_derived(self, referral_id: str, status: Status, decision: Decision | None) -> None:
        await self.connection.execute(
            "UPDATE referral_facts SET status = $2, decision = $3 WHERE referral_id = $1",
            referral_id,
            status.value,
            decision.value if decision else None,
        )

    async def upsert_notification(self, outcome: NotificationOutcome) -> None:
        moment = "sent_at" if outcome.succeeded else "failed_at"
        await self.connection.execute(
            "INSERT INTO notification_facts"
            f" (notification_id, referral_id, channel, about_event_type, attempts, {moment})"
            " VALUES ($1, $2, $3, $4, $5, $6)"
            " ON CONFLICT (notification_id) DO UPDATE SET"
            f" {moment} = EXCLUDED.{moment},"
            " attempts = GREATEST(notification_facts.attempts, EXCLUDED.attempts),"
            " updated_at = now()",
            outcome.notification_id,
            outcome.referral_id,
            outcome.channel,
            outcome.about_event_type,
            outcome.attempts,
            outcome.at,
        )

    async def upsert_urgent_unconfirmed(self, event: UrgentUnconfirmed) -> None:
        await self.connection.execute(
            "INSERT INTO urgent_alert_facts (outcome_event_id, referral_id, raised_at, escalations)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT (outcome_event_id) DO UPDATE SET"
            " escalations = GREATEST(urgent_alert_facts.escalations, EXCLUDED.escalations), updated_at = now()",
            event.outcome_event_id,
            event.referral_id,
            event.raised_at,
            event.escalations,
        )

    async def settle_urgent(self, event: UrgentSettled) -> None:
        # Settled before its raise is projected (a replay from a later offset): raised_at is then the settling time.
        await self.connection.execute(
            "INSERT INTO urgent_alert_facts (outcome_event_id, referral_id, raised_at, settled_at, settled_how)"
            " VALUES ($1, $2, $3, $3, $4) ON CONFLICT (outcome_event_id) DO UPDATE SET"
            " settled_at = coalesce(urgent_alert_facts.settled_at, EXCLUDED.settled_at),"
            " settled_how = coalesce(urgent_alert_facts.settled_how, EXCLUDED.settled_how), updated_at = now()",
            event.outcome_event_id,
            event.referral_id,
            event.settled_at,
            event.how,
        )

    async def urgent_totals(self) -> asyncpg.Record:
        # Only the open alerts, through their partial index: settled ones are the great majority and never counted.
        row: asyncpg.Record = await self.connection.fetchrow(
            f"SELECT {URGENT_COUNTS} FROM urgent_alert_facts u WHERE u.settled_at IS NULL"
        )
        return row

    # The whole-projection counts below read the running tallies (migration 0006), which triggers keep
    # in the same transaction as each fact: a scan of every referral on every request would not answer
    # in time with a million of them, and the tallies always equal that scan (tests/reporting checks).

    async def referral_totals(self) -> asyncpg.Record:
        row: asyncpg.Record = await self.connection.fetchrow(
            "SELECT coalesce(sum(referrals), 0)::bigint AS total,"
            " coalesce(sum(referrals) FILTER (WHERE NOT received), 0)::bigint AS awaiting_receipt"
            " FROM referral_tallies"
        )
        return row

    async def counts_by(self, column: str) -> dict[str, int]:
        if column not in {"status", "decision"}:
            raise ValueError(f"cannot count by {column!r}")
        rows = await self.connection.fetch(
            f"SELECT {column} AS value, sum(referrals)::bigint AS n FROM referral_tallies"
            f" WHERE {column} IS NOT NULL GROUP BY {column} HAVING sum(referrals) > 0"
        )
        return {row["value"]: row["n"] for row in rows}

    async def notification_totals(self) -> asyncpg.Record:
        # A notification that failed and was later sent (a replayed dead letter) counts as sent only.
        row: asyncpg.Record = await self.connection.fetchrow(
            "SELECT coalesce(sum(sent), 0)::bigint AS sent, coalesce(sum(failed), 0)::bigint AS failed"
            " FROM notification_tallies"
        )
        return row

    async def counts_by_referrer(self, limit: int) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await self.connection.fetch(
            "SELECT referrer_ods_code AS ods_code, sum(referrals)::bigint AS referrals,"
            " coalesce(sum(referrals) FILTER (WHERE decision = 'declined'), 0)::bigint AS declined"
            " FROM referral_tallies GROUP BY referrer_ods_code HAVING sum(referrals) > 0"
            " ORDER BY referrals DESC, referrer_ods_code NULLS LAST LIMIT $1",
            limit,
        )
        return rows
