"""`signpost-outbox`: list and retry a service's parked outbox rows.

    signpost-outbox list   --database-url postgresql://.../signpost_referral_intake
    signpost-outbox retry  --database-url ... --event-id <id> [--event-id <id> ...]   (or --all)

A row is parked when the broker cannot take it (larger than the producer's or broker's limit, or
refused for good): the relay skips it so later rows keep flowing. Retry puts it back in line once
the cause is fixed, for example KAFKA_MAX_REQUEST_BYTES and the topic's max.message.bytes raised.
DATABASE_URL is used when --database-url is not given.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys

import asyncpg

from signpost_runtime.outbox import parked_rows, unpark


async def _list(database_url: str) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        rows = await parked_rows(connection)
    finally:
        await connection.close()
    for row in rows:
        print(json.dumps(row, default=str))
    print(f"{len(rows)} parked row(s)", file=sys.stderr)
    return 0


async def _retry(database_url: str, event_ids: list[str] | None) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        count = await unpark(connection, event_ids)
    finally:
        await connection.close()
    print(f"{count} row(s) back in line for the relay", file=sys.stderr)
    return 0 if count else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="signpost-outbox", description=(__doc__ or "").split("\n")[0])
    parser.add_argument("command", choices=["list", "retry"])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"), help="the service's database")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--event-id", action="append", help="retry the parked row with this event id (repeatable)")
    which.add_argument("--all", action="store_true", help="retry every parked row")
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("give --database-url or set DATABASE_URL: the database of the service whose outbox to read")
    if args.command == "list":
        return asyncio.run(_list(args.database_url))
    if not (args.all or args.event_id):
        parser.error("retry needs --event-id or --all")
    return asyncio.run(_retry(args.database_url, None if args.all else args.event_id))


if __name__ == "__main__":
    sys.exit(main())
