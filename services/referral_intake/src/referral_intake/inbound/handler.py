"""The inbound topic's one handler: the use case in the kit's unit of work; a refusal is dead-lettered and answered."""

from __future__ import annotations

from datetime import UTC, datetime

from referral_intake.adapters.outcome import FhirError
from referral_intake.inbound import replies
from referral_intake.inbound.receive import InboundIntake
from referral_intake.unit import IntakeUnit
from signpost_contracts import EventEnvelope
from signpost_runtime.consumer import EventHandler, MessageRefused


def inbound_handler(inbound: InboundIntake) -> EventHandler:
    async def on_message(unit: IntakeUnit, message: EventEnvelope) -> None:
        try:
            await inbound.receive(unit, message)
        except FhirError as refusal:
            # AlreadyClaimedError (the same referral stored at this moment through another door) is not caught:
            # the kit tries again, and the next attempt finds that referral and acknowledges it.
            raise MessageRefused(str(refusal), _announce(refusal)) from None

    return on_message


def _announce(refusal: FhirError) -> EventHandler:
    async def announce(unit: IntakeUnit, message: EventEnvelope) -> None:
        unit.publish(replies.refused(message, refusal, at=datetime.now(UTC)))

    return announce
