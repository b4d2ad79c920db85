"""Fill reporting's projection with synthetic referrals, fast: COPY in batches after reporting's migrations.

The shape follows a busy service over two years: a few hundred referring organisations with a long
tail (a handful of practices send most referrals), twenty postcode districts, the real vocabularies
(routes, referrer kinds, age bands, decisions, closure reasons, ONS answers), and every fact a view
reads: decisions with their fired rules, waits, first contacts, closures with sessions, baseline and
closing measures, notifications and urgent alerts. Each referral's status follows from its facts the
way reporting.domain.status derives it. Nothing here is a real person or organisation.
"""

from __future__ import annotations

import itertools
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, get_args

import asyncpg

from signpost_contracts.events.referrals import AGE_BANDS, ChannelV2
from signpost_contracts.vocabulary import CLOSURE_REASONS, PRIORITIES, OnsLoneliness
from signpost_runtime import db

REFERRAL_COLUMNS = (
    "referral_id", "received_at", "channel", "priority", "age_band", "postcode_district", "needs",
    "referrer_kind", "referrer_ods_code", "decided_at", "outcome", "complexity", "assigned_at",
    "connector_kind", "waitlisted_at", "closed_at", "closure", "sessions_used", "withdrawn_at", "linked_at",
    "imd_decile", "fired_rules", "redirect_urgent", "area", "stalled_after_days", "connector_since",
    "waitlist_area", "first_reached_at", "unreachable_at", "last_session_at", "status", "decision",
)  # fmt: skip
MEASURE_COLUMNS = (
    "referral_id", "stage", "recorded_at", "event_id", "ucla3_total", "ons_loneliness",
    "life_satisfaction", "worthwhile", "happiness", "anxiety",
)  # fmt: skip
NOTIFICATION_COLUMNS = (
    "notification_id", "referral_id", "channel", "about_event_type", "sent_at", "failed_at", "attempts",
)  # fmt: skip
URGENT_COLUMNS = ("outcome_event_id", "referral_id", "raised_at", "escalations", "settled_at", "settled_how")

REFERRERS = 300
DISTRICTS = tuple(f"LS{n}" for n in range(1, 21))
# Triage's areas (the demo roster's), each covering a run of the districts.
AREAS = ("leeds-north", "leeds-city", "leeds-east", "leeds-south")
NEEDS = ("loneliness", "bereavement", "money", "housing", "carer", "mobility", "mental-wellbeing", "digital")
# Rule ids as triage's demo policy names them (services/triage/src/triage/demo/policy.toml).
DECLINE_RULES = ("not-in-cohort", "below-minimum-age", "above-maximum-age", "age-unknown", "under-18")
REDIRECT_RULES = ("mental-health-crisis", "crisis-need", "safeguarding-concern")
NOTE_RULES = ("many-needs", "interpreter-needed", "urgent-priority")
ONS_ANSWERS: tuple[OnsLoneliness, ...] = get_args(OnsLoneliness)
CHANNELS: tuple[ChannelV2, ...] = get_args(ChannelV2)
CHANNEL_WEIGHTS = (55, 20, 10, 5, 7, 3)
REFERRER_KINDS = ("gp", "social-worker", "community-organisation", "other")
REFERRER_KIND_WEIGHTS = (70, 12, 14, 4)
AGE_LABELS = tuple(label for _, _, label in AGE_BANDS)
AGE_WEIGHTS = (1, 5, 8, 9, 11, 14, 20, 20, 12)
DECILE_WEIGHTS = (16, 14, 12, 11, 10, 9, 8, 7, 7, 6)
HISTORY = timedelta(days=730)
BATCH = 50_000
# The first migration that keeps running totals: the fill goes in before it (see fill_then_migrate).
RUNNING_TOTALS = "0006"


@dataclass
class Batch:
    referrals: list[tuple[Any, ...]] = field(default_factory=list)
    measures: list[tuple[Any, ...]] = field(default_factory=list)
    notifications: list[tuple[Any, ...]] = field(default_factory=list)
    urgent: list[tuple[Any, ...]] = field(default_factory=list)


def ods_codes() -> list[str]:
    """Synthetic practice-style codes (a letter, five digits): none is a real organisation's."""
    return [f"Y{10000 + index * 7:05d}" for index in range(REFERRERS)]


def busiest_referrer() -> str:
    """The referrer with the most referrals (the first in the Zipf-like ranking)."""
    return ods_codes()[0]


class Generator:
    def __init__(self, now: datetime, seed: int = 9) -> None:
        self.now = now
        self.rng = random.Random(seed)
        self.codes = ods_codes()
        # Zipf-like: the busiest practice sends about 7% of referrals, the tail a few dozen each.
        self.code_weights = list(itertools.accumulate(1 / (rank + 1) ** 1.05 for rank in range(REFERRERS)))
        self.sequence = itertools.count(1)

    def _pick(self, values: tuple[Any, ...], weights: tuple[int, ...]) -> Any:
        return self.rng.choices(values, weights)[0]

    def batch(self, count: int) -> Batch:
        batch = Batch()
        for _ in range(count):
            self._referral(batch)
        return batch

    def _referral(self, batch: Batch) -> None:
        rng = self.rng
        number = next(self.sequence)
        referral_id = f"bench-{number:08d}"
        # Arrivals grow over the two years (a service building up): later days are busier.
        received = self.now - HISTORY * (1 - rng.random() ** 0.8)
        age_seconds = (self.now - received).total_seconds()
        kind = "self" if rng.random() < 0.08 else self._pick(REFERRER_KINDS, REFERRER_KIND_WEIGHTS)
        ods = None if kind == "self" else rng.choices(self.codes, cum_weights=self.code_weights)[0]
        district_index = rng.randrange(len(DISTRICTS))
        row: dict[str, Any] = dict.fromkeys(REFERRAL_COLUMNS)
        row |= {
            "referral_id": referral_id,
            "received_at": received,
            "channel": "self-referral" if kind == "self" else self._pick(CHANNELS, CHANNEL_WEIGHTS),
            "priority": PRIORITIES[0] if rng.random() < 0.9 else PRIORITIES[1],
            "age_band": self._pick(AGE_LABELS, AGE_WEIGHTS),
            "postcode_district": DISTRICTS[district_index],
            "needs": rng.sample(NEEDS, rng.randint(1, 3)),
            "referrer_kind": kind,
            "referrer_ods_code": ods,
            "imd_decile": None if rng.random() < 0.03 else self._pick(tuple(range(1, 11)), DECILE_WEIGHTS),
            "status": "awaiting-triage",
        }
        area = AREAS[district_index * len(AREAS) // len(DISTRICTS)]
        if age_seconds < 600 and rng.random() < 0.5:
            batch.referrals.append(tuple(row.values()))
            return
        decided = received + timedelta(seconds=rng.uniform(1, 300))
        roll = rng.random()
        outcome = "accepted" if roll < 0.80 else "declined" if roll < 0.94 else "redirected"
        row |= {"decided_at": decided, "outcome": outcome, "decision": outcome, "status": outcome}
        row["complexity"] = self._pick(("low", "medium", "high"), (45, 40, 15))
        notes = [rule for rule in NOTE_RULES if rng.random() < 0.1]
        self._notify(batch, referral_id, "referral.triaged.v1", decided)
        if outcome == "declined":
            row["fired_rules"] = rng.sample(DECLINE_RULES, rng.choice((1, 1, 1, 2))) + notes
        elif outcome == "redirected":
            rule = rng.choice(REDIRECT_RULES)
            row["fired_rules"] = [rule, *notes]
            row["redirect_urgent"] = rule != "crisis-need"
            if row["redirect_urgent"]:
                self._urgent(batch, referral_id, decided)
        else:
            row["fired_rules"] = notes
            self._accepted(batch, row, area)
        batch.referrals.append(tuple(row.values()))

    def _accepted(self, batch: Batch, row: dict[str, Any], area: str) -> None:
        rng, referral_id, decided = self.rng, row["referral_id"], row["decided_at"]
        if rng.random() < 0.015:
            row |= {"linked_at": decided + timedelta(minutes=1), "status": "linked"}
            return
        start = decided
        if rng.random() < 0.3:
            row |= {"waitlisted_at": decided, "waitlist_area": area, "status": "waitlisted"}
            start = decided + timedelta(days=rng.expovariate(1 / 12))
            self._notify(batch, referral_id, "referral.waitlisted.v1", decided)
            if start > self.now:
                return
        row |= {
            "assigned_at": start,
            "connector_kind": "paid",
            "connector_since": start,
            "area": area,
            "stalled_after_days": 21,
            "status": "assigned",
        }
        self._notify(batch, referral_id, "referral.assigned.v1", start)
        if rng.random() < 0.03:
            row |= {"withdrawn_at": start + timedelta(days=rng.uniform(0, 10)), "status": "withdrawn"}
            return
        contact = start + timedelta(days=rng.expovariate(1 / 4))
        if contact > self.now:
            return
        if rng.random() < 0.08:
            row["unreachable_at"] = contact + timedelta(days=14)
            return
        row["first_reached_at"] = contact
        if row["complexity"] == "low" and rng.random() < 0.3:
            row |= {"connector_kind": "volunteer", "connector_since": contact + timedelta(days=14)}
        self._measure(batch, referral_id, "baseline", contact)
        sessions = rng.randint(1, {"low": 6, "medium": 8, "high": 12}[row["complexity"]])
        closed = contact + timedelta(days=sessions * rng.uniform(7, 14))
        if closed > self.now:
            row["last_session_at"] = min(self.now, contact + timedelta(days=7))
            return
        reason = self._pick(CLOSURE_REASONS, (40, 30, 14, 6, 5, 5))
        row |= {
            "closed_at": closed,
            "closure": reason,
            "sessions_used": sessions,
            "last_session_at": closed - timedelta(days=1),
            "status": "closed",
        }
        if reason in ("goals-met", "connected-onward") or rng.random() < 0.4:
            self._measure(batch, referral_id, "closing", closed, improved=reason != "disengaged")
        self._notify(batch, referral_id, "case.closed.v1", closed)

    def _measure(self, batch: Batch, referral_id: str, stage: str, at: datetime, *, improved: bool = False) -> None:
        rng = self.rng
        shift = rng.randint(0, 3) if improved else 0

        def score(base: int, lo: int, hi: int, better: int) -> int | None:
            return None if rng.random() < 0.05 else max(lo, min(hi, base + better))

        ucla = score(rng.randint(5, 9), 3, 9, -shift)
        batch.measures.append(
            (
                referral_id,
                stage,
                at,
                f"{referral_id}-{stage}",
                ucla,
                None if rng.random() < 0.1 else ONS_ANSWERS[max(0, min(4, rng.randint(0, 2) + shift))],
                score(rng.randint(2, 7), 0, 10, shift),
                score(rng.randint(3, 7), 0, 10, shift),
                score(rng.randint(2, 7), 0, 10, shift),
                score(rng.randint(4, 9), 0, 10, -shift),
            )
        )

    def _notify(self, batch: Batch, referral_id: str, about: str, at: datetime) -> None:
        rng = self.rng
        failed = rng.random() < 0.01
        sent_at = None if failed else at + timedelta(seconds=rng.uniform(1, 30))
        failed_at = at + timedelta(minutes=5) if failed else None
        batch.notifications.append(
            (f"{referral_id}-{about}", referral_id, "email", about, sent_at, failed_at, 3 if failed else 1)
        )

    def _urgent(self, batch: Batch, referral_id: str, at: datetime) -> None:
        rng = self.rng
        settled = (self.now - at).days > 1 or rng.random() < 0.5
        settled_at = at + timedelta(minutes=rng.uniform(1, 90)) if settled else None
        batch.urgent.append(
            (
                f"{referral_id}-urgent",
                referral_id,
                at,
                rng.randint(0, 3),
                settled_at,
                rng.choice(("confirmed", "acknowledged")) if settled else None,
            )
        )


def batches(total: int, now: datetime) -> Iterator[Batch]:
    generator = Generator(now)
    for start in range(0, total, BATCH):
        yield generator.batch(min(BATCH, total - start))


async def fill(connection: asyncpg.Connection, total: int, *, now: datetime | None = None) -> dict[str, int]:
    """COPY `total` referrals (and their cases, notifications, alerts) in; returns the rows per table."""
    now = now or datetime.now(UTC)
    counts = {"referral_facts": 0, "case_measures": 0, "notification_facts": 0, "urgent_alert_facts": 0}
    started = time.perf_counter()
    for batch in batches(total, now):
        for table, rows, columns in (
            ("referral_facts", batch.referrals, REFERRAL_COLUMNS),
            ("case_measures", batch.measures, MEASURE_COLUMNS),
            ("notification_facts", batch.notifications, NOTIFICATION_COLUMNS),
            ("urgent_alert_facts", batch.urgent, URGENT_COLUMNS),
        ):
            if rows:
                await connection.copy_records_to_table(table, records=rows, columns=columns)
            counts[table] += len(rows)
        elapsed = time.perf_counter() - started
        done = counts["referral_facts"]
        print(f"  filled {done:,}/{total:,} referrals ({done / elapsed:,.0f}/s)", file=sys.stderr, flush=True)
    return counts


async def fill_inbox(connection: asyncpg.Connection, events: int, *, days: float = 35.0) -> int:
    """Reporting's inbox as housekeeping leaves it (INBOX_RETENTION_DAYS, default 35): `events` applied events
    over the last `days` days. The dashboard reads the newest; an empty inbox would hide what that costs."""
    await connection.execute(
        "INSERT INTO inbox (consumer, event_id, event_type, processed_at)"
        " SELECT 'reporting', 'bench-' || n, 'referral.received.v2', now() - (n % $2) * interval '1 second'"
        " FROM generate_series(1, $1) AS n",
        events,
        int(days * 86_400),
    )
    await connection.execute("VACUUM ANALYZE inbox")
    return events


def _copy_early(migrations: Path, into: Path) -> None:
    for path in sorted(migrations.glob("*.sql")):
        if path.name < RUNNING_TOTALS:
            shutil.copy(path, into)


async def fill_then_migrate(
    pool: asyncpg.Pool, migrations: Path, total: int, *, now: datetime | None = None
) -> dict[str, int]:
    """Reporting's projection as a deployment meets it: the tables (migrations before RUNNING_TOTALS) filled
    with `total` referrals, then the later migrations applied, which build the running totals from the rows
    already there. COPY without the triggers is several times faster than with them; tests/reporting checks
    that the triggers and the migration's build give the same totals as a scan."""
    with tempfile.TemporaryDirectory(prefix="signpost-migrations-") as early:
        _copy_early(migrations, Path(early))
        await db.apply_migrations(pool, Path(early))
    async with pool.acquire() as connection:
        counts = await fill(connection, total, now=now)
    print("  applying the later migrations (the running totals are built from the rows)...", file=sys.stderr)
    started = time.perf_counter()
    await db.apply_migrations(pool, migrations)
    print(f"  built in {time.perf_counter() - started:.0f}s; analysing the tables...", file=sys.stderr, flush=True)
    async with pool.acquire() as connection:
        await connection.execute("VACUUM ANALYZE")
    return counts
