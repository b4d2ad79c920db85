"""`make bench`: prints one JSON line of end-to-end figures.

- throughput: N synthetic GP referrals posted with fixed concurrency; the clock stops when reporting
  has counted every referrer notification (accepted at intake -> triaged -> referrer emailed -> counted).
- latency at a fixed offered rate: per referral, from intake's 201 to the email reaching the SMTP sink.
- peak RSS of each service process over the whole run.
- the raw limit, on the same broker in the same run: plain aiokafka through four chained hops.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from signpost_devstack.bench import raw_hops
from signpost_devstack.bench.driver import Driver
from signpost_devstack.bench.memory import PeakRss
from signpost_devstack.infra import provide
from signpost_devstack.stack import LocalStack, StackConfig


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__.split("\n")[0])
    parser.add_argument("--referrals", type=int, default=300, help="referrals in the throughput phase")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rate", type=float, default=10.0, help="offered referrals per second, latency phase")
    parser.add_argument("--latency-referrals", type=int, default=150)
    args = parser.parse_args(argv)
    run_id = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory(prefix="signpost-bench-") as state:
        state_dir = Path(state)
        with provide(state_dir, durable=True, allow_docker=False) as infra:
            stack = LocalStack(
                StackConfig(
                    kafka_bootstrap_servers=infra.kafka_bootstrap_servers,
                    postgres_url=infra.postgres_url,
                    jwt_secret=uuid.uuid4().hex,
                    log_dir=state_dir / "logs",
                    namespace=f"bench-{run_id}",
                    database_prefix=f"bench_{run_id}_",
                    fixed_ports=False,
                    kafka_session_timeout_ms=3000,
                    # The bench measures the pipeline, not the roster: every referral must reach an outcome.
                    service_env={"triage": {"LOG_LEVEL": "WARNING"}},
                )
            )
            print(f"starting services (logs in {state_dir / 'logs'})...", file=sys.stderr)
            stack.start()
            try:
                pids = {name: process.pid for name, process in stack.services.items()}
                with PeakRss(pids) as memory:
                    driver = Driver(stack)
                    asyncio.run(driver.warm_up())
                    throughput = asyncio.run(driver.throughput(args.referrals, args.concurrency))
                    latencies = asyncio.run(driver.latency(args.latency_referrals, args.rate))
                payload = driver.sample_payload()
            finally:
                stack.stop()
            print("measuring the raw aiokafka baseline...", file=sys.stderr)
            raw = raw_hops.measure(infra.kafka_bootstrap_servers, args.referrals, payload, run_id)
    result = {
        "bench": "signpost-end-to-end",
        "commit": _commit(),
        "cpus": os.cpu_count(),
        "broker": "tansu (embedded, memory)",
        "throughput": {
            "referrals": args.referrals,
            "concurrency": args.concurrency,
            "referrals_per_second": round(throughput, 2),
        },
        "latency": {
            "offered_per_second": args.rate,
            "referrals": len(latencies),
            "p50_ms": round(_percentile(latencies, 0.50) * 1000, 1),
            "p99_ms": round(_percentile(latencies, 0.99) * 1000, 1),
            "max_ms": round(max(latencies) * 1000, 1),
        },
        "peak_rss_mib": {name: round(mib, 1) for name, mib in memory.peak_mib.items()},
        "cpu_seconds": {name: round(seconds, 1) for name, seconds in memory.cpu_seconds.items()},
        "raw_aiokafka_4_hops": {"messages": args.referrals, "messages_per_second": round(raw, 2)},
        "raw_to_signpost_ratio": round(raw / throughput, 1),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
