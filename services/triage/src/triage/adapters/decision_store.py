"""Decisions and what became of each referral, in the triage database, on a unit's connection."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from typing import Any

import asyncpg

from triage.domain.decision import Decision
from triage.domain.referral import ReferralFacts

_DECISION = """
SELECT d.referral_id, d.outcome, d.complexity, d.reasons, d.summary, d.redirect, d.postcode_district,
       d.policy_version, d.decided_at, d.correlation_id, d.requester_ods, d.requester_partner, d.priority,
       d.replaces_referral_id,
       a.connector_id, a.connector_kind, a.reason AS assignment_reason, a.assigned_at, a.state, a.ended_at,
       a.end_reason, a.terms, a.waiting_since,
       w.required_kind, w.reason AS waitlist_reason, w.waitlisted_at,
       (SELECT count(*) FROM waitlist ahead WHERE ahead.area = w.area
          AND (ahead.priority_rank, ahead.received_at, ahead.referral_id)
              <= (w.priority_rank, w.received_at, w.referral_id)) AS waitlist_position,
       l.linked_to_referral_id, l.reason AS link_reason, l.linked_at,
       e.reason AS ended_as, e.detail AS end_detail, e.ended_at AS end_time
FROM decisions d
LEFT JOIN assignments a ON a.referral_id = d.referral_id
LEFT JOIN waitlist w ON w.referral_id = d.referral_id
LEFT JOIN links l ON l.referral_id = d.referral_id
LEFT JOIN referral_ends e ON e.referral_id = d.referral_id
WHERE d.referral_id = $1
"""
_CHANGES = """
SELECT kind, outcome, requested_by, requested_at, requested_reason, named_connector_id, from_connector_id,
       to_connector_id, reason, answered_at
FROM case_changes WHERE referral_id = $1 ORDER BY answered_at, requested_at
"""


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


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
            " complexity, reasons, summary, redirect, postcode_district, policy_version, requester_ods, person_key,"
            " replaces_referral_id, priority, requester_partner)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, '', $9::jsonb, $10, $11, $12, $13, $14, $15, $16)"
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
            facts.person_key,
            facts.replaces_referral_id,
            facts.priority,
            facts.requester_partner,
        )
        return bool(inserted)

    async def set_summary(self, referral_id: str, summary: str) -> None:
        await self.connection.execute("UPDATE decisions SET summary = $2 WHERE referral_id = $1", referral_id, summary)

    async def record_link(self, referral_id: str, linked_to: str, reason: str, at: datetime) -> None:
        await self.connection.execute(
            "INSERT INTO links (referral_id, linked_to_referral_id, reason, linked_at) VALUES ($1, $2, $3, $4)",
            referral_id,
            linked_to,
            reason,
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
            "priority": row["priority"],
            "rules_fired": json.loads(row["reasons"]),
            "summary": row["summary"],
            "redirect": json.loads(row["redirect"]) if row["redirect"] else None,
            "postcode_district": row["postcode_district"],
            "policy_version": row["policy_version"],
            "decided_at": row["decided_at"].isoformat(),
            "correlation_id": row["correlation_id"],
            "requester_ods": row["requester_ods"],
            "requester_partner": row["requester_partner"],
            "replaces_referral_id": row["replaces_referral_id"],
            "assignment": None,
            "waitlist": None,
            "linked": None,
            "ended": None,
            "changes": [],
        }
        if row["connector_id"]:
            view["assignment"] = {
                "connector_id": row["connector_id"],
                "connector_kind": row["connector_kind"],
                "reason": row["assignment_reason"],
                "assigned_at": row["assigned_at"].isoformat(),
                "state": row["state"],
                "ended_at": _iso(row["ended_at"]),
                "end_reason": row["end_reason"],
                "terms": json.loads(row["terms"]) if row["terms"] else None,
                "waiting_since": _iso(row["waiting_since"]),
            }
        elif row["waitlisted_at"]:
            view["waitlist"] = {
                "position": row["waitlist_position"],
                "required_kind": row["required_kind"],
                "reason": row["waitlist_reason"],
                "waitlisted_at": row["waitlisted_at"].isoformat(),
            }
        if row["linked_to_referral_id"]:
            view["linked"] = {
                "linked_to_referral_id": row["linked_to_referral_id"],
                "reason": row["link_reason"],
                "linked_at": row["linked_at"].isoformat(),
            }
        if row["ended_as"]:
            view["ended"] = {"as": row["ended_as"], "detail": row["end_detail"], "at": row["end_time"].isoformat()}
        changes = await self.connection.fetch(_CHANGES, referral_id)
        view["changes"] = [
            {**dict(change), "requested_at": change["requested_at"].isoformat(),
             "answered_at": change["answered_at"].isoformat()}
            for change in changes
        ]  # fmt: skip
        return view
