"""What triage knows about a referral: the minimum the received event carries, in triage's own words."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

ENGLISH = "en"


def _tags(values: Iterable[str]) -> frozenset[str]:
    # Need and risk categories are codes; the case a sender used must not change a decision.
    return frozenset(value.strip().lower() for value in values if value.strip())


def primary_language(tag: str | None) -> str | None:
    """'pa-IN' and 'PA' both mean Punjabi to a connector: compare BCP-47 primary subtags only."""
    if not tag or not tag.strip():
        return None
    return tag.strip().split("-")[0].lower()


@dataclass(frozen=True)
class ReferralFacts:
    referral_id: str
    received_at: datetime
    age_years: int | None
    postcode_district: str | None
    needs: frozenset[str]
    risk_flags: frozenset[str]
    priority: str
    interpreter_needed: bool
    preferred_language: str | None
    # Who may read the decision: the referring organisation's ODS code (None when it gave none).
    requester_ods: str | None = None
    # Or, for a partner organisation without an ODS code, its id in intake's partner register.
    requester_partner: str | None = None
    # A keyed hash of the NHS number (never the number): the same person has the same key.
    person_key: str | None = None
    replaces_referral_id: str | None = None
    # gp, social-worker, community-organisation, self or other: policy rules may depend on it.
    referrer_kind: str | None = None

    @classmethod
    def of(
        cls,
        *,
        referral_id: str,
        received_at: datetime,
        age_years: int | None = None,
        postcode_district: str | None = None,
        needs: Iterable[str] = (),
        risk_flags: Iterable[str] = (),
        priority: str = "routine",
        interpreter_needed: bool = False,
        preferred_language: str | None = None,
        requester_ods: str | None = None,
        requester_partner: str | None = None,
        person_key: str | None = None,
        replaces_referral_id: str | None = None,
        referrer_kind: str | None = None,
    ) -> ReferralFacts:
        return cls(
            referral_id=referral_id,
            received_at=received_at,
            age_years=age_years,
            postcode_district=postcode_district,
            needs=_tags(needs),
            risk_flags=_tags(risk_flags),
            priority=priority.lower(),
            interpreter_needed=interpreter_needed,
            preferred_language=primary_language(preferred_language),
            requester_ods=requester_ods or None,
            requester_partner=requester_partner or None,
            person_key=person_key or None,
            replaces_referral_id=replaces_referral_id or None,
            referrer_kind=referrer_kind or None,
        )

    @property
    def language_preference(self) -> str | None:
        """A language a connector should speak, or None when any connector will do."""
        return None if self.preferred_language in (None, ENGLISH) else self.preferred_language
