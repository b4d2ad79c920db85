"""The NHS.UK error pattern for forms: what was wrong, field by field.

A page with errors shows an error summary at the top of the main content, linking to each field
that needs attention (`href="#<field id>"`), the same message beside the field itself
(`nhsuk-error-message`, tied to it by `aria-describedby`), and a title that starts "Error: ".
`FormErrors` holds the messages; the NHS.UK macros draw them:

    {{ errorSummary(errors.summary()) if errors }}
    {{ input({"id": "postcode", "name": "postcode", "label": {"text": "Postcode"},
              "errorMessage": errors.message("postcode")}) }}

Add errors in the order the fields appear on the page: the summary lists them in that order.
Messages follow the NHS.UK style: say what to do ("Enter your postcode"), never only "invalid".
"""

from __future__ import annotations

from typing import Any


class FormErrors:
    """Messages by field id, in page order. Falsy when the form had no errors."""

    def __init__(self, messages: dict[str, str] | None = None) -> None:
        self._messages: dict[str, str] = dict(messages or {})

    def add(self, field_id: str, message: str) -> None:
        """Record the first problem with a field (a later one for the same field is ignored)."""
        self._messages.setdefault(field_id, message)

    def __bool__(self) -> bool:
        return bool(self._messages)

    def __contains__(self, field_id: object) -> bool:
        return field_id in self._messages

    def __repr__(self) -> str:
        return f"FormErrors({self._messages!r})"

    def message(self, field_id: str) -> dict[str, str] | None:
        """The field's `errorMessage` parameter for an NHS.UK form macro, or None when it is fine."""
        text = self._messages.get(field_id)
        return {"text": text} if text is not None else None

    def summary(self, title: str = "There is a problem") -> dict[str, Any]:
        """The `errorSummary` macro's parameters: a title and one link per field."""
        return {
            "titleText": title,
            "errorList": [{"text": text, "href": f"#{field_id}"} for field_id, text in self._messages.items()],
        }

    def items(self) -> list[tuple[str, str]]:
        return list(self._messages.items())
