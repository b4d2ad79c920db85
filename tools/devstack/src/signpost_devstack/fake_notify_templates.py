"""Templates for the fake GOV.UK Notify, rendered as Notify renders them, and Notify's recipient checks.

A templates file is a JSON list of `{"id": uuid, "type": "email"|"sms", "name", "subject" (email), "body"}`.
Placeholders are Notify's: `((first name))` is replaced by the personalisation value whose key matches
ignoring case, spaces, hyphens and underscores (Notify's rule); `((show_note??Some text))` shows the
text when the value is "yes" or "y" (any case) and nothing otherwise. Every placeholder, conditional
ones included, must be given, or Notify answers "Missing personalisation: ...".

The file shipped beside this module (`fake_notify_test_templates.json`) holds a few templates for
tests only; Signpost's own messages live elsewhere and are passed with `--templates`.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

TEST_TEMPLATES = Path(__file__).with_name("fake_notify_test_templates.json")
PLACEHOLDER = re.compile(r"\(\(([^()]+)\)\)")
_SHOWN = ("yes", "y")
_KEY_IGNORES = str.maketrans("", "", " _-")
# notifications-utils' email rule: a local part of these characters, one @, a hostname of dotted labels.
_LOCAL_PART = re.compile(r"^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~\-]+$")
_LABEL = re.compile(r"^(xn|[a-z0-9]+)(-?-[a-z0-9]+)*$", re.IGNORECASE)
_TLD = re.compile(r"^([a-z]{2,63}|xn--([a-z0-9]+-)*[a-z0-9]+)$", re.IGNORECASE)
TemplateType = Literal["email", "sms"]


class TemplateFileError(ValueError):
    """The templates file cannot be used: names the file, the entry and the field."""


def placeholder_key(name: str) -> str:
    return name.translate(_KEY_IGNORES).lower()


@dataclass(frozen=True)
class Template:
    id: str
    type: TemplateType
    name: str
    body: str
    subject: str | None = None
    version: int = 1

    def placeholders(self) -> list[str]:
        seen: dict[str, str] = {}
        for text in (self.subject or "", self.body):
            for match in PLACEHOLDER.finditer(text):
                name = match.group(1).split("??", 1)[0].strip()
                seen.setdefault(placeholder_key(name), name)
        return list(seen.values())

    def missing(self, personalisation: Mapping[str, Any]) -> list[str]:
        given = {placeholder_key(key) for key, value in personalisation.items() if value is not None}
        return [name for name in self.placeholders() if placeholder_key(name) not in given]

    def render(self, personalisation: Mapping[str, Any]) -> tuple[str | None, str]:
        values = {placeholder_key(key): "" if value is None else str(value) for key, value in personalisation.items()}

        def fill(match: re.Match[str]) -> str:
            name, conditional, shown_text = match.group(1).partition("??")
            value = values.get(placeholder_key(name.strip()), "")
            if conditional:
                return shown_text if value.strip().lower() in _SHOWN else ""
            return value

        subject = PLACEHOLDER.sub(fill, self.subject) if self.subject is not None else None
        return subject, PLACEHOLDER.sub(fill, self.body)


def load_templates(path: Path = TEST_TEMPLATES) -> dict[str, Template]:
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TemplateFileError(f"templates file {path}: cannot be read as JSON: {exc}") from exc
    if not isinstance(entries, list):
        raise TemplateFileError(f"templates file {path}: expected a JSON list of templates")
    templates: dict[str, Template] = {}
    for index, entry in enumerate(entries):
        template = _template(path, index, entry)
        if template.id in templates:
            raise TemplateFileError(f"templates file {path}: entry {index}: id {template.id} appears twice")
        templates[template.id] = template
    return templates


def _template(path: Path, index: int, entry: Any) -> Template:
    def problem(field: str, expected: str) -> TemplateFileError:
        return TemplateFileError(f"templates file {path}: entry {index}: field {field!r}: expected {expected}")

    if not isinstance(entry, dict):
        raise problem("(entry)", "an object with id, type, name, subject (email) and body")
    try:
        template_id = str(uuid.UUID(str(entry.get("id"))))
    except ValueError as exc:
        raise problem("id", "a uuid") from exc
    kind = entry.get("type")
    if kind not in ("email", "sms"):
        raise problem("type", '"email" or "sms"')
    for field in ("name", "body") + (("subject",) if kind == "email" else ()):
        if not isinstance(entry.get(field), str) or not entry[field]:
            raise problem(field, "a non-empty string")
    return Template(
        id=template_id,
        type=kind,
        name=entry["name"],
        body=entry["body"],
        subject=entry.get("subject") if kind == "email" else None,
        version=int(entry.get("version", 1)),
    )


def email_problem(address: str) -> str | None:
    """Notify's "Not a valid email address", or None."""
    local, at, host = address.strip().rpartition("@")
    labels = host.lower().rstrip(".").split(".")
    if (
        not at
        or not local
        or len(address) > 320
        or not _LOCAL_PART.match(local)
        or ".." in local
        or len(labels) < 2
        or not all(_LABEL.match(label) and len(label) <= 63 for label in labels)
        or not _TLD.match(labels[-1])
    ):
        return "Not a valid email address"
    return None


def uk_mobile(number: str) -> tuple[str | None, str | None]:
    """Notify's UK mobile rule: (the number as 447..., None) or (None, Notify's reason)."""
    if re.search(r"[^\d\s()+\-.]", number):
        return None, "Must not contain letters or symbols"
    digits = re.sub(r"\D", "", number)
    if digits.startswith("44"):
        digits = digits[2:]
    digits = digits.removeprefix("0")
    if not digits.startswith("7"):
        return None, "Not a UK mobile number"
    if len(digits) > 10:
        return None, "Too many digits"
    if len(digits) < 10:
        return None, "Not enough digits"
    return f"44{digits}", None


def recipient_key(recipient: str) -> str:
    """How two ways of writing one recipient compare: addresses ignoring case, UK mobiles as 447..."""
    if "@" in recipient:
        return recipient.strip().lower()
    normalised, _ = uk_mobile(recipient)
    return normalised or recipient.strip()
