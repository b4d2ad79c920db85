"""Small network helpers for local processes."""

from __future__ import annotations

import random
import socket
import time
from pathlib import Path

# Listening ports for our children are chosen below the kernel's ephemeral range. A port the kernel hands
# out for bind(0) lies inside that range, and until the child binds it (seconds later, after other
# services have started) any outgoing connection may take it as its source port: the child then fails
# to bind and exits during start-up. Outside the range, only another listener can take it.
_FALLBACK_EPHEMERAL_START = 32768
_LOWEST_CHOSEN = 15000
_choice = random.Random()


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def preferred_port(port: int) -> int:
    """The documented port when it is free, otherwise any free one (printed by whoever asked)."""
    return port if port_is_free(port) else free_port()


def ephemeral_range_start(path: Path = Path("/proc/sys/net/ipv4/ip_local_port_range")) -> int:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return _FALLBACK_EPHEMERAL_START


def free_port() -> int:
    """A free port a child process may bind later: never one the kernel could give a client meanwhile."""
    highest = ephemeral_range_start() - 1
    for _ in range(200):
        port = _choice.randint(_LOWEST_CHOSEN, highest)
        if port_is_free(port):
            return port
    raise RuntimeError(f"no free port between {_LOWEST_CHOSEN} and {highest}")


def wait_for_port(port: int, *, host: str = "127.0.0.1", timeout: float = 90.0, what: str = "server") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"{what} did not open {host}:{port} within {timeout:.0f}s")
