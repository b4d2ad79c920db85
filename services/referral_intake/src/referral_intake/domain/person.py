"""The person: minimum-data summaries for events (an age band, not a birth date; a district, not an address),
the keyed hash that recognises them again, and the contact card a connector works from."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date

MAX_AGE_YEARS = 130
# Labelled so that it is never mistaken for a real one; config.py refuses it in production.
DEVELOPMENT_PERSON_KEY_SECRET = "development-only-person-key-secret-never-use-in-production"


def age_on(birth_date: date, on: date) -> int:
    before_birthday = (on.month, on.day) < (birth_date.month, birth_date.day)
    return on.year - birth_date.year - (1 if before_birthday else 0)


def person_key(nhs_number: str, secret: bytes) -> str:
    """The same person's key on every referral, never the NHS number: HMAC-SHA256 keyed with the deployment's
    secret, so a key cannot be turned back into a number by hashing every possible number without the secret."""
    return hmac.new(secret, nhs_number.encode("ascii"), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class ContactPoint:
    system: str  # phone, email, sms, ...
    value: str
    use: str | None = None  # home, work, mobile, ...


@dataclass(frozen=True)
class ContactCard:
    """What a connector needs to make first contact: who the person is, how to reach them and how they would
    like to be approached, and why they were referred. It stays in intake: no event carries it."""

    name: str | None = None
    telecom: tuple[ContactPoint, ...] = ()  # the preferred first
    address: str | None = None
    preferred_language: str | None = None
    interpreter_needed: bool = False
    first_contact_preference: str | None = None
    reasons: tuple[str, ...] = ()
    note: str | None = None
