"""The access audit's vocabulary: which kind of record a caller was shown, and one recorded access."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

# What was read: a FHIR ServiceRequest or Task (read or search result), a case, or a case on a worklist.
RecordKind = Literal["ServiceRequest", "Task", "case", "worklist"]
RECORD_KINDS: tuple[RecordKind, ...] = ("ServiceRequest", "Task", "case", "worklist")


@dataclass(frozen=True)
class RecordAccess:
    at: datetime
    who: str  # the token's subject
    organisation: str | None  # the ODS code or partner id the caller acted for
    record: RecordKind
    referral_id: str


@dataclass(frozen=True)
class AccessQuery:
    """A coordinator's question of the audit; every field narrows it."""

    referral_id: str | None = None
    who: str | None = None
    since: datetime | None = None
    until: datetime | None = None
