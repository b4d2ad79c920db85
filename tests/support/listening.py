"""A service served by a real uvicorn on 127.0.0.1, inside the test's event loop: for what only TCP shows."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator

import uvicorn
from fastapi import FastAPI


class _QuietServer(uvicorn.Server):
    # pytest owns the process's signals; uvicorn must not take them over.
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def listening(app: FastAPI) -> AsyncIterator[tuple[str, int]]:
    """Serve `app` (its lifespan included: the runtime starts and stops) on a free port; yield (host, port)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    host, port = listener.getsockname()
    server = _QuietServer(uvicorn.Config(app, log_config=None, lifespan="on", access_log=False))
    task = asyncio.create_task(server.serve(sockets=[listener]), name="uvicorn-under-test")
    while not server.started and not task.done():  # noqa: ASYNC110 (uvicorn offers only a flag)
        await asyncio.sleep(0.02)
    if task.done():
        await task  # startup failed: surface the reason
    try:
        yield host, port
    finally:
        server.should_exit = True
        await task
        listener.close()
