"""Small value types shared by several events."""

from __future__ import annotations

from signpost_contracts.base import ContractModel
from signpost_contracts.vocabulary import Complexity, ConnectorKind, Priority, ReferrerKind

__all__ = ["Complexity", "ConnectorKind", "Identifier", "Priority", "ReferrerKind"]


class Identifier(ContractModel):
    system: str | None = None
    value: str
