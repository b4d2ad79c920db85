"""Is the consumer making progress? The basis of /health/live.

A broker that answers is not enough: a handler stuck on a lock, or a loop that stopped fetching
while messages wait, must make the process look dead so the orchestrator restarts it. A message
held while the consumer waits out a database or broker outage is not stuck: restarting would not
bring the infrastructure back, and readiness already reports it.
"""

from __future__ import annotations

import time


class ProgressMonitor:
    def __init__(self, stall_seconds: float) -> None:
        self.stall_seconds = stall_seconds
        self.in_flight_since: float | None = None
        self.last_progress = time.monotonic()
        self.outage_since: float | None = None

    def started(self) -> None:
        self.in_flight_since = time.monotonic()

    def finished(self) -> None:
        self.in_flight_since = None
        self.last_progress = time.monotonic()

    def waiting_out_outage(self) -> None:
        if self.outage_since is None:
            self.outage_since = time.monotonic()

    def outage_over(self) -> None:
        if self.outage_since is not None:
            # The time spent waiting counts as progress: the clock for "stuck" starts again now.
            now = time.monotonic()
            self.outage_since = None
            self.last_progress = now
            if self.in_flight_since is not None:
                self.in_flight_since = now

    def problem(self, waiting_messages: int | None) -> str | None:
        """Why the consumer looks stuck, or None when it is healthy."""
        now = time.monotonic()
        if self.outage_since is not None:
            return None
        if self.in_flight_since is not None and now - self.in_flight_since > self.stall_seconds:
            return f"one message has been in hand for {now - self.in_flight_since:.0f}s"
        if waiting_messages and now - self.last_progress > self.stall_seconds:
            return f"{waiting_messages} message(s) waiting and none handled for {now - self.last_progress:.0f}s"
        return None
