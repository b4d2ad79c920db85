"""The connector pages' forms: what each one sends, how its text becomes the case API's request, and
where a refusal is shown.

A form is read into the JSON case API's own request model (cases/requests.py) and handed to the use
case the API calls (case_service.py), so a page checks nothing the API does not and the rules live
once, in the domain. The page adds only what HTML forms need: text turned into numbers, lists and
times; a message that says what to do when a choice is missing; and the domain's refusal shown
beside the field it names (page field ids are `<form>-<field>`, unique on the case page, and equal
to the input's `name`, so the posted fields are also the values the form is shown again with).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError

from referral_intake.case_service import CaseService
from referral_intake.domain.refusals import CaseInvalid, Refused
from referral_intake.ports import IntakeWork
from signpost_runtime.auth import Principal
from signpost_web import FormErrors

# Connectors type local time: a time without an offset is UK time, summer time included.
UK_TIME = ZoneInfo("Europe/London")
TIME_FORMATS = ("%Y-%m-%dT%H:%M", "%d/%m/%Y %H:%M")  # what <input type="datetime-local"> sends; typed by hand
TIME_HINT = "Leave blank for now. Otherwise the date and time, like 14/03/2025 14:30 (UK time)."
ENTER_TIME = "Enter the date and time like 14/03/2025 14:30, or leave it blank for now"

Perform = Callable[[CaseService, IntakeWork, str, Principal, Any], Awaitable[object]]


class FormUnreadable(Exception):  # noqa: N818 (an answer to the person, not a fault)
    """A choice is missing or a value is not of the expected kind; `errors` says which and what to do."""

    def __init__(self, errors: FormErrors) -> None:
        super().__init__(repr(errors))
        self.errors = errors


@dataclass(frozen=True)
class ActionForm:
    """One form of the case page: POSTed to /worklist/{referral_id}/{name}."""

    name: str
    model: type[BaseModel]  # the case API's request body for the same action
    body: Callable[[Mapping[str, str]], dict[str, Any]]
    perform: Perform
    # By the request's field path ("mode", "ucla3.0", "ons4.anxiety"): the page field id, and what to do
    # when the model cannot read it. The first is where a refusal of the whole action is shown.
    fields: Mapping[str, tuple[str, str]]
    # A list the page collects from several boxes, skipping blank ones ("goals" from goals-1..3): the
    # request's goals.1 is then the second box that was filled in, not always the second box.
    filled: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def read(self, posted: Mapping[str, str]) -> BaseModel:
        try:
            return self.model.model_validate(self.body(posted))
        except ValidationError as invalid:
            found = []
            for error in invalid.errors():
                path = ".".join(str(part) for part in error["loc"])
                field_id, what_to_do = self.fields.get(path) or self.fields.get(path.split(".")[0]) or self._whole_form
                found.append((field_id, what_to_do))
            raise FormUnreadable(self._in_page_order(found)) from None

    def refusal(self, refused: Refused, posted: Mapping[str, str], *, extra: str = "") -> FormErrors:
        """The use case's refusal in the NHS.UK pattern: each named field's message beside that field."""
        problems = refused.problems if isinstance(refused, CaseInvalid) else ()
        if not problems:
            return FormErrors({self._whole_form[0]: said_on_a_page(refused.detail) + extra})
        found: list[tuple[str, str]] = []
        said: set[str] = set()
        for problem in problems:
            if problem.message not in said:  # a message naming several fields is said once, on the first
                said.add(problem.message)
                found.append((self.field_id(problem.field, posted), said_on_a_page(problem.message)))
        return self._in_page_order(found)

    def field_id(self, path: str, posted: Mapping[str, str]) -> str:
        base, _, index = path.partition(".")
        if base in self.filled and index.isdigit():
            boxes = [box for box in self.filled[base] if posted.get(box, "").strip()]
            if int(index) < len(boxes):
                return boxes[int(index)]
        found = self.fields.get(path) or self.fields.get(base)
        return found[0] if found else self._whole_form[0]

    def _in_page_order(self, found: list[tuple[str, str]]) -> FormErrors:
        """The errors as the error summary lists them: in the order of the fields on the page."""
        order = [field_id for field_id, _ in self.fields.values()] + [
            box for boxes in self.filled.values() for box in boxes
        ]
        errors = FormErrors()
        for field_id, message in sorted(found, key=lambda error: order.index(error[0]) if error[0] in order else 0):
            errors.add(field_id, message)
        return errors

    @property
    def _whole_form(self) -> tuple[str, str]:
        return next(iter(self.fields.values()))


# How the domain names a field at the start of a message, said as a page would say it.
_LABELS = {
    "at": "The time",
    "new_goal": "The new goal",
    "reason": "The reason",
    "note": "The note",
    "connector_id": "The roster id",
    "goals": "Goals",
    "onward": "Onward connections",
    "ucla3": "UCLA-3",
    "ons4": "ONS4",
}
_NUMBERED = {"goals": "Goal", "onward": "Onward connection"}
_FIRST_WORD = re.compile(r"^(?P<base>[a-z_0-9]+)(?:\.(?P<index>\d+))?(?=\s)")


def said_on_a_page(message: str) -> str:
    """A domain message ("new_goal repeats ...", "goals.1 is blank") as a sentence a connector reads."""
    match = _FIRST_WORD.match(message)
    if match:
        base, index = match["base"], match["index"]
        if index is not None and base in _NUMBERED:
            message = f"{_NUMBERED[base]} {int(index) + 1}{message[match.end() :]}"
        elif index is None and base in _LABELS:
            message = _LABELS[base] + message[match.end() :]
    return message[:1].upper() + message[1:]


def text(posted: Mapping[str, str], field_id: str) -> str:
    return posted.get(field_id, "").strip()


def choice(posted: Mapping[str, str], field_id: str) -> str | None:
    """A radio group's value; None when nothing was chosen (the request model then says it is missing)."""
    return text(posted, field_id) or None


def time(posted: Mapping[str, str], field_id: str) -> datetime | str | None:
    """A time a connector typed, in UK time; None when blank; the text itself when it is not a time
    (the request model refuses it, and the form says how to write one)."""
    typed = text(posted, field_id)
    if not typed:
        return None
    for layout in TIME_FORMATS:
        try:
            return datetime.strptime(typed, layout).replace(tzinfo=UK_TIME)
        except ValueError:
            continue
    return typed


def number(posted: Mapping[str, str], field_id: str) -> int | str | None:
    """A whole number typed or chosen; None when blank; the text itself when it is not a number."""
    typed = text(posted, field_id)
    if not typed:
        return None
    return int(typed) if re.fullmatch(r"-?\d{1,3}", typed) else typed


def lines(posted: Mapping[str, str], field_id: str) -> list[str]:
    """A textarea with one entry a line, blank lines dropped."""
    return [line.strip() for line in posted.get(field_id, "").splitlines() if line.strip()]
