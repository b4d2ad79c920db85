"""Message content from Jinja2 templates, one per outcome (templates/<kind>.txt.j2).

Email: templates/<kind>.txt.j2 (templates/self/ for a person who referred themselves). SMS:
templates/sms/, one line each, with no clinical detail and nothing of the referrer's own words but
their (bounded) reference. The duty coordinator's escalation: urgent-escalation.txt.j2 and its SMS.

Each template extends base.txt.j2 and fills two blocks: `subject` (one line) and `body`. The
context holds only what identifies the referral to the referrer (their own reference and the
Signpost id) and the outcome: no name or NHS number can reach an email because none is given. The
referrer's own words (organisation name, reference) pass through `display_text` first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from notifications.domain.free_text import ORGANISATION_NAME_LIMIT, REFERENCE_LIMIT, display_text
from notifications.domain.outcomes import Outcome, ReferrerContact

SMS_LIMIT = 612  # four SMS fragments: GOV.UK Notify charges each, and a text longer than this is not read


@dataclass(frozen=True)
class EmailContent:
    subject: str
    text: str


@dataclass(frozen=True)
class Composed:
    """A message as composed once, when its delivery is created: the same words however often it is sent."""

    template: str  # its name, e.g. "self/assigned" or "sms/redirected": GOV.UK Notify's template is chosen by it
    subject: str  # "" for SMS
    text: str


class EmailTemplates:
    def __init__(self) -> None:
        self.environment = Environment(
            loader=PackageLoader("notifications", "templates"),
            # Plain text today; any .html template added later is escaped.
            autoescape=select_autoescape(enabled_extensions=("html", "htm"), default_for_string=False),
            undefined=StrictUndefined,  # a missing value is a bug to see, never a blank in an email
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )

    def render(self, outcome: Outcome, contact: ReferrerContact) -> EmailContent:
        composed = self.compose(outcome, contact, channel="email", audience="referrer")
        return EmailContent(composed.subject, composed.text)

    def compose(self, outcome: Outcome, contact: ReferrerContact, *, channel: str, audience: str) -> Composed:
        """The email or SMS about `outcome` for the referrer, or for the duty coordinator (an urgent escalation)."""
        # A person who referred themselves reads about their own request (templates/self/); a message with no
        # such version would talk about "the person" to the person, so every outcome kind has one.
        folder = "self/" if contact.kind == "self" and audience == "referrer" else ""
        kind = "urgent-escalation" if audience == "duty" else outcome.kind
        name = f"{'sms/' if channel == 'sms' else ''}{folder}{kind}"
        template = self.environment.get_template(f"{name}.txt.j2")
        context: dict[str, Any] = {
            "outcome": outcome,
            "referral_id": outcome.referral_id,
            # Made safe already by contact_of; again here for contacts stored before it was.
            "reference": display_text(contact.reference, REFERENCE_LIMIT),
            "organisation_name": display_text(contact.organisation_name, ORGANISATION_NAME_LIMIT),
        }
        if channel == "sms":
            text = " ".join(template.render(context).split())
            return Composed(name, "", text if len(text) <= SMS_LIMIT else text[: SMS_LIMIT - 1] + "…")
        subject = "".join(template.blocks["subject"](template.new_context(context)))
        text = template.render(context)
        # Collapse whitespace: a line break in a subject would start a new mail header.
        return Composed(name, " ".join(subject.split()), _tidy(text))


def _tidy(text: str) -> str:
    """Drop runs of blank lines left by optional sections, so every email reads cleanly."""
    lines: list[str] = []
    for line in text.rstrip().splitlines():
        line = line.rstrip()
        if line or (lines and lines[-1]):
            lines.append(line)
    return "\n".join(lines) + "\n"
