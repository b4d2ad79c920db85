"""Triage settings, from the environment (no prefix), with working local defaults."""

from __future__ import annotations

from pathlib import Path

from signpost_runtime.settings import ServiceSettings


class TriageSettings(ServiceSettings):
    service_name: str = "triage"
    http_port: int = 8082
    database_url: str = "postgresql://postgres@127.0.0.1:5432/signpost_triage"
    # Unset: the demo files shipped in the package (triage/demo/*.toml), for the local stack.
    policy_file: Path | None = None
    roster_file: Path | None = None
    # How often each process checks whether the service status (capacity, waiting) changed and publishes it.
    service_status_every_seconds: float = 5.0
