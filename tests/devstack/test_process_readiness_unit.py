"""A child of the local stack is ready only when the ready answer comes from that child."""

from __future__ import annotations

import subprocess
import sys

import pytest

from signpost_devstack.net import free_port, wait_for_port
from signpost_devstack.processes import ManagedProcess

pytestmark = pytest.mark.unit


def _http_server(port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"])


def test_a_200_from_another_process_on_the_port_is_not_the_childs_readiness(tmp_path):
    port = free_port()
    stranger = _http_server(port)  # another stack took the port first
    child = ManagedProcess(
        "intake",
        [sys.executable, "-c", "import time; time.sleep(30)"],
        {},
        tmp_path / "log",
        f"http://127.0.0.1:{port}/",
    )
    try:
        wait_for_port(port, what="the stranger")
        child.start()
        with pytest.raises(TimeoutError):
            child.wait_ready(timeout=3)
    finally:
        child.kill()
        stranger.kill()
        stranger.wait()


def test_the_childs_own_answer_is_its_readiness(tmp_path):
    port = free_port()
    child = ManagedProcess(
        "intake",
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        {},
        tmp_path / "log",
        f"http://127.0.0.1:{port}/",
    )
    try:
        child.start()
        child.wait_ready(timeout=30)
    finally:
        child.kill()
