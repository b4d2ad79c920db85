"""JSON logs, one object per line (python-json-logger), carrying the event being handled.

The event id, type, correlation id and subject are held in context variables, so every line
logged while a message is handled carries them without each call site passing them along.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.json import JsonFormatter as _LibraryJsonFormatter

from signpost_runtime.redaction import without_contact_details

_event_context: ContextVar[dict[str, str] | None] = ContextVar("signpost_event_context", default=None)


@contextlib.contextmanager
def event_context(**fields: str | None) -> Iterator[None]:
    token = _event_context.set({**(_event_context.get() or {}), **{k: v for k, v in fields.items() if v}})
    try:
        yield
    finally:
        _event_context.reset(token)


class JsonFormatter(_LibraryJsonFormatter):
    """time, level, service, logger, message, the event context, then any `extra` fields."""

    def __init__(self, service: str) -> None:
        super().__init__(
            ["levelname", "name", "message"],
            rename_fields={"levelname": "level", "name": "logger", "exc_info": "exception"},
            static_fields={"service": service},
            json_default=str,
            json_ensure_ascii=False,
        )

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        log_data["time"] = datetime.fromtimestamp(record.created, UTC).isoformat()
        super().add_fields(log_data, record, message_dict)
        log_data.update(_event_context.get() or {})
        # Every line, whoever logged it (a library's retry message, a traceback quoting a provider's
        # refusal): no email address or phone number reaches the log store.
        for key in ("message", "exception", "stack_info"):
            if isinstance(log_data.get(key), str):
                log_data[key] = without_contact_details(log_data[key])


def configure_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiokafka", "faststream", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # These libraries install their own plain-text handlers; route them through ours instead.
    for name in ("uvicorn", "uvicorn.error", "faststream"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
