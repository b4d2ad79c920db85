"""CloudEvents 1.0 envelope carried in Kafka *binary mode*.

The event attributes travel as `ce_*` record headers and the record value is the JSON `data`
alone (CloudEvents Kafka protocol binding, section 3.2). The record key is the referral id so
every event about one referral lands on one partition, in order.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"

_HEADER_PREFIX = "ce_"
_REQUIRED_ATTRIBUTES = ("id", "type", "source", "time", "subject")
_OPTIONAL_ATTRIBUTES = ("correlationid", "causationid")


class EnvelopeError(ValueError):
    """A record is not a well-formed Signpost CloudEvent; retrying it will never help."""


class EventEnvelope(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    type: str
    source: str
    subject: str
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    correlationid: str
    causationid: str | None = None
    data: dict[str, Any]

    def headers(self) -> dict[str, str]:
        headers = {
            "ce_specversion": SPEC_VERSION,
            "ce_id": self.id,
            "ce_type": self.type,
            "ce_source": self.source,
            "ce_subject": self.subject,
            "ce_time": self.time.isoformat(),
            "ce_correlationid": self.correlationid,
            "content-type": CONTENT_TYPE,
        }
        if self.causationid:
            headers["ce_causationid"] = self.causationid
        return headers

    def key(self) -> bytes:
        return self.subject.encode()

    def value(self) -> bytes:
        # UTF-8 as it is: escaping non-ASCII would make text in other scripts up to six times larger.
        return json.dumps(self.data, separators=(",", ":"), default=str, ensure_ascii=False).encode()


def decode_headers(raw_headers: Any) -> dict[str, str]:
    """Kafka headers arrive as (name, bytes) pairs; decode them, refusing what is not UTF-8."""
    decoded: dict[str, str] = {}
    for name, value in raw_headers or ():
        try:
            decoded[name] = value.decode() if isinstance(value, bytes) else str(value)
        except UnicodeDecodeError as exc:
            raise EnvelopeError(f"header {name!r} is not UTF-8") from exc
    return decoded


def _not_json(name: str) -> Any:
    # Python's json reads NaN and Infinity, which JSON (RFC 8259) does not have and PostgreSQL's jsonb refuses.
    raise ValueError(f"{name} is not a JSON value")


def from_kafka(headers: dict[str, str], value: bytes | None) -> EventEnvelope:
    """Rebuild an envelope from a binary-mode record, or raise EnvelopeError saying what is wrong."""
    missing = [a for a in _REQUIRED_ATTRIBUTES if not headers.get(_HEADER_PREFIX + a)]
    if missing:
        raise EnvelopeError(f"missing CloudEvents header(s): {', '.join('ce_' + m for m in missing)}")
    spec = headers.get("ce_specversion", SPEC_VERSION)
    if spec != SPEC_VERSION:
        raise EnvelopeError(f"unsupported ce_specversion {spec!r}; expected {SPEC_VERSION}")
    if value is None:
        # A tombstone (a compacted topic forgetting its key) has no data: its type and subject say it all.
        return _envelope(headers, {})
    try:
        data = json.loads(value, parse_constant=_not_json)
    except (ValueError, UnicodeDecodeError) as exc:
        raise EnvelopeError(f"record value is not JSON: {exc}") from exc
    except RecursionError:
        # Records from outside Signpost (the inbound topic) can nest without limit; left uncaught, this
        # would be redelivered for ever and block the partition.
        raise EnvelopeError("record value nests JSON too deeply to read") from None
    if not isinstance(data, dict):
        raise EnvelopeError("record value must be a JSON object")
    return _envelope(headers, data)


def _envelope(headers: dict[str, str], data: dict[str, Any]) -> EventEnvelope:
    attributes = {a: headers[_HEADER_PREFIX + a] for a in _REQUIRED_ATTRIBUTES}
    for attribute in _OPTIONAL_ATTRIBUTES:
        if headers.get(_HEADER_PREFIX + attribute):
            attributes[attribute] = headers[_HEADER_PREFIX + attribute]
    attributes.setdefault("correlationid", attributes["id"])
    try:
        return EventEnvelope.model_validate({**attributes, "data": data})
    except ValueError as exc:
        raise EnvelopeError(f"invalid CloudEvents attributes: {exc}") from exc
