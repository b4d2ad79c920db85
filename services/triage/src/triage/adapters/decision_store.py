"""Decisions, assignments and the waitlist in the triage database, on a unit's connection."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from typing import Any

import asyncpg

from triage.domain.assignment import Assignment, Placement
from triage.domain.decision import Decision
from triage.domain.referral import ReferralFacts

_DECISION = """
SELECT d.referral_id, d.outcome, d.complexity, d.reasons, d.summary, d.redirect, d.postcode_district,
       d.policy_version, d.decided_at, d.correlation_id, d.requester_ods,
       a.connector_id, a.connector_kind, a.reason AS assignment_reason, a.assigned_at,
       w.required_kind, w.reason AS waitlist_reason, w.waitlisted_at,
       (SELECT count(*) FROM waitlist ahead WHERE ahead.area = w.area
          AND (ahead.received_at, ahead.referral_id) <= (w.received_at, w.referral_id)) AS waitlist_position
FROM decisions d
LEFT JOIN assignments a ON a.referral_id = d.referral_id
LEFT JOIN waitlist w ON w.referral_id = d.referral_id
WHERE d.referral_id = $1
"""


class DecisionStore:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def claim_referral(
        self,
        facts: ReferralFacts,
        decision: Decision,
        *,
        event_id: str,
        correlation_id: str,
        decided_at: datetime,
    ) -> bool:
        """Record the decision; False when this referral was already decided (another event id carried it).

        A concurrent claim of the same referral waits on the primary key until the first commits.
        """
        redirect = decision.redirect
        inserted = await self.connection.fetchval(
            "INSERT INTO decisions (referral_id, received_event_id, correlation_id, received_at, decided_at, outcome,"
            " complexity, reasons, summary, redirect, postcode_district, policy_version, requester_ods)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, '', $9::jsonb, $10, $11, $12)"
            " ON CONFLICT (referral_id) DO NOTHING RETURNING true",
            facts.referral_id,
            event_id,
            correlation_id,
            facts.received_at,
            decided_at,
            decision.outcome,
            decision.complexity,
            json.dumps([asdict(rule) for rule in decision.fired]),
            json.dumps(redirect.model_dump(include={"id", "service", "contact", "urgent"})) if redirect else None,
            decision.district,
            decision.policy_version,
            facts.requester_ods,
        )
        return bool(inserted)

    async def record_outcome(
        self,
        facts: ReferralFacts,
        decision: Decision,
        placement: Placement | None,
        summary: str,
        at: datetime,
    ) -> None:
        await self.connection.execute(
            "UPDATE decisions SET summary = $2 WHERE referral_id = $1", facts.referral_id, summary
        )
        if isinstance(placement, Assignment):
            await self.connection.execute(
                "INSERT INTO assignments (referral_id, connector_id, connector_kind, area, reason, assigned_at)"
                " VALUES ($1, $2, $3, $4, $5, $6)",
                facts.referral_id,
                placement.connector.id,
                placement.connector.kind,
                decision.district,
                placement.reason,
                at,
            )
        elif placement is not None:
            await self.connection.execute(
                "INSERT INTO waitlist"
                " (referral_id, area, complexity, required_kind, reason, received_at, waitlisted_at)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7)",
                facts.referral_id,
                decision.district,
                decision.complexity,
                placement.required_kind,
                placement.reason,
                facts.received_at,
                at,
            )

    async def decision_view(self, referral_id: str) -> dict[str, Any] | None:
        row = await self.connection.fetchrow(_DECISION, referral_id)
        if row is None:
            return None
        view: dict[str, Any] = {
            "referral_id": row["referral_id"],
            "outcome": row["outcome"],
            "complexity": row["complexity"],
            "rules_fired": json.loads(row["reasons"]),
            "summary": row["summary"],
            "redirect": json.loads(row["redirect"]) if row["redirect"] else None,
            "postcode_district": row["postcode_district"],
            "policy_version": row["policy_version"],
            "decided_at": row["decided_at"].isoformat(),
            "correlation_id": row["correlation_id"],
            "requester_ods": row["requester_ods"],
            "assignment": None,
            "waitlist": None,
        }
        if row["connector_id"]:
            view["assignment"] = {
                "connector_id": row["connector_id"],
                "connector_kind": row["connector_kind"],
                "reason": row["assignment_reason"],
                "assigned_at": row["assigned_at"].isoformat(),
            }
        elif row["waitlisted_at"]:
            view["waitlist"] = {
                "position": row["waitlist_position"],
                "required_kind": row["required_kind"],
                "reason": row["waitlist_reason"],
                "waitlisted_at": row["waitlisted_at"].isoformat(),
            }
        return view
