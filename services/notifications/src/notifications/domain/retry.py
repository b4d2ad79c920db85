"""When to try a failed send again, and when to give up and report it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base_backoff_seconds: float
    max_backoff_seconds: float

    def delay_after_failure(self, attempts_made: int, *, permanent: bool) -> float | None:
        """Seconds to wait before the next attempt, or None to give up now.

        A permanent refusal (e.g. SMTP 550, no such mailbox) gives up at once: repeating it only
        delays the report that a person must act on. Otherwise the delay doubles each attempt.
        """
        if permanent or attempts_made >= self.max_attempts:
            return None
        exponent = max(attempts_made - 1, 0)
        return float(min(self.base_backoff_seconds * 2**exponent, self.max_backoff_seconds))
