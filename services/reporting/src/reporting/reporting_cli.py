"""`signpost-reporting`: run the service, or rebuild its projection from the topics while it runs.

    signpost-reporting                              run the service (the container's command)
    signpost-reporting rebuild [--drop-old]         rebuild into a fresh schema and swap it in
    signpost-reporting rebuild --drop SCHEMA        remove a schema a rebuild left (reporting_old_...)

The rebuild reads every topic reporting consumes from its first offset, with no consumer group, so
the topics must keep their whole history (retention.ms -1, as deploy/ sets). The live service keeps
serving; it pauses only while the swap holds its tables' locks. The projection it replaced is kept
as schema reporting_old_<UTC time> until dropped. Progress goes to stderr; the exit status is 0
when the swap was made, 1 when the rebuild refused or failed (the live projection is then untouched).
Settings come from the environment as for the service (DATABASE_URL, KAFKA_BOOTSTRAP_SERVERS,
TOPIC_NAMESPACE); the options below override them.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from reporting.config import ReportingSettings
from reporting.rebuild import RebuildRefused, drop, rebuild


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="signpost-reporting", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", metavar="{rebuild}")
    text = "rebuild the projection from the topics into a fresh schema and swap it in"
    command = commands.add_parser("rebuild", help=text, description=text)
    command.add_argument("--database-url", help="reporting's database (default: DATABASE_URL)")
    command.add_argument("--bootstrap", help="Kafka bootstrap servers (default: KAFKA_BOOTSTRAP_SERVERS)")
    command.add_argument("--namespace", help="topic namespace (default: TOPIC_NAMESPACE)")
    which = command.add_mutually_exclusive_group()
    which.add_argument("--drop-old", action="store_true", help="drop the replaced projection once swapped")
    which.add_argument("--drop", metavar="SCHEMA", help="only drop SCHEMA, left by an earlier rebuild")
    return parser


def _settings(args: argparse.Namespace) -> ReportingSettings:
    overrides: dict[str, Any] = {
        name: value
        for name, value in (
            ("database_url", args.database_url),
            ("kafka_bootstrap_servers", args.bootstrap),
            ("topic_namespace", args.namespace),
        )
        if value
    }
    return ReportingSettings(**overrides)


async def _rebuild(settings: ReportingSettings, drop_old: bool) -> int:
    result = await rebuild(settings, drop_old=drop_old)
    for record, reason in result.skipped:
        print(f"skipped {record.topic}/{record.partition}@{record.offset}: {reason}", file=sys.stderr)
    print(
        f"rebuilt from {result.records_read} records: {result.events_applied} events applied, "
        f"{len(result.skipped)} skipped (dead-lettered by the live service), "
        f"{result.outbox_rows_carried} outbox rows carried over",
        file=sys.stderr,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command is None:
        from reporting.app import main as serve  # the service itself: only then load the web stack

        serve()
        return 0
    settings = _settings(args)
    try:
        if args.drop:
            asyncio.run(drop(settings, args.drop))
            print(f"dropped schema {args.drop}", file=sys.stderr)
            return 0
        return asyncio.run(_rebuild(settings, args.drop_old))
    except RebuildRefused as refusal:
        print(f"signpost-reporting rebuild: {refusal}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            "signpost-reporting rebuild: interrupted before the swap; the live projection is as it was", file=sys.stderr
        )
        return 130


if __name__ == "__main__":
    sys.exit(main())
