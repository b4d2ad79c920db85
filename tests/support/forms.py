"""The referral forms' answers for tests that send them over HTTP, and reading the confirmation's reference."""

from __future__ import annotations

import re
from typing import Any

import httpx

COOKIE = "signpost_cases_token"  # the staff pages' session cookie (intake's staff_session.SESSION)


def person_answers(name: str) -> dict[str, Any]:
    """A form's answers for someone in Leeds (LS6, the demo roster's area) who agrees to be contacted by email."""
    return {
        "name": name,
        "dob[day]": "27",
        "dob[month]": "3",
        "dob[year]": "1956",
        "postcode": "LS6 2AB",
        "email": f"{name.lower().replace(' ', '.')}@example.com",
        "contact-times": "weekday mornings",
        "first-conversation": "walk",
        "help-with": ["bereavement", "social-isolation"],
        "language": "en",
        "interpreter": "no",
        "consent-contact": "yes",
    }


def reference_on(page: httpx.Response) -> str:
    """The reference the confirmation page shows (the referral's id)."""
    assert page.status_code == 200, page.text
    found = re.search(r'<strong id="reference">([^<]+)</strong>', page.text)
    assert found, "the confirmation shows no reference"
    return found[1]
