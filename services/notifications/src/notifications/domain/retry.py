"""When to try a delivery again, when to give up on it, and how long to leave a provider that is down."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base_backoff_seconds: float
    max_backoff_seconds: float
    # A delivery claimed this many times with no result recorded takes its dispatcher down with it
    # (a crash loop): it is failed, for a person to look at, instead of being claimed for ever.
    max_unrecorded_claims: int = 5

    def delay_after_failure(self, attempts_made: int, *, permanent: bool) -> float | None:
        """Seconds to wait before the next attempt, or None to give up now.

        Only a refusal by the provider is an attempt; an outage of the provider is not (see
        ProviderOutage). A permanent refusal (e.g. SMTP 550, no such mailbox) gives up at once:
        repeating it only delays the report that a person must act on. Otherwise the delay doubles.
        """
        if permanent or attempts_made >= self.max_attempts:
            return None
        exponent = max(attempts_made - 1, 0)
        return float(min(self.base_backoff_seconds * 2**exponent, self.max_backoff_seconds))

    def abandoned(self, unrecorded_claims: int) -> str | None:
        """Why a delivery claimed this often without a recorded result is failed; None to go on."""
        if unrecorded_claims <= self.max_unrecorded_claims:
            return None
        return (
            f"claimed {unrecorded_claims - 1} times with no result recorded: each dispatcher that took it stopped "
            "(crashed, was killed or lost its database) before it could say how the send went, so the email "
            "may or may not have gone. Check the dispatcher's logs for the cause, then re-drive it with "
            "`signpost-notifications redrive --notification-id <id>` if it should be sent"
        )


@dataclass
class ProviderOutage:
    """Backing off from a provider that cannot be reached, for every delivery at once.

    While the provider is down, no delivery is attempted until the wait is over; then one delivery
    probes it (a batch of one), and only when that one gets through does the dispatcher go back to
    full batches. The wait doubles with each failed probe up to `max_seconds`, with jitter (half to
    all of it) so that replicas do not probe in step. Times are the caller's clock (monotonic seconds).
    """

    base_seconds: float
    max_seconds: float
    jitter: Callable[[], float] = random.random
    failed_probes: int = 0
    resume_at: float = 0.0

    def unreachable(self, now: float) -> float:
        """The provider could not be reached; returns how long to leave it alone from `now`."""
        if now >= self.resume_at:  # deliveries of one batch failing together are one failed probe
            self.failed_probes += 1
            ceiling = min(self.base_seconds * 2 ** (self.failed_probes - 1), self.max_seconds)
            self.resume_at = now + ceiling * (0.5 + self.jitter() / 2)
        return self.resume_at - now

    def reachable(self) -> None:
        self.failed_probes = 0
        self.resume_at = 0.0

    @property
    def ongoing(self) -> bool:
        return self.failed_probes > 0

    def wait(self, now: float) -> float:
        """Seconds left before the provider may be tried again (0 when it may be now)."""
        return max(self.resume_at - now, 0.0)

    def batch_limit(self, batch_size: int) -> int:
        return 1 if self.ongoing else batch_size
