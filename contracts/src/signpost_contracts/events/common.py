"""Small value types and text limits shared by several events.

Every free-text field an event carries has a limit, so no input can make an event larger than the
broker takes (a 1 MiB organisation name once blocked the outbox). Producers shorten text with
`clip` when they build an event; the limits are in the schemas, so a consumer can rely on them.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from signpost_contracts.base import ContractModel
from signpost_contracts.vocabulary import Complexity, ConnectorKind, Priority, ReferrerKind

__all__ = [
    "Code",
    "Complexity",
    "ConnectorKind",
    "Identifier",
    "Name",
    "Priority",
    "ReferrerKind",
    "Text",
    "clip",
]

CODE_LIMIT = 64  # codes, ids, areas, kinds
NAME_LIMIT = 200  # names of organisations and services
TEXT_LIMIT = 2000  # sentences for people: summaries, reasons, errors
URI_LIMIT = 2048
IDENTIFIER_VALUE_LIMIT = 256
EMAIL_LIMIT = 320  # RFC 5321's longest address
PHONE_LIMIT = 64
LIST_LIMIT = 50

Code = Annotated[str, Field(max_length=CODE_LIMIT)]
Name = Annotated[str, Field(max_length=NAME_LIMIT)]
Text = Annotated[str, Field(max_length=TEXT_LIMIT)]
Uri = Annotated[str, Field(max_length=URI_LIMIT)]

_ELLIPSIS = "\u2026"


def clip(text: str | None, limit: int) -> str | None:
    """`text` cut to at most `limit` characters, marked with an ellipsis when it was cut."""
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + _ELLIPSIS


class Identifier(ContractModel):
    system: Uri | None = None
    value: Annotated[str, Field(max_length=IDENTIFIER_VALUE_LIMIT)]
