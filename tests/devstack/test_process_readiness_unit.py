"""A child of the local stack is ready only when the ready answer comes from that child."""

from __future__ import annotations

import subprocess
import sys

import pytest

from signpost_devstack.net import ephemeral_range_start, free_port, port_is_free, wait_for_port
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


def test_a_chosen_port_lies_below_the_range_the_kernel_gives_clients(tmp_path):
    # A port from the ephemeral range could be taken by any outgoing connection before the child binds it.
    range_file = tmp_path / "ip_local_port_range"
    range_file.write_text("32768\t60999\n")
    assert ephemeral_range_start(range_file) == 32768
    start = ephemeral_range_start()
    ports = {free_port() for _ in range(20)}
    assert all(15000 <= port < start for port in ports), ports
    assert all(port_is_free(port) for port in ports)
