"""`make bench` (second part): reporting's views against a projection of a million referrals.

Issue 9: with one million referrals in the projection, every dashboard and API view answers within
100 ms at the 95th percentile. This fills a fresh database on an embedded PostgreSQL (reporting's
tables from its migrations, the rows by COPY, then the migrations that build running totals from
the rows, as deploying them onto an existing projection does), starts the real reporting service
on it as its own process (uvicorn on 127.0.0.1, as `make run` does), and times each view over
HTTP with a reporting:read token. The
projection does not change while it is timed: nothing is published to reporting's topics.
Prints a table (view, n, p50, p95, p99, PASS/FAIL) and one JSON line of the same figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx

from signpost_contracts import all_topics
from signpost_devstack.bench_reporting.fill import fill_inbox, fill_then_migrate
from signpost_devstack.bench_reporting.views import GOAL_P95_MS, Timing, table, time_view, views
from signpost_devstack.broker import create_topics
from signpost_devstack.infra import provide
from signpost_devstack.net import free_port
from signpost_devstack.processes import ManagedProcess, console_script
from signpost_runtime import db
from signpost_runtime.auth import issue_token

REPORTING_MIGRATIONS = Path(__file__).resolve().parents[5] / "services" / "reporting" / "migrations"


async def _prepare(database_url: str, referrals: int) -> dict[str, int]:
    await db.ensure_database(database_url)
    pool = await db.create_pool(database_url, 2)
    try:
        rows = await fill_then_migrate(pool, REPORTING_MIGRATIONS, referrals)
        async with pool.acquire() as connection:
            rows["inbox"] = await fill_inbox(connection, referrals)  # about a month of applied events at that size
        return rows
    finally:
        await pool.close()


def _reporting(env: dict[str, str], log_dir: Path, port: int) -> ManagedProcess:
    return ManagedProcess(
        "reporting",
        [console_script("signpost-reporting")],
        env,
        log_dir / "reporting.log",
        ready_url=f"http://127.0.0.1:{port}/health/ready",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="make bench", description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--referrals", type=int, default=1_000_000, help="referrals in the projection")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per view")
    parser.add_argument("--warm-up", type=int, default=5, help="untimed requests per view first")
    parser.add_argument(
        "--budget-seconds", type=float, default=30.0, help="stop timing a view after this long (at least one request)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    run_id = uuid.uuid4().hex[:8]
    secret = uuid.uuid4().hex
    with tempfile.TemporaryDirectory(prefix="signpost-bench-reporting-") as state:
        state_dir = Path(state)
        with provide(state_dir, durable=False, allow_docker=False) as infra:
            database_url = db.with_database(infra.postgres_url, f"bench_{run_id}_reporting")
            print(f"filling reporting's projection with {args.referrals:,} referrals...", file=sys.stderr)
            started = time.perf_counter()
            rows = asyncio.run(_prepare(database_url, args.referrals))
            fill_seconds = time.perf_counter() - started
            print(f"filled in {fill_seconds:.0f}s: {rows}", file=sys.stderr)
            namespace = f"bench-{run_id}"
            asyncio.run(create_topics(infra.kafka_bootstrap_servers, all_topics(namespace, ("reporting",))))
            port = free_port()
            env = {
                "DATABASE_URL": database_url,
                "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap_servers,
                "TOPIC_NAMESPACE": namespace,
                "HTTP_PORT": str(port),
                "JWT_SECRET": secret,
                "LOG_LEVEL": "WARNING",
            }
            service = _reporting(env, state_dir / "logs", port)
            service.start()
            try:
                service.wait_ready()
                timings = _time_all(f"http://127.0.0.1:{port}", secret, args)
            except BaseException:
                print(service.log_tail(), file=sys.stderr)
                raise
            finally:
                service.stop()
    print(f"reporting views, {args.referrals:,} referrals in the projection, {os.cpu_count()} CPUs")
    print(table(timings))
    print(json.dumps(_result(args.referrals, rows, fill_seconds, timings)))
    return 0


def _time_all(base_url: str, secret: str, args: argparse.Namespace) -> list[Timing]:
    token = issue_token(secret, subject="reporting-bench", scopes=["reporting:read"], ods_code=None)
    timings = []
    with httpx.Client(base_url=base_url, timeout=120) as client:
        for view in views(datetime.now(UTC).date()):
            print(f"  timing {view.name}...", file=sys.stderr, flush=True)
            timings.append(
                time_view(client, token, view, n=args.requests, warm_up=args.warm_up, budget_s=args.budget_seconds)
            )
    return timings


def _result(referrals: int, rows: dict[str, int], fill_seconds: float, timings: list[Timing]) -> dict[str, object]:
    return {
        "bench": "reporting-views",
        "cpus": os.cpu_count(),
        "referrals": referrals,
        "rows": rows,
        "fill_seconds": round(fill_seconds, 1),
        "goal_p95_ms": GOAL_P95_MS,
        "views": {
            t.view.name: {
                "n": len(t.latencies_ms),
                "p50_ms": round(t.percentile(0.5), 1),
                "p95_ms": round(t.percentile(0.95), 1),
                "p99_ms": round(t.percentile(0.99), 1),
                "pass": t.passed,
            }
            for t in timings
        },
        "all_pass": all(t.passed for t in timings),
    }


if __name__ == "__main__":
    sys.exit(main())
