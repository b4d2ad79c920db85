"""What notifications remembers between events: referrer contacts, self-referrers' own addresses and the outcomes
to tell them.

Every method runs on the unit of work's connection, inside its transaction.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from notifications.domain.outcomes import (
    AwaitingOutcome,
    BarsConversation,
    Outcome,
    PersonAddress,
    ReferrerContact,
    StageScores,
)
from signpost_contracts.registry import REFERRAL_WITHDRAWN

# First key of the two-key advisory lock: keeps these locks apart from any other advisory lock.
_REFERRAL_LOCK_CLASS = 8083
# Whom to tell about referral $1 is known: its details arrived and, when the person is the referrer, their own
# address too (each comes on its own topic, in either order).
_KNOWN = (
    "EXISTS (SELECT 1 FROM referrer_contacts rc WHERE rc.referral_id = $1 AND (NOT rc.contact_apart"
    " OR EXISTS (SELECT 1 FROM person_contacts pc WHERE pc.referral_id = rc.referral_id)))"
)


class ReferralRepository:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def lock(self, referral_id: str) -> None:
        """Serialise the events of one referral across consumers until this transaction ends.

        The contact and the outcome arrive on different topics, possibly at two replicas at once; without
        this, each transaction could miss the other's uncommitted row and no delivery would be created.
        """
        await self.connection.execute(
            "SELECT pg_advisory_xact_lock($1, hashtext($2))", _REFERRAL_LOCK_CLASS, referral_id
        )

    async def save_contact(self, contact: ReferrerContact, event_id: str) -> None:
        await self.connection.execute(
            "INSERT INTO referrer_contacts (referral_id, email, organisation_name, ods_code, referrer_reference,"
            " received_event_id, referrer_kind, phone, partner_id, bars, contact_apart)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11) ON CONFLICT (referral_id) DO NOTHING",
            contact.referral_id,
            contact.email,
            contact.organisation_name,
            contact.ods_code,
            contact.reference,
            event_id,
            contact.kind,
            contact.phone,
            contact.partner_id,
            contact.bars.model_dump_json() if contact.bars else None,
            contact.address_apart,
        )
        await self._no_longer_awaiting(contact.referral_id)

    async def save_person_address(self, address: PersonAddress, event_id: str) -> None:
        """The latest address wins, as on the compacted topic: a person who corrected it is written to there."""
        await self.connection.execute(
            "INSERT INTO person_contacts (referral_id, email, phone, event_id) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (referral_id) DO UPDATE SET email = EXCLUDED.email, phone = EXCLUDED.phone,"
            " event_id = EXCLUDED.event_id, recorded_at = now()",
            address.referral_id,
            address.email,
            address.phone,
            event_id,
        )
        await self._no_longer_awaiting(address.referral_id)

    async def forget_person_address(self, referral_id: str) -> None:
        await self.connection.execute("DELETE FROM person_contacts WHERE referral_id = $1", referral_id)

    async def _no_longer_awaiting(self, referral_id: str) -> None:
        await self.connection.execute(
            f"UPDATE outcomes SET awaiting_referral = false WHERE referral_id = $1 AND awaiting_referral AND {_KNOWN}",
            referral_id,
        )

    async def contact(self, referral_id: str) -> ReferrerContact | None:
        """Whom to tell, or None while it is not known yet (see _KNOWN)."""
        row = await self.connection.fetchrow(
            "SELECT rc.referral_id, organisation_name, ods_code, referrer_reference, referrer_kind, partner_id, bars,"
            " contact_apart, pc.referral_id IS NOT NULL AS address_known,"
            " CASE WHEN contact_apart THEN pc.email ELSE rc.email END AS email,"
            " CASE WHEN contact_apart THEN pc.phone ELSE rc.phone END AS phone"
            " FROM referrer_contacts rc LEFT JOIN person_contacts pc ON pc.referral_id = rc.referral_id"
            " WHERE rc.referral_id = $1",
            referral_id,
        )
        if row is None or (row["contact_apart"] and not row["address_known"]):
            return None
        return ReferrerContact(
            referral_id=row["referral_id"],
            email=row["email"],
            organisation_name=row["organisation_name"],
            ods_code=row["ods_code"],
            reference=row["referrer_reference"],
            kind=row["referrer_kind"],
            phone=row["phone"],
            partner_id=row["partner_id"],
            bars=BarsConversation.model_validate_json(row["bars"]) if row["bars"] else None,
            address_apart=row["contact_apart"],
        )

    async def save_outcome(self, outcome: Outcome, correlation_id: str) -> None:
        await self.connection.execute(
            "INSERT INTO outcomes (event_id, referral_id, event_type, details, correlation_id, awaiting_referral)"
            f" VALUES ($2, $1, $3, $4::jsonb, $5, NOT {_KNOWN})"
            " ON CONFLICT (event_id) DO NOTHING",
            outcome.referral_id,
            outcome.event_id,
            outcome.event_type,
            outcome.model_dump_json(),
            correlation_id,
        )

    async def has_outcomes(self, referral_id: str) -> bool:
        return bool(
            await self.connection.fetchval("SELECT EXISTS (SELECT 1 FROM outcomes WHERE referral_id = $1)", referral_id)
        )

    async def outcomes_without_delivery(self, referral_id: str) -> list[tuple[Outcome, str]]:
        """Outcomes nobody has been told about yet, on any channel."""
        rows = await self.connection.fetch(
            "SELECT o.details, o.correlation_id FROM outcomes o"
            " WHERE o.referral_id = $1"
            " AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.outcome_event_id = o.event_id)"
            " ORDER BY o.recorded_at",
            referral_id,
        )
        return [(Outcome.model_validate_json(row["details"]), row["correlation_id"]) for row in rows]

    async def outcome(self, event_id: str) -> tuple[Outcome, str] | None:
        row = await self.connection.fetchrow(
            "SELECT details, correlation_id FROM outcomes WHERE event_id = $1", event_id
        )
        return (Outcome.model_validate_json(row["details"]), row["correlation_id"]) if row else None

    async def is_erased(self, referral_id: str) -> bool:
        return bool(
            await self.connection.fetchval(
                "SELECT EXISTS (SELECT 1 FROM erased_referrals WHERE referral_id = $1)", referral_id
            )
        )

    async def is_withdrawn(self, referral_id: str) -> bool:
        return bool(
            await self.connection.fetchval(
                "SELECT EXISTS (SELECT 1 FROM outcomes WHERE referral_id = $1 AND event_type = $2)",
                referral_id,
                REFERRAL_WITHDRAWN.name,
            )
        )

    async def save_scores(
        self, referral_id: str, stage: str, recorded_at: datetime, event_id: str, scores: StageScores
    ) -> None:
        """A stage recorded again replaces the earlier answers: the later wins, whichever arrives first."""
        await self.connection.execute(
            "INSERT INTO case_measures (referral_id, stage, recorded_at, event_id, scores)"
            " VALUES ($1, $2, $3, $4, $5::jsonb) ON CONFLICT (referral_id, stage) DO UPDATE SET"
            " recorded_at = EXCLUDED.recorded_at, event_id = EXCLUDED.event_id, scores = EXCLUDED.scores"
            " WHERE (EXCLUDED.recorded_at, EXCLUDED.event_id) > (case_measures.recorded_at, case_measures.event_id)",
            referral_id,
            stage,
            recorded_at,
            event_id,
            scores.model_dump_json(),
        )

    async def scores(self, referral_id: str) -> tuple[StageScores | None, StageScores | None]:
        """The baseline and closing scores of a case, each None when that stage was never recorded."""
        rows = await self.connection.fetch(
            "SELECT stage, scores FROM case_measures WHERE referral_id = $1", referral_id
        )
        by_stage = {row["stage"]: StageScores.model_validate_json(row["scores"]) for row in rows}
        return by_stage.get("baseline"), by_stage.get("closing")

    async def awaiting_referral(self, longer_than_seconds: float, limit: int) -> list[AwaitingOutcome]:
        rows = await self.connection.fetch(
            "SELECT event_id, event_type, referral_id, correlation_id, recorded_at,"
            " extract(epoch FROM now() - recorded_at)::float8 AS waiting_seconds"
            " FROM outcomes WHERE awaiting_referral AND recorded_at < now() - make_interval(secs => $1)"
            " ORDER BY recorded_at LIMIT $2",
            longer_than_seconds,
            limit,
        )
        return [AwaitingOutcome(**dict(row)) for row in rows]

    async def count_awaiting_referral(self, longer_than_seconds: float) -> int:
        return int(
            await self.connection.fetchval(
                "SELECT count(*) FROM outcomes"
                " WHERE awaiting_referral AND recorded_at < now() - make_interval(secs => $1)",
                longer_than_seconds,
            )
        )
