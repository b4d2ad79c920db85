"""Events produced by referral_intake on the `referrals` stream.

They carry the minimum the rest of the system needs: an age (not a birth date), a postcode
district (not a full address), need categories, and how to reach the *referrer* (never the person). When the
person is the referrer (kind "self": a self-referral, outreach), their reply address goes on the compacted
contacts stream instead (events/contacts.py), where erasure can reach it; this stream is kept for ever.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from signpost_contracts.base import ContractModel
from signpost_contracts.events.common import (
    EMAIL_LIMIT,
    LIST_LIMIT,
    PHONE_LIMIT,
    Code,
    Identifier,
    Name,
    Priority,
    ReferrerKind,
    Uri,
)

Channel = Literal["fhir-rest", "bars-message", "self-referral", "kafka"]
# v2 adds the partner organisations' form and connectors' outreach. A new value would be rejected by a v1
# consumer, so these arrive only in referral.received.v2 (v1 stays as it was, for history and old readers).
ChannelV2 = Literal["fhir-rest", "bars-message", "self-referral", "kafka", "referral-form", "outreach"]

# The age bands `PersonSummary.age_band` uses, ONS style: ten-year bands from 25, an open top band,
# children as one band because the service takes adults. Producer and consumers share this list.
AGE_BANDS: tuple[tuple[int, int | None, str], ...] = (
    (0, 17, "0-17"),
    (18, 24, "18-24"),
    (25, 34, "25-34"),
    (35, 44, "35-44"),
    (45, 54, "45-54"),
    (55, 64, "55-64"),
    (65, 74, "65-74"),
    (75, 84, "75-84"),
    (85, None, "85+"),
)


def age_band(age_years: int) -> str:
    """The band an age in whole years falls in, e.g. 72 -> "65-74"."""
    for low, high, label in AGE_BANDS:
        if age_years >= low and (high is None or age_years <= high):
            return label
    raise ValueError(f"age {age_years} is negative")


class ReferrerContact(ContractModel):
    email: str | None = Field(default=None, max_length=EMAIL_LIMIT)
    phone: str | None = Field(default=None, max_length=PHONE_LIMIT)
    fhir_endpoint: Uri | None = None


class Referrer(ContractModel):
    kind: ReferrerKind
    ods_code: Code | None = Field(default=None, description="ODS code of the referring organisation")
    organisation_name: Name | None = None
    contact: ReferrerContact = ReferrerContact()


class ReferrerV2(Referrer):
    partner_id: Code | None = Field(
        default=None,
        description="the registered partner organisation (PARTNERS_FILE id) that referred, when it has no ODS code",
    )
    contact_apart: bool = Field(
        default=False,
        description="true when the referrer is the person (kind 'self'): `contact` is then empty, and their reply"
        " address is the referral.person-contact.v1 event keyed by this referral id on the referral.contacts topic,"
        " which erasure can empty. False on events published before that topic existed (their contact is here)",
    )


class Sender(ContractModel):
    """The system that sent the referral when it is not the referrer itself (an integration engine or hub)."""

    system: Name = Field(description="the sending system's identity (its token's subject)")
    ods_code: Code | None = Field(default=None, description="the sending system's own ODS code, when it has one")


class BarsOrigin(ContractModel):
    """Where a referral sent as a BaRS message came from: what a `servicerequest-response` back needs."""

    message_id: Name = Field(
        description="the request message's Bundle.id, which BaRS responses name (else its MessageHeader.id)"
    )
    source_endpoint: Uri = Field(description="MessageHeader.source.endpoint: where responses go")
    sender_ods: Code | None = Field(default=None, description="ODS code of MessageHeader.sender, when it names one")
    correlation_id: Name = Field(description="the X-Correlation-ID of the conversation, echoed on the response")


class PersonSummary(ContractModel):
    age_years: int | None = Field(default=None, ge=0, le=130)
    age_band: Code | None = Field(default=None, description="e.g. '65-74'; reporting keeps only this")
    postcode_district: Code | None = Field(default=None, description="outward code, e.g. 'LS6'")
    imd_decile: int | None = Field(
        default=None,
        ge=1,
        le=10,
        description="English Index of Multiple Deprivation decile of the person's area (1: the most deprived"
        " 10% of LSOAs), derived at intake from the full postcode; never the postcode or the LSOA itself."
        " Null when the postcode is unknown, outside England, or no lookup is configured",
    )
    preferred_language: Code | None = Field(default=None, description="BCP-47 tag, e.g. 'pa'")
    interpreter_needed: bool = False


class ReferralReceived(ContractModel):
    """A new referral was accepted at the door and stored."""

    referral_id: str
    received_at: datetime
    channel: Channel
    referrer_reference: Identifier | None = Field(
        default=None, description="the referrer's own identifier for this referral"
    )
    referrer: Referrer
    person: PersonSummary
    needs: list[Code] = Field(
        default_factory=list, max_length=LIST_LIMIT, description="need categories, e.g. 'loneliness'"
    )
    risk_flags: list[Code] = Field(default_factory=list, max_length=LIST_LIMIT, description="e.g. 'self-harm-risk'")
    priority: Priority = "routine"
    sender: Sender | None = Field(
        default=None, description="the integration engine or hub that sent it for the referrer, if any"
    )
    person_key: Code | None = Field(
        default=None,
        description="a keyed hash of the NHS number (never the number): the same person referred twice has the"
        " same key, so a second referral while a case is open is linked to it rather than given a second place",
    )
    replaces_referral_id: str | None = Field(
        default=None, description="the earlier referral this one replaces (FHIR ServiceRequest.replaces)"
    )


class ReferralReceivedV2(ReferralReceived):
    """A new referral was accepted at the door and stored (v2: more channels, and the partner that referred).

    Every v1 payload is also a valid v2 payload, so a consumer reads both versions with this one model
    and handles them the same way.
    """

    # Widening a field's type is safe for these frozen models, which are built from data, never assigned.
    channel: ChannelV2  # type: ignore[assignment]
    referrer: ReferrerV2
    bars: BarsOrigin | None = Field(
        default=None, description="set when the referral came as a BaRS message (channel bars-message)"
    )
