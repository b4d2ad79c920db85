"""Event handlers: parse the payload tolerantly, hand it to one use case.

Each runs inside the unit of work the consumer opened for the event (a NotificationsUnit), after
the inbox has claimed the event id, so a repeated event never reaches them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from notifications.config import NotificationsSettings
from notifications.domain.case_outcomes import (
    outcome_of_closure,
    outcome_of_contact,
    outcome_of_link,
    outcome_of_waitlist_assignment,
    outcome_of_withdrawal,
    scores_of,
)
from notifications.domain.outcomes import (
    Outcome,
    contact_of,
    outcome_of_assignment,
    outcome_of_receipt,
    outcome_of_triage,
    outcome_of_waitlisting,
    person_address_of,
)
from notifications.service import Notifier, erase_referral, forget_person_address
from notifications.unit import NotificationsUnit
from signpost_contracts import ContractModel, EventEnvelope, read_data
from signpost_contracts.events.cases import CaseClosed, ContactRecorded, MeasuresRecorded, ReferralWithdrawn
from signpost_contracts.events.contacts import PersonContact
from signpost_contracts.events.erasure import ReferralErased
from signpost_contracts.events.referrals import ReferralReceivedV2
from signpost_contracts.events.triage import (
    ReferralAssigned,
    ReferralAssignedFromWaitlist,
    ReferralLinked,
    ReferralTriaged,
    ReferralWaitlisted,
)
from signpost_contracts.registry import (
    CASE_CLOSED,
    CONTACT_RECORDED,
    MEASURES_RECORDED,
    PERSON_CONTACT,
    PERSON_CONTACT_ERASED,
    REFERRAL_ASSIGNED,
    REFERRAL_ASSIGNED_FROM_WAITLIST,
    REFERRAL_ERASED,
    REFERRAL_LINKED,
    REFERRAL_RECEIVED_VERSIONS,
    REFERRAL_TRIAGED,
    REFERRAL_WAITLISTED,
    REFERRAL_WITHDRAWN,
)
from signpost_runtime.consumer import EventHandler

PayloadT = TypeVar("PayloadT", bound=ContractModel)
ToOutcome = Callable[[str, str, PayloadT], Outcome | None]


def _outcome_handler(notifier: Notifier, model: type[PayloadT], to_outcome: ToOutcome[PayloadT]) -> EventHandler:
    """An event that may be news to the referrer: read it, and tell them when it is."""

    async def handle(unit: NotificationsUnit, event: EventEnvelope) -> None:
        outcome = to_outcome(event.id, event.type, read_data(model, event.data))
        if outcome is not None:
            await notifier.outcome_decided(unit, outcome, event.correlationid)

    return handle


def event_handlers(notifier: Notifier, settings: NotificationsSettings) -> dict[str, EventHandler]:
    async def on_received(unit: NotificationsUnit, event: EventEnvelope) -> None:
        received = read_data(ReferralReceivedV2, event.data)
        acknowledgement = outcome_of_receipt(event.id, event.type, received)
        await notifier.contact_received(unit, contact_of(received), event.id, acknowledgement)

    def first_contact(event_id: str, event_type: str, contact: ContactRecorded) -> Outcome | None:
        return outcome_of_contact(event_id, event_type, contact, tell_first_contact=settings.notify_first_contact)

    def outcome(model: type[PayloadT], to_outcome: ToOutcome[PayloadT]) -> EventHandler:
        return _outcome_handler(notifier, model, to_outcome)

    async def on_measures(unit: NotificationsUnit, event: EventEnvelope) -> None:
        measures = read_data(MeasuresRecorded, event.data)
        scores = scores_of(measures)
        await notifier.measures_recorded(
            unit, measures.referral_id, measures.stage, measures.recorded_at, event.id, scores
        )

    async def on_person_contact(unit: NotificationsUnit, event: EventEnvelope) -> None:
        address = person_address_of(read_data(PersonContact, event.data))
        await notifier.person_address_received(unit, address, event.id)

    async def on_person_contact_erased(unit: NotificationsUnit, event: EventEnvelope) -> None:
        # A tombstone has no data: the referral is its key and subject.
        await forget_person_address(unit, event.subject)

    async def on_erased(unit: NotificationsUnit, event: EventEnvelope) -> None:
        erased = read_data(ReferralErased, event.data)
        await erase_referral(unit, erased.referral_id, event.id, erased.erased_at)

    # Measures are read only when the closure message may give them: otherwise they are not kept at all.
    scores = {MEASURES_RECORDED.name: on_measures} if notifier.closure_includes_scores else {}
    return {
        **scores,
        **{version.name: on_received for version in REFERRAL_RECEIVED_VERSIONS},
        REFERRAL_TRIAGED.name: outcome(ReferralTriaged, outcome_of_triage),
        REFERRAL_ASSIGNED.name: outcome(ReferralAssigned, outcome_of_assignment),
        REFERRAL_WAITLISTED.name: outcome(ReferralWaitlisted, outcome_of_waitlisting),
        REFERRAL_ASSIGNED_FROM_WAITLIST.name: outcome(ReferralAssignedFromWaitlist, outcome_of_waitlist_assignment),
        REFERRAL_LINKED.name: outcome(ReferralLinked, outcome_of_link),
        CONTACT_RECORDED.name: outcome(ContactRecorded, first_contact),
        CASE_CLOSED.name: outcome(CaseClosed, outcome_of_closure),
        REFERRAL_WITHDRAWN.name: outcome(ReferralWithdrawn, outcome_of_withdrawal),
        REFERRAL_ERASED.name: on_erased,
        PERSON_CONTACT.name: on_person_contact,
        PERSON_CONTACT_ERASED.name: on_person_contact_erased,
    }
