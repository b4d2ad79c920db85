"""A received Kafka record, independent of the client library that fetched it."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

BASE64_MARK = "base64:"


@dataclass(frozen=True)
class ReceivedRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = field(default_factory=tuple)

    @classmethod
    def from_consumer_record(cls, record: Any) -> ReceivedRecord:
        return cls(
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key,
            value=record.value,
            headers=tuple((name, value or b"") for name, value in (record.headers or ())),
        )

    def text_headers(self) -> dict[str, str]:
        """Headers as text for republishing; a header that is not UTF-8 is kept as base64."""
        decoded = {}
        for name, value in self.headers:
            try:
                decoded[name] = value.decode()
            except UnicodeDecodeError:
                decoded[name] = BASE64_MARK + base64.b64encode(value).decode()
        return decoded
