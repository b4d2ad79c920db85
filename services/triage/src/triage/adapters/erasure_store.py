"""Erasing what triage keeps that could lead back to one referral's person.

Triage never sees a name, an NHS number or an address. It keeps person_key, a keyed hash of the NHS
number: pseudonymous, but personal data all the same (UK GDPR recital 26), so it goes; and the reason
a coordinator typed when asking for a reassignment, which may name the person. The decision, the
assignment and their codes stay: they are what caseloads and counts are made of.
"""

from __future__ import annotations

import asyncpg

from signpost_runtime.erasure import forget_sent_events

ERASED = "(erased)"


class ErasureStore:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def erase(self, referral_id: str) -> None:
        for table in ("decisions", "assignments", "waitlist"):
            await self.connection.execute(
                f"UPDATE {table} SET person_key = NULL WHERE referral_id = $1 AND person_key IS NOT NULL",
                referral_id,
            )
        await self.connection.execute(
            "UPDATE case_changes SET requested_reason = $2 WHERE referral_id = $1 AND requested_reason IS NOT NULL",
            referral_id,
            ERASED,
        )
        await forget_sent_events(self.connection, referral_id)
