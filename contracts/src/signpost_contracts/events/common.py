"""Small value types shared by several events."""

from __future__ import annotations

from typing import Literal

from signpost_contracts.base import ContractModel

Complexity = Literal["low", "medium", "high"]
ConnectorKind = Literal["paid", "volunteer"]
Priority = Literal["routine", "urgent", "asap", "stat"]
ReferrerKind = Literal["gp", "social-worker", "community-organisation", "self", "other"]


class Identifier(ContractModel):
    system: str | None = None
    value: str
