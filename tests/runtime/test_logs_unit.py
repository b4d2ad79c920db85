"""JSON log lines carry the event being handled, and library loggers come out as JSON too."""

from __future__ import annotations

import io
import json
import logging

import pytest

from signpost_runtime.logs import JsonFormatter, configure_logging, event_context

pytestmark = pytest.mark.unit


def _capture(logger: logging.Logger) -> io.StringIO:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("triage"))
    logger.addHandler(handler)
    return stream


def test_a_line_logged_while_handling_an_event_carries_its_id_type_and_correlation_id():
    logger = logging.getLogger("test.logs.context")
    logger.setLevel(logging.INFO)
    stream = _capture(logger)
    with event_context(event_id="e-1", event_type="referral.received.v1", correlation_id="c-9"):
        logger.info("assigned %s", "leeds-north-amira")
    logger.info("outside any event")

    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert inside["message"] == "assigned leeds-north-amira"
    assert (inside["event_id"], inside["event_type"], inside["correlation_id"]) == (
        "e-1",
        "referral.received.v1",
        "c-9",
    )
    assert inside["service"] == "triage"
    assert "event_id" not in outside, "context ends with the event"


def test_libraries_that_bring_their_own_handlers_are_routed_through_the_json_formatter():
    import faststream.kafka  # noqa: F401 - installs faststream's own stderr handler on import

    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    try:
        configure_logging("triage")
        for name in ("faststream", "uvicorn", "uvicorn.error"):
            assert logging.getLogger(name).handlers == [], name
            assert logging.getLogger(name).propagate
        [root_handler] = root.handlers
        assert isinstance(root_handler.formatter, JsonFormatter)
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)


def test_no_email_address_or_phone_number_reaches_a_log_line_even_inside_a_traceback():
    logger = logging.getLogger("test.logs.redaction")
    logger.setLevel(logging.INFO)
    stream = _capture(logger)
    try:
        raise RuntimeError("550 5.1.1 <gp.surgery@nhs.net>: Recipient address rejected")
    except RuntimeError:
        logger.exception("sending to %s (mobile %s) failed", "gp.surgery@nhs.net", "07700 900123")

    [line] = (json.loads(raw) for raw in stream.getvalue().splitlines())
    assert line["message"] == "sending to [email address] (mobile [phone number]) failed"
    assert "RuntimeError: 550 5.1.1 <[email address]>" in line["exception"]
    assert "gp.surgery@nhs.net" not in stream.getvalue()
    assert "07700 900123" not in stream.getvalue()
