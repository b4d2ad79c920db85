"""Outcome measures, and the rules for what a connector may record as one.

- UCLA 3-item loneliness scale: three answers, each 1 (hardly ever), 2 (some of the time) or 3
  (often); the total (3-9, higher is lonelier) exists only when all three were answered.
- ONS direct loneliness question: one of the OnsLoneliness answers (the request model checks it).
- ONS4 personal wellbeing: life satisfaction, worthwhile, happiness, anxiety, 0-10 each.

People decline questions, so any part, and any item within a part, may be missing; but a record
with no answer at all records nothing and is refused. Every problem names its field.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime

from referral_intake.domain.refusals import FieldProblem
from signpost_contracts.vocabulary import MeasureStage, OnsLoneliness

UCLA3_ITEMS = 3
UCLA3_ANSWERS = range(1, 4)
ONS4_ANSWERS = range(11)

Ucla3 = tuple[int | None, int | None, int | None]


@dataclass(frozen=True)
class Ons4:
    life_satisfaction: int | None = None
    worthwhile: int | None = None
    happiness: int | None = None
    anxiety: int | None = None

    def answered(self) -> bool:
        return any(getattr(self, item.name) is not None for item in fields(self))


ONS4_ITEMS = tuple(item.name for item in fields(Ons4))


@dataclass(frozen=True)
class Measures:
    stage: MeasureStage
    at: datetime
    ucla3: Ucla3 | None = None
    ons_loneliness: OnsLoneliness | None = None
    ons4: Ons4 | None = None

    @property
    def ucla3_total(self) -> int | None:
        if self.ucla3 is None or any(answer is None for answer in self.ucla3):
            return None
        return sum(answer for answer in self.ucla3 if answer is not None)


def measure_problems(
    ucla3: Sequence[int | None] | None, ons_loneliness: OnsLoneliness | None, ons4: Ons4 | None
) -> list[FieldProblem]:
    """What is wrong with these answers, field by field; empty when they can be recorded."""
    problems = _ucla3_problems(ucla3) + _ons4_problems(ons4)
    answered = (ucla3 and any(a is not None for a in ucla3)) or ons_loneliness or (ons4 and ons4.answered())
    if not problems and not answered:
        message = "no answer was given: record at least one of ucla3, ons_loneliness or ons4 (any part may be missing)"
        problems = [FieldProblem(name, message) for name in ("ucla3", "ons_loneliness", "ons4")]
    return problems


def _ucla3_problems(ucla3: Sequence[int | None] | None) -> list[FieldProblem]:
    if ucla3 is None:
        return []
    if len(ucla3) != UCLA3_ITEMS:
        return [
            FieldProblem(
                "ucla3",
                f"ucla3 has {len(ucla3)} answers; send exactly three, one per item in order, null for an item "
                "the person did not answer",
            )
        ]
    return [
        FieldProblem(
            f"ucla3.{index}",
            f"ucla3 item {index + 1} is {answer}; answers are 1 (hardly ever), 2 (some of the time) or 3 (often)",
        )
        for index, answer in enumerate(ucla3)
        if answer is not None and answer not in UCLA3_ANSWERS
    ]


def _ons4_problems(ons4: Ons4 | None) -> list[FieldProblem]:
    if ons4 is None:
        return []
    return [
        FieldProblem(f"ons4.{name}", f"ons4 {name.replace('_', ' ')} is {value}; answers are 0 to 10")
        for name in ONS4_ITEMS
        if (value := getattr(ons4, name)) is not None and value not in ONS4_ANSWERS
    ]


def as_ucla3(answers: Sequence[int | None] | None) -> Ucla3 | None:
    """Three checked answers as stored; None when none of them was answered."""
    if answers is None or all(answer is None for answer in answers):
        return None
    first, second, third = answers
    return (first, second, third)
