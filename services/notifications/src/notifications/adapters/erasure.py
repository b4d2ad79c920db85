"""Erasing what notifications holds addressed to, or written about, one referral's person.

Kept, so the counts stay: every delivery row with its channel, status, attempts and times, and every
outcome's kind and time. Erased: the reply addresses (a self-referral's or outreach's are the person's
own, and notifications cannot tell the others apart), the person's own address from the contacts stream,
the rendered subjects and bodies, providers' and SMTP servers' error texts (they quote addresses), the free
text of outcomes (triage's summary and reasons, connectors' goals and onward connections), the case's
scores, and the outbox's sent copies. An urgent alert still open is settled: there is nobody left to tell.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from signpost_runtime.erasure import forget_sent_events

# The Outcome fields (domain/outcomes.py) holding text about the person; each has a default, so it reads back.
_FREE_TEXT = [
    "summary", "reasons", "waitlist_reason", "redirect_service", "redirect_contact", "goals", "onward",
    "baseline_scores", "closing_scores",
]  # fmt: skip
ERASED = "erased"  # deliveries.suppressed_because for one that was still waiting to go


class ErasureRepository:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def settle_urgent(self, referral_id: str, by: str) -> list[tuple[str, datetime]]:
        """Acknowledge, by the erasure, every urgent alert still open: (outcome event id, when) of each."""
        rows = await self.connection.fetch(
            "UPDATE urgent_alerts SET acknowledged_at = now(), acknowledged_by = $2"
            " WHERE referral_id = $1 AND confirmed_at IS NULL AND acknowledged_at IS NULL"
            " RETURNING outcome_event_id, acknowledged_at",
            referral_id,
            by,
        )
        return [(row["outcome_event_id"], row["acknowledged_at"]) for row in rows]

    async def erase(self, referral_id: str, event_id: str, erased_at: datetime) -> None:
        await self.connection.execute(
            "INSERT INTO erased_referrals (referral_id, event_id, erased_at) VALUES ($1, $2, $3)"
            " ON CONFLICT (referral_id) DO NOTHING",
            referral_id,
            event_id,
            erased_at,
        )
        await self.connection.execute(
            "UPDATE referrer_contacts SET email = NULL, phone = NULL, organisation_name = NULL,"
            " referrer_reference = NULL WHERE referral_id = $1",
            referral_id,
        )
        # A delivery still waiting would go out with nothing in it to nobody: it is suppressed instead.
        await self.connection.execute(
            "UPDATE deliveries SET recipient = NULL, subject = '', body = '', last_error = NULL,"
            " receipt_detail = NULL, lease_until = NULL, updated_at = now(),"
            " suppressed_because = CASE WHEN status = 'pending' THEN $2 ELSE suppressed_because END,"
            " suppressed_at = CASE WHEN status = 'pending' THEN now() ELSE suppressed_at END,"
            " status = CASE WHEN status = 'pending' THEN 'suppressed' ELSE status END"
            " WHERE referral_id = $1",
            referral_id,
            ERASED,
        )
        await self.connection.execute(
            "UPDATE outcomes SET details = details - $2::text[], awaiting_referral = false WHERE referral_id = $1",
            referral_id,
            _FREE_TEXT,
        )
        await self.connection.execute(
            "UPDATE urgent_alerts SET last_escalation = NULL WHERE referral_id = $1", referral_id
        )
        await self.connection.execute("DELETE FROM case_measures WHERE referral_id = $1", referral_id)
        await self.connection.execute("DELETE FROM person_contacts WHERE referral_id = $1", referral_id)
        await forget_sent_events(self.connection, referral_id)
