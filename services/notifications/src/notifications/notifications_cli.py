"""`signpost-notifications`: run the service, re-drive failed deliveries, list outcomes nobody can be told yet.

    signpost-notifications                                   run the service (the container's command)
    signpost-notifications redrive --notification-id ID      (repeatable)
    signpost-notifications redrive --referral-id ID          that referral's failed deliveries
    signpost-notifications redrive --all-failed [--since 2025-01-31T09:00:00+00:00]
    signpost-notifications awaiting [--longer-than-seconds S] [--limit N]

A re-driven delivery goes back to pending with its attempts reset, and a dispatcher sends it once
more (woken at once). Only failed deliveries whose address can be emailed are re-driven; the others
are listed with the reason. `awaiting` lists outcomes whose referral details (referral.received.v1)
have not arrived after S seconds (default OUTCOME_AWAITING_REFERRAL_ALERT_SECONDS, 600).

Results go to stdout as one JSON object per line; a summary goes to stderr. The exit status is 1
when nothing was re-driven. DATABASE_URL is used when --database-url is not given.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from notifications.config import NotificationsSettings
from notifications.domain.deliveries import RedriveSelection
from notifications.service import redrive
from notifications.unit import NotificationsUnit
from signpost_runtime import db
from signpost_runtime.outbox import Outbox
from signpost_runtime.unit_of_work import UnitOfWork


@contextlib.asynccontextmanager
async def _units(settings: NotificationsSettings) -> AsyncIterator[UnitOfWork[NotificationsUnit]]:
    pool = await db.create_pool(settings.database_url, 2)
    try:
        yield UnitOfWork(pool, Outbox(settings.topic_namespace), NotificationsUnit)
    finally:
        await pool.close()


async def _redrive(settings: NotificationsSettings, selection: RedriveSelection) -> int:
    async with _units(settings) as units, units() as unit:
        result = await redrive(unit, selection)
    for nid in result.redriven:
        print(json.dumps({"notification_id": str(nid), "redriven": True}))
    for nid, reason in result.skipped.items():
        print(json.dumps({"notification_id": str(nid), "redriven": False, "reason": reason}))
    print(f"{len(result.redriven)} delivery(ies) back in line, {len(result.skipped)} skipped", file=sys.stderr)
    return 0 if result.redriven else 1


async def _awaiting(settings: NotificationsSettings, longer_than_seconds: float | None, limit: int) -> int:
    waited = settings.outcome_awaiting_referral_alert_seconds if longer_than_seconds is None else longer_than_seconds
    async with _units(settings) as units, units() as unit:
        outcomes = await unit.referrals.awaiting_referral(waited, limit)
    for outcome in outcomes:
        print(outcome.model_dump_json())
    print(f"{len(outcomes)} outcome(s) waiting over {waited:.0f}s for their referral's details", file=sys.stderr)
    return 0


def _notification_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a notification id: expected a UUID such as the notification_id in GET /deliveries"
        ) from None


def _moment(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an ISO 8601 date or time, e.g. 2025-01-31 or 2025-01-31T09:00:00+00:00"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="signpost-notifications", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", metavar="{redrive,awaiting}")
    for name, text in (("redrive", "send failed deliveries again"), ("awaiting", "outcomes awaiting their referral")):
        command = commands.add_parser(name, help=text, description=text)
        command.add_argument("--database-url", default=os.environ.get("DATABASE_URL"), help="notifications' database")
        if name == "awaiting":
            command.add_argument("--longer-than-seconds", type=float, help="default: the service's alert setting")
            command.add_argument("--limit", type=int, default=100)
            continue
        which = command.add_mutually_exclusive_group(required=True)
        which.add_argument("--notification-id", type=_notification_id, action="append", help="repeatable")
        which.add_argument("--referral-id", help="every failed delivery of this referral")
        which.add_argument("--all-failed", action="store_true", help="every failed delivery (see --since)")
        command.add_argument("--since", type=_moment, help="with --all-failed: only those failed at or after this")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        from notifications.app import main as serve  # the service itself: only then load the web stack

        serve()
        return 0
    if not args.database_url:
        parser.error("give --database-url or set DATABASE_URL: the notifications service's database")
    settings = NotificationsSettings(database_url=args.database_url)
    if args.command == "awaiting":
        return asyncio.run(_awaiting(settings, args.longer_than_seconds, args.limit))
    if args.since and not args.all_failed:
        parser.error("--since goes with --all-failed")
    selection = RedriveSelection(
        notification_ids=tuple(args.notification_id or ()),
        referral_id=args.referral_id,
        all_failed=args.all_failed,
        failed_since=args.since,
    )
    return asyncio.run(_redrive(settings, selection))


if __name__ == "__main__":
    sys.exit(main())
