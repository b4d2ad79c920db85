"""The WHERE clauses searches share, built with numbered parameters (never values spliced into SQL)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from referral_intake.access import ReadScope
from referral_intake.domain.search import AnyOf


class Where:
    """Conditions ANDed together over `referrals r`, and the arguments their placeholders stand for."""

    def __init__(self) -> None:
        self.conditions: list[str] = []
        self.args: list[Any] = []

    def arg(self, value: Any) -> str:
        self.args.append(value)
        return f"${len(self.args)}"

    def add(self, condition: str) -> None:
        self.conditions.append(condition)

    def readable_by(self, scope: ReadScope) -> None:
        """access.ReadScope.covers, in SQL."""
        every, organisations = self.arg(scope.every_organisation), self.arg(list(scope.organisations))
        system = self.arg(scope.sent_by_system)
        self.add(
            f"({every}::boolean OR r.requester_ods = ANY({organisations}::text[]) OR r.sender_system = {system}::text)"
        )

    def identified_by(self, conditions: Sequence[AnyOf]) -> None:
        """Each condition: the referral holds an identifier matching one of its tokens (a missing part matches any)."""
        for any_of in conditions:
            systems = self.arg([token.system for token in any_of])
            values = self.arg([token.value for token in any_of])
            self.add(
                "EXISTS (SELECT 1 FROM referral_identifiers i, unnest("
                f"{systems}::text[], {values}::text[]) AS t(system, value) WHERE i.referral_id = r.id"
                " AND (t.system IS NULL OR i.system = t.system) AND (t.value IS NULL OR i.value = t.value))"
            )

    @property
    def sql(self) -> str:
        return " AND ".join(self.conditions) or "true"
