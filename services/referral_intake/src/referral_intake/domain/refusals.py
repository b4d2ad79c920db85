"""Why a use case refused: said in words a person can act on, naming each field at fault.

The edge decides how a refusal is shown (a problem+json answer, a message beside a form field);
the rules decide only which kind it is: the case's state does not allow it now (CaseConflict), or
what was sent cannot be accepted (CaseInvalid).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class FieldProblem:
    field: str  # as sent: "at", "goals.1", "ucla3.0", "ons4.anxiety"
    message: str


class Refused(Exception):  # noqa: N818 (a refusal, not an error of the program)
    def __init__(self, detail: str, problems: Sequence[FieldProblem] = ()) -> None:
        super().__init__(detail)
        self.detail = detail
        self.problems = tuple(problems)


class CaseConflict(Refused):
    """The case's state does not allow this now (withdrawn, closed, not reached yet, allowance used up)."""


class CaseInvalid(Refused):
    """What was sent cannot be accepted (a repeated goal, a time in the future, an answer out of range)."""

    @classmethod
    def of(cls, problems: Sequence[FieldProblem]) -> CaseInvalid:
        return cls("; ".join(problem.message for problem in problems), problems)
