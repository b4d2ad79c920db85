"""The unit of work notifications' use cases run in: a transaction and the repositories on it.

The runtime builds one for every consumed event (ServiceDefinition.unit); routes, the dispatcher and
the command open one with `runtime.units(NotificationsUnit)()`.
"""

from __future__ import annotations

import asyncpg

from notifications.adapters.deliveries import DeliveryRepository
from notifications.adapters.erasure import ErasureRepository
from notifications.adapters.referrals import ReferralRepository
from signpost_runtime.unit_of_work import Unit


class NotificationsUnit(Unit):
    def __init__(self, connection: asyncpg.Connection) -> None:
        super().__init__(connection)
        self.referrals = ReferralRepository(connection)
        self.deliveries = DeliveryRepository(connection)
        self.erasure = ErasureRepository(connection)
