"""The unit of work intake's use cases run in: a transaction and the repositories on it."""

from __future__ import annotations

import asyncpg

from referral_intake.adapters.access_log_store import AccessLogRepository
from referral_intake.adapters.case_store import CaseRepository
from referral_intake.adapters.erasure_store import ErasureRepository
from referral_intake.adapters.progress_store import ProgressRepository
from referral_intake.adapters.repository import ReferralRepository
from referral_intake.adapters.service_status_store import ServiceStatusRepository
from referral_intake.adapters.task_index_store import TaskIndexRepository
from signpost_runtime.unit_of_work import Unit


class IntakeUnit(Unit):
    def __init__(self, connection: asyncpg.Connection) -> None:
        super().__init__(connection)
        self.referrals = ReferralRepository(connection)
        self.progress = ProgressRepository(connection)
        self.cases = CaseRepository(connection)
        self.service_status = ServiceStatusRepository(connection)
        self.tasks = TaskIndexRepository(connection)
        self.access_log = AccessLogRepository(connection)
        self.erasure = ErasureRepository(connection)
