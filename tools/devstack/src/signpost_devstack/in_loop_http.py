"""A FastAPI app served by uvicorn inside the caller's event loop: the provider fakes' HTTP side.

The socket is bound before uvicorn starts, so port 0 gives a free port that is known at once; uvicorn
does not take SIGTERM/SIGINT over, because the owner of the loop decides what they do.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from typing import Any

import uvicorn
from fastapi import FastAPI


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class InLoopHttp:
    def __init__(self, name: str) -> None:
        self.name = name
        self._server: _QuietServer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self, app: FastAPI, host: str, port: int, **config: Any) -> int:
        """Serve `app` on host:port (0: any free port) and return the port, once uvicorn is up."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        bound = int(listener.getsockname()[1])
        self._server = _QuietServer(uvicorn.Config(app, log_config=None, lifespan="off", access_log=False, **config))
        self._task = asyncio.create_task(self._server.serve(sockets=[listener]), name=f"{self.name}-http")
        while not self._server.started and not self._task.done():  # noqa: ASYNC110 (uvicorn offers only a flag)
            await asyncio.sleep(0.01)
        if self._task.done():
            await self._task  # startup failed: surface the reason
        return bound

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
