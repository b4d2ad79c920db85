"""After a withdrawal, the only message ever sent about that referral is one withdrawal confirmation.

The referrer withdrew the referral: anything else Signpost says about it afterwards (a connector
assigned from the waitlist, a closure) is at best noise and at worst wrong. Events about one
referral come on two topics, in any order, and any of them may come twice, so the rule is decided
from what is known, never from arrival order:

- an outcome about a referral that has a withdrawal (stored now or earlier, whatever came first)
  gets a delivery that is `suppressed`, never sent, unless it is that withdrawal's confirmation;
- only one confirmation exists per referral: a second withdrawal event (another id) is suppressed;
- a delivery already waiting when the withdrawal arrives is suppressed then, and the dispatcher
  suppresses any that comes back into line later (a retry, a re-drive) before it claims anything.

What this cannot do is recall an email whose SMTP exchange had already begun when the withdrawal was
recorded: that one is recorded as sent, and the confirmation follows it.
"""

from __future__ import annotations

from notifications.domain.outcomes import WITHDRAWN, Outcome

AFTER_WITHDRAWAL = "not sent: the referrer withdrew this referral, so only the withdrawal is confirmed"
CONFIRMED_ALREADY = "not sent: this referral's withdrawal was confirmed already"


def suppressed_because(outcome: Outcome, *, withdrawn: bool, confirmation_exists: bool) -> str | None:
    """Why no message may go out for `outcome`; None when it may.

    `withdrawn`: a withdrawal of the referral is stored (this outcome itself may be it).
    `confirmation_exists`: a delivery confirming the withdrawal already exists.
    """
    if outcome.kind == WITHDRAWN:
        return CONFIRMED_ALREADY if confirmation_exists else None
    return AFTER_WITHDRAWAL if withdrawn else None
