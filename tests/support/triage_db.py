"""Checks of triage's allocation state straight from its database, independent of the code that wrote it."""

from __future__ import annotations

from typing import Any

from triage.domain.assignment import ConnectorLoad
from triage.domain.policy import AssignmentRules
from triage.domain.waitlist import WaitingEntry, may_take


async def allocation_problems(db: Any, rules: AssignmentRules | None = None) -> list[str]:
    """Everything wrong with the places: a caseload that differs from the connector's open assignments or
    exceeds the capacity, a referral both assigned and waiting, a waiting entry a connector with room could take."""
    rules = rules or AssignmentRules()
    problems: list[str] = []
    counts = await db.fetch(
        "SELECT c.id, c.caseload, c.capacity, count(a.referral_id) AS open_cases FROM connectors c"
        " LEFT JOIN assignments a ON a.connector_id = c.id AND a.state = 'open' GROUP BY c.id ORDER BY c.id"
    )
    for row in counts:
        if row["caseload"] != row["open_cases"]:
            problems.append(f"{row['id']}: caseload {row['caseload']} but {row['open_cases']} open assignments")
        if row["caseload"] > row["capacity"]:
            problems.append(f"{row['id']}: caseload {row['caseload']} over capacity {row['capacity']}")
    for row in await db.fetch("SELECT referral_id FROM waitlist JOIN assignments USING (referral_id)"):
        problems.append(f"{row['referral_id']} is both assigned and waiting")
    connectors = [
        ConnectorLoad(r["id"], r["kind"], tuple(r["areas"]), r["capacity"], r["caseload"], status=r["status"],
                      active=r["active"])
        for r in await db.fetch("SELECT id, kind, areas, capacity, caseload, status, active FROM connectors")
    ]  # fmt: skip
    for row in await db.fetch("SELECT referral_id, area, complexity, priority, received_at FROM waitlist"):
        entry = WaitingEntry(row["referral_id"], row["area"], row["complexity"], row["priority"], row["received_at"])
        takers = [c.id for c in connectors if may_take(c, entry, rules)]
        if takers:
            problems.append(f"{entry.referral_id} waits while {', '.join(takers)} could take it")
    return problems
