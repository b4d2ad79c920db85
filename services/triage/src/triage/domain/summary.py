"""What the referrer is told, in plain words: the decision and, when accepted, what happens next."""

from __future__ import annotations

from triage.domain.assignment import Assignment, Placement
from triage.domain.decision import Decision


def summarise(decision: Decision, placement: Placement | None) -> str:
    if decision.redirect is not None:
        redirect = decision.redirect
        text = f"{'Urgent: ' if redirect.urgent else ''}{redirect.summary}"
        return f"{text} Contact: {redirect.contact}" if redirect.contact else text
    if decision.outcome == "declined":
        reasons = " ".join(rule.description for rule in decision.declines)
        return f"We cannot accept this referral. {reasons}"
    accepted = f"We have accepted this referral ({decision.complexity} complexity)."
    if isinstance(placement, Assignment):
        return f"{accepted} A community connector has been assigned and will contact the person soon."
    return (
        f"{accepted} No connector in {decision.district} has room just now, so the person is on our waiting list;"
        " we will tell you when a connector is assigned."
    )


def link_reason(linked_to: str, assigned: bool) -> str:
    """Why a referral took no place: its person already has an open case (assigned, or waiting for one)."""
    state = "is being supported by a connector" if assigned else "is on our waiting list for a connector"
    return (
        f"The person already has an open referral with us ({linked_to}) and {state}, so this referral is linked"
        " to that case rather than given a second place."
    )


def linked_summary(decision: Decision, linked_to: str, assigned: bool) -> str:
    return f"We have accepted this referral ({decision.complexity} complexity). {link_reason(linked_to, assigned)}"
