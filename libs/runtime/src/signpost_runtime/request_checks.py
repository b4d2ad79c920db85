"""What a request's path, query and headers may hold before any route sees them.

Text that PostgreSQL cannot store or compare (NUL), control characters and percent-encodings that
are not UTF-8 (lone surrogates included: UTF-8 cannot encode them) would otherwise fail deep inside a
route as a 500, or be silently replaced by U+FFFD (Starlette decodes with errors="replace"). Values
longer than `max_parameter_length` characters are refused too. Each problem names the parameter or
header at fault. The OpenAPI document states the same rules for every string parameter (openapi.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, MutableMapping
from typing import Any
from urllib.parse import unquote_to_bytes

from signpost_runtime.problems import FieldError

# C0 controls and DEL. Tab is allowed in header values only (RFC 9110 5.5 allows it there).
NO_CONTROLS = r"^[^\x00-\x1f\x7f]*$"  # the same rule as a JSON Schema pattern, for the OpenAPI document
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_HEADER_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
MAX_ERRORS = 10


def malformed_request(scope: MutableMapping[str, Any], max_parameter_length: int) -> list[FieldError]:
    """Everything wrong with the request target and headers of an ASGI HTTP scope (empty when nothing is)."""
    checks = (
        _path_errors(scope, max_parameter_length),
        _query_errors(scope, max_parameter_length),
        _header_errors(scope),
    )
    errors = [error for check in checks for error in check]
    return errors[:MAX_ERRORS]


def _path_errors(scope: MutableMapping[str, Any], limit: int) -> Iterator[FieldError]:
    raw = scope.get("raw_path")
    if raw is None:  # the ASGI server decoded it already; re-encoding keeps any lone surrogate to be found
        decoded_path = str(scope.get("path", "")).encode("utf-8", "surrogatepass")
    else:
        decoded_path = unquote_to_bytes(bytes(raw).split(b"?", 1)[0])
    for position, segment in enumerate(decoded_path.split(b"/")):
        if problem := _text_problem(segment, limit, controls=_CONTROL):
            yield FieldError("path", f"path segment {position} {problem}")


def _query_errors(scope: MutableMapping[str, Any], limit: int) -> Iterator[FieldError]:
    for pair in bytes(scope.get("query_string", b"")).split(b"&"):
        if not pair:
            continue
        raw_name, _, raw_value = pair.partition(b"=")
        name_bytes = unquote_to_bytes(raw_name.replace(b"+", b" "))
        value = unquote_to_bytes(raw_value.replace(b"+", b" "))
        if name_problem := _text_problem(name_bytes, limit, controls=_CONTROL):
            yield FieldError("query", f"a query parameter name {name_problem}")
            continue
        name = name_bytes.decode("utf-8")
        if value_problem := _text_problem(value, limit, controls=_CONTROL):
            yield FieldError(name, f"query parameter '{name}' {value_problem}")


def _header_errors(scope: MutableMapping[str, Any]) -> Iterator[FieldError]:
    for raw_name, raw_value in scope.get("headers", ()):
        name = bytes(raw_name).decode("latin-1")
        if found := _HEADER_CONTROL.search(bytes(raw_name) + bytes(raw_value)):
            where = "name" if found.start() < len(raw_name) else "value"
            character = f"U+{found.group()[0]:04X}"
            yield FieldError(
                _printable(name),
                f"header '{_printable(name)}' has the control character {character} in its {where}; "
                "header values may hold visible text, spaces and tabs only",
            )


def _text_problem(encoded: bytes, limit: int, *, controls: re.Pattern[str]) -> str | None:
    """Why these (percent-decoded) bytes are not acceptable text, or None when they are."""
    try:
        text = encoded.decode("utf-8")
    except UnicodeDecodeError as exc:
        return (
            f"is not UTF-8 text (byte {exc.start} of its decoded form, 0x{encoded[exc.start]:02X}); "
            "percent-encode the UTF-8 bytes of the text, whole characters only"
        )
    if found := controls.search(text):
        return (
            f"holds the control character U+{ord(found.group()):04X} at position {found.start()}, "
            "which no identifier or search value here contains; remove it"
        )
    if len(text) > limit:
        return f"is {len(text)} characters long; the longest value taken here is {limit} characters"
    return None


def _printable(text: str) -> str:
    return _CONTROL.sub("?", text)[:60]
