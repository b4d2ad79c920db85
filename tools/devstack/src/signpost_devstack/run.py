"""`signpost-run` (what `make run` calls): the whole system on one machine.

Uses KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL when set; otherwise starts an embedded Kafka-protocol
broker (Tansu) and an embedded PostgreSQL whose data stays under .local/. Ctrl-C stops everything:
services first (each drains and flushes its outbox), then the SMTP sink, broker and database.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType

from signpost_devstack.infra import provide
from signpost_devstack.net import preferred_port
from signpost_devstack.stack import LocalStack, StackConfig

log = logging.getLogger("signpost-run")


def _jwt_secret(state_dir: Path) -> str:
    if os.environ.get("JWT_SECRET"):
        return os.environ["JWT_SECRET"]
    path = state_dir / "jwt-secret"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _service_files(*variables: str) -> dict[str, str]:
    """Files named in the environment, made absolute and checked before anything starts.

    Unset, the service uses its demo file. A missing file stops `make run` here, with its name, rather
    than as a crash among four services' start-up logs.
    """
    files = {}
    for variable in variables:
        value = os.environ.get(variable)
        if not value:
            continue
        path = Path(value).expanduser().resolve()
        if not path.is_file():
            raise SystemExit(f"signpost-run: {variable}={value} is not a file ({path})")
        files[variable] = str(path)
    return files


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _shown(env: dict[str, str], variable: str) -> str:
    return env.get(variable, f"triage's demo {variable.split('_')[0].lower()} (set {variable} to change)")


def _banner(stack: LocalStack, token_file: Path, origin: str) -> str:
    intake = stack.url("referral_intake")
    triage_env = stack.config.service_env.get("triage", {})
    lines = [
        "",
        f"Signpost is running (infrastructure: {origin}).",
        f"  referral intake   {intake}/fhir/metadata",
        f"  connector pages   {intake}/worklist   (sign in with the bearer token below)",
        f"  triage            {stack.url('triage')}/roster",
        f"  notifications     {stack.url('notifications')}/deliveries",
        f"  reporting         {stack.url('reporting')}/   (sign in with the bearer token below)",
        f"  SMTP sink         {stack.sink_url}/messages   (SMTP on 127.0.0.1:{stack.config.smtp_port})",
        f"  fake BaRS         {stack.bars_url}/messages   (servicerequest-responses to BaRS referrers)",
        f"  fake GOV.UK Notify {stack.notify_url}/notifications   (SMS: urgent redirects, self-referrers)",
        f"  bearer token      {token_file}   (every scope; sends for any practice's ODS code)",
        "  other tokens      .venv/bin/signpost-token --ods <ODS code> --scope '<scopes>'   (--help for more)",
        f"  logs              {stack.config.log_dir}/",
        f"  policy, roster    {_shown(triage_env, 'POLICY_FILE')}, {_shown(triage_env, 'ROSTER_FILE')}",
        "",
        "Send a first referral:",
        f"  curl -si -X POST {intake}/fhir/ServiceRequest \\",
        f'    -H "Authorization: Bearer $(cat {token_file})" \\',
        '    -H "Content-Type: application/fhir+json" -d @examples/gp-referral.json',
        "",
        "Or send it on the inbound Kafka topic, as an integration engine (the answer is printed):",
        "  .venv/bin/python -m signpost_devstack.send_inbound examples/gp-referral.json "
        f"--bootstrap {stack.config.kafka_bootstrap_servers}",
        f"  (producers: {stack.services['referral_intake'].env.get('INBOUND_PRODUCERS')})",
        "",
        "Press Ctrl-C to stop.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="signpost-run", description=__doc__.split("\n")[0])
    parser.add_argument("--demo", action="store_true", help="keep sending synthetic GP referrals")
    parser.add_argument("--demo-rate", type=float, default=0.5, help="demo referrals per second")
    parser.add_argument(
        "--demo-casework-interval", type=float, default=3.0, help="seconds between demo casework passes"
    )
    parser.add_argument("--state-dir", type=Path, default=Path(".local"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s signpost-run %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # readiness polling is not news
    state_dir: Path = args.state_dir.resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    # Set both explicitly: a process started in the background may inherit SIGINT as ignored.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _raise_interrupt)

    triage_files = _service_files("POLICY_FILE", "ROSTER_FILE")
    intake_files = _service_files("INBOUND_PRODUCERS")
    print("Starting infrastructure...", flush=True)
    ports = {"broker_port": preferred_port(9092), "postgres_port": preferred_port(55432)}
    with provide(state_dir, durable=True, allow_docker=False, **ports) as infra:
        stack = LocalStack(
            StackConfig(
                kafka_bootstrap_servers=infra.kafka_bootstrap_servers,
                postgres_url=infra.postgres_url,
                jwt_secret=_jwt_secret(state_dir),
                log_dir=state_dir / "logs",
                service_env={"triage": triage_files, "referral_intake": intake_files},
            )
        )
        print("Starting the SMTP sink and the four services...", flush=True)
        stop_demo = threading.Event()
        try:
            stack.start()
            token_file = state_dir / "dev-token"
            token = stack.token()
            token_file.write_text(token + "\n")
            token_file.chmod(0o600)
            print(_banner(stack, token_file, infra.origin), flush=True)
            if args.demo:
                from signpost_devstack.casework import start_demo_casework
                from signpost_devstack.demo import start_demo_traffic

                start_demo_traffic(stack, rate_per_second=args.demo_rate, stop=stop_demo)
                start_demo_casework(stack, interval=args.demo_casework_interval, stop=stop_demo)
            _watch(stack)
        except KeyboardInterrupt:
            print("\nStopping...", flush=True)
        finally:
            stop_demo.set()
            stack.stop()
    print("Stopped.", flush=True)
    return 0


def _watch(stack: LocalStack) -> None:
    """Wait for Ctrl-C, telling the developer once if a service dies."""
    reported: set[str] = set()
    while True:
        time.sleep(1)
        for name, process in stack.services.items():
            if not process.running() and name not in reported:
                reported.add(name)
                print(f"\n!! {name} exited; last log lines:\n{process.log_tail(15)}\n", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
