"""Keeping the public self-referral form for people: a per-client rate limit, a honeypot, a size limit.

The rate limit counts in this process's memory: each replica keeps its own count, so behind N replicas a
client may send up to N times the limit. That is enough to stop a script hammering the form; a shared
counter (Redis) would be needed for an exact limit, and the form does not need one.

Which client: the address the connection came from. Behind a reverse proxy every connection comes from the
proxy, so the proxy must say who the client was; a header anyone can send is believed only when the
deployment names it (FORM_CLIENT_IP_HEADER) and only its last address, the one the proxy itself appended
(a client can put anything in the earlier ones).
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

from fastapi import Request

HONEYPOT_FIELD = "website"  # hidden from people; bots fill in every field they find


def client_key(request: Request, forwarded_header: str | None) -> str:
    if forwarded_header:
        forwarded = request.headers.get(forwarded_header, "")
        last = forwarded.split(",")[-1].strip()
        if last:
            return last
    return request.client.host if request.client else "unknown"


class RateLimiter:
    """At most `limit` requests per client in any `window_seconds`; `retry_after` says when the next may come."""

    def __init__(self, limit: int, window_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window_seconds
        self.clock = clock
        self._seen: dict[str, deque[float]] = {}

    def retry_after(self, client: str) -> int | None:
        """Seconds until `client` may send again (None: allowed now, and counted)."""
        now = self.clock()
        self._forget_before(now - self.window)
        times = self._seen.setdefault(client, deque())
        if len(times) >= self.limit:
            return max(1, math.ceil(times[0] + self.window - now))
        times.append(now)
        return None

    def _forget_before(self, cutoff: float) -> None:
        # Every client's old entries go, so the memory held is bounded by the clients seen in one window.
        for client in list(self._seen):
            times = self._seen[client]
            while times and times[0] <= cutoff:
                times.popleft()
            if not times:
                del self._seen[client]
