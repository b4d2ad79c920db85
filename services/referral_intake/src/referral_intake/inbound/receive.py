"""The inbound topic's use case: who sent the message, the REST route's checks and use case, the answer."""

from __future__ import annotations

import logging
from dataclasses import replace

from referral_intake.adapters.outcome import FhirError
from referral_intake.inbound import replies
from referral_intake.inbound.message import read_inbound
from referral_intake.inbound.producers import InboundProducer, Producers
from referral_intake.ports import IntakeWork
from referral_intake.service import IntakeService
from signpost_contracts import EventEnvelope
from signpost_runtime.auth import AuthError

log = logging.getLogger(__name__)
_SHOWN = 100


class InboundIntake:
    def __init__(self, intake: IntakeService, producers: Producers, *, max_json_depth: int) -> None:
        self.intake = intake
        self.producers = producers
        self.max_json_depth = max_json_depth

    async def receive(self, unit: IntakeWork, message: EventEnvelope) -> None:
        """Store the referral the message carries, or find the one received before, and acknowledge it.

        Raises FhirError to refuse it: an unknown producer, a message that is not a valid referral, or a
        requester the producer may not send for. The acknowledgement is published in the unit, so it is
        committed with the referral and its referral.received: once per message, whatever is redelivered.
        """
        producer = self._producer(message.source)
        submission = replace(
            read_inbound(message, max_depth=self.max_json_depth, today=self.intake.clock().date()), channel="kafka"
        )
        try:
            submitted = await self.intake.submit(unit, submission, producer.principal, message.correlationid)
        except AuthError:
            raise _not_allowed(producer, submission.referrer.requester) from None
        unit.publish(
            replies.accepted(message, submitted.referral, duplicate=not submitted.created, at=self.intake.clock())
        )

    def _producer(self, source: str) -> InboundProducer:
        producer = self.producers.identify(source)
        if producer is None:
            log.warning("inbound message from %r, which is not in %s", source[:_SHOWN], self.producers.origin)
            raise FhirError.single(
                403,
                "forbidden",
                f"ce_source '{source[:_SHOWN]}' is not a producer this service takes referrals from: send with the "
                "source you were registered with, or ask the service's operators to add yours to INBOUND_PRODUCERS "
                "with the ODS codes you send for",
                "ce_source",
            )
        return producer


def _not_allowed(producer: InboundProducer, requester: str) -> FhirError:
    # The rule is the one every sender meets (access.authorise_sender); the message says how it applies here.
    return FhirError.single(
        403,
        "forbidden",
        f"producer '{producer.source[:_SHOWN]}' may send referrals for {', '.join(sorted(producer.send_for))} only "
        f"(its send_for in INBOUND_PRODUCERS), but the referral's requester is {requester}; ask the service's "
        f"operators to add {requester}",
        "ServiceRequest.requester",
    )
