"""Child processes of the local stack: started with their environment, logged to files, stopped in order."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil


def console_script(name: str) -> str:
    """A console script installed beside the running interpreter (the project's virtualenv)."""
    return str(Path(sys.executable).with_name(name))


@dataclass
class ManagedProcess:
    name: str
    command: list[str]
    env: dict[str, str]
    log_file: Path
    ready_url: str | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            self.command,
            env={**os.environ, **self.env},
            stdout=self.log_file.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the supervisor only; it stops children in order
        )

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_ready(self, timeout: float = 90.0) -> None:
        if self.ready_url is None:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                raise RuntimeError(f"{self.name} exited during start-up; last log lines:\n{self.log_tail()}")
            try:
                if httpx.get(self.ready_url, timeout=2).status_code == 200 and self._listens_on_ready_port():
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"{self.name} not ready at {self.ready_url} after {timeout:.0f}s:\n{self.log_tail()}")

    def _listens_on_ready_port(self) -> bool:
        """Whether the ready answer came from this child: another process (another stack) may have
        taken the port between choosing it and this child binding it, and its 200 is not ours."""
        port = httpx.URL(self.ready_url or "").port
        try:
            family = [psutil.Process(self.pid), *psutil.Process(self.pid).children(recursive=True)]
            return any(
                c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port
                for member in family
                for c in member.net_connections(kind="tcp")
            )
        except psutil.Error:
            return False

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM (graceful: drain, flush the outbox), then SIGKILL if it does not finish in time."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def kill(self) -> None:
        """SIGKILL: the crash a fault test wants."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_file.exists():
            return "(no log)"
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
