"""Who is told about an outcome, on which channel, and what is tried next when that fails.

A referrer is reached in the order their directory entry gives (referrer_directory.json: channels and
addresses per ODS code or partner id), with what arrived on the referral itself filling the gaps:
the requester's own email is preferred to an organisation's shared inbox, because it reaches the
person who referred. A referral that came by BaRS is answered by BaRS first, at the endpoint its
MessageHeader named. SMS reaches a professional referrer only for urgent matters (the directory's
urgent number), and never carries clinical detail; an urgent outcome tries the fastest channel first.

A person who referred themselves gave their own email or mobile number, with their consent to be
contacted (the self-referral form requires it), and hears on those only.

Each outcome starts with one delivery, on the first route (an urgent one by SMS first, with the whole
message on the next route at the same time: a text is an alert, not the details). When a delivery
fails (refused for good, out of attempts, or a permanent-failure receipt), the next route not yet used
gets one; when none is left the failure stands, listed for staff and re-drivable. An urgent outcome
not confirmed delivered in time also moves on to the next route, then to the service's duty
coordinator (Notifier.escalate_due).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from notifications.domain.deliveries import address_problem
from notifications.domain.messages import BARS, EMAIL, SMS, Channel
from notifications.domain.outcomes import Outcome, ReferrerContact

Audience = Literal["referrer", "duty"]
# BaRS carries what a referrer's system can act on: the referral's status. A withdrawal was the
# referrer's own act (its BaRS answer was synchronous), and a self-referral has no BaRS sender.
BARS_CARRIES = frozenset(
    {"assigned", "waitlisted", "assigned-from-waitlist", "first-contact", "linked", "declined", "redirected", "closed"}
)
DEFAULT_ORDER: tuple[Channel, ...] = (BARS, EMAIL)
URGENT_ORDER: tuple[Channel, ...] = (SMS, BARS, EMAIL)
# UK mobile numbers, as GOV.UK Notify accepts them: 07xxx xxxxxx, +447xxx xxxxxx or 00447...
_UK_MOBILE = re.compile(r"^(?:\+44|0044|0)7\d{9}$")


def uk_mobile(number: str | None) -> str | None:
    """The number without spaces, dashes or brackets when it is a UK mobile; None when it is not one."""
    if not number:
        return None
    compact = re.sub(r"[\s\-()]", "", number)
    return compact if _UK_MOBILE.match(compact) else None


class DirectoryEntry(BaseModel):
    """One referrer organisation: how it wants to hear, in order, and where."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=64, description="ODS code, or the partner id from PARTNERS_FILE")
    name: str | None = Field(default=None, max_length=200)
    channels: tuple[Channel, ...] = Field(default=DEFAULT_ORDER, min_length=1)
    bars_endpoint: str | None = Field(
        default=None, max_length=1024, description="e.g. https://fhir.nhs.uk/Id/dos-service-id|2000072489"
    )
    email: str | None = Field(default=None, max_length=254)
    urgent_sms: str | None = Field(default=None, max_length=32, description="a UK mobile staffed for urgent matters")

    @field_validator("channels")
    @classmethod
    def _each_once(cls, channels: tuple[Channel, ...]) -> tuple[Channel, ...]:
        if len(set(channels)) != len(channels):
            raise ValueError(f"each channel at most once, got {list(channels)}")
        return channels

    @field_validator("email")
    @classmethod
    def _address(cls, email: str | None) -> str | None:
        if email is not None and (problem := address_problem(email)):
            raise ValueError(f"{email!r} cannot be emailed: {problem}")
        return email

    @field_validator("urgent_sms")
    @classmethod
    def _mobile(cls, number: str | None) -> str | None:
        if number is not None and uk_mobile(number) is None:
            raise ValueError(f"not a UK mobile number: {number!r}")
        return uk_mobile(number)


class DirectoryError(ValueError):
    pass


@dataclass(frozen=True)
class ReferrerDirectory:
    entries: dict[str, DirectoryEntry]

    @classmethod
    def empty(cls) -> ReferrerDirectory:
        return cls({})

    @classmethod
    def load(cls, path: Path) -> ReferrerDirectory:
        """Read the directory file: a JSON list of entries. Any mistake is reported with where it is."""
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise DirectoryError(f"cannot read the referrer directory {path}: {exc}") from exc
        if not isinstance(raw, list):
            raise DirectoryError(f"the referrer directory {path} must be a JSON list of entries")
        entries: dict[str, DirectoryEntry] = {}
        for index, item in enumerate(raw):
            try:
                entry = DirectoryEntry.model_validate(item)
            except ValidationError as exc:
                raise DirectoryError(f"referrer directory {path}, entry {index}: {exc}") from exc
            if entry.id in entries:
                raise DirectoryError(f"referrer directory {path}: {entry.id!r} appears twice")
            entries[entry.id] = entry
        return cls(entries)

    def entry_for(self, contact: ReferrerContact) -> DirectoryEntry | None:
        for key in (contact.partner_id, contact.ods_code):
            if key and key in self.entries:
                return self.entries[key]
        return None


@dataclass(frozen=True)
class Route:
    channel: Channel
    recipient: str
    audience: Audience = "referrer"


def _email(*candidates: str | None) -> str | None:
    return next((address for address in candidates if address and address_problem(address) is None), None)


def referrer_routes(
    outcome: Outcome, contact: ReferrerContact, entry: DirectoryEntry | None, available: frozenset[Channel]
) -> list[Route]:
    """Every way to tell this referrer about this outcome, best first (empty: no way at all).

    `available`: the channels this deployment can send on (a channel without a configured provider is skipped).
    """
    if contact.kind == "self":
        # The person's own addresses, given with their consent to be contacted: email first (it can say more).
        person = [(EMAIL, _email(contact.email)), (SMS, uk_mobile(contact.phone))]
        return [Route(channel, address) for channel, address in person if address and channel in available]
    addresses: dict[Channel, str | None] = {
        # Only a referral that came by BaRS has a request to respond to; the directory may name where responses
        # to that organisation go instead of the endpoint its message gave.
        BARS: ((entry.bars_endpoint if entry else None) or contact.bars_endpoint) if contact.bars else None,
        EMAIL: _email(contact.email, entry.email if entry else None),
        SMS: entry.urgent_sms if entry else None,
    }
    order = list(entry.channels if entry else DEFAULT_ORDER)
    if contact.bars_endpoint:  # it came by BaRS: answered by BaRS first
        order = [BARS, *(channel for channel in order if channel != BARS)]
    # Urgent: the fastest that has an address, whatever the usual order. Otherwise SMS is never used.
    order = list(URGENT_ORDER) if outcome.urgent else [channel for channel in order if channel != SMS]
    if outcome.kind not in BARS_CARRIES:
        order = [channel for channel in order if channel != BARS]
    return [Route(channel, address) for channel in order if channel in available and (address := addresses[channel])]


def duty_routes(email: str | None, sms: str | None, available: frozenset[Channel]) -> list[Route]:
    """The service's duty coordinator, told on both at once when an urgent message is not confirmed."""
    routes = [Route(SMS, number, "duty")] if (number := uk_mobile(sms)) and SMS in available else []
    return routes + ([Route(EMAIL, address, "duty")] if (address := _email(email)) and EMAIL in available else [])
