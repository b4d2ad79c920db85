"""referral.received.v2 widens v1 (the channel, the partner that referred): consumers read both with one model."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from notifications.config import NotificationsSettings
from notifications.handlers import event_handlers as notification_handlers
from reporting.handlers import event_handlers as reporting_handlers
from signpost_contracts import read_data
from signpost_contracts.events.referrals import ReferralReceivedV2
from signpost_contracts.registry import REFERRAL_RECEIVED, REFERRAL_RECEIVED_V2, REFERRAL_RECEIVED_VERSIONS
from support import events
from triage.handlers import event_handlers as triage_handlers

pytestmark = pytest.mark.unit


def test_a_v1_payload_reads_as_v2_with_nothing_lost():
    v1 = events.referral_received("r-1")

    read = read_data(ReferralReceivedV2, v1.data)

    # What v2 added (the partner, the BaRS origin, the address kept apart) is absent, as it was absent from v1.
    added = {"referrer": {"partner_id", "contact_apart"}, "bars": True}
    assert read.model_dump(mode="json", exclude=added) == v1.data
    assert read.referrer.partner_id is None
    assert read.referrer.contact_apart is False, "a v1 event's contact is on the event itself"
    assert read.bars is None


def test_a_v2_payload_with_a_new_channel_is_not_a_v1_payload():
    v2 = events.referral_received_v2("r-1", channel="outreach")

    assert v2.type == REFERRAL_RECEIVED_V2.name
    with pytest.raises(ValueError, match="channel"):
        REFERRAL_RECEIVED.model.model_validate(v2.data)


def test_v1_is_superseded_by_v2_and_both_are_read():
    assert REFERRAL_RECEIVED.superseded_by == REFERRAL_RECEIVED_V2.name
    assert {version.name for version in REFERRAL_RECEIVED_VERSIONS} == {"referral.received.v1", "referral.received.v2"}


@pytest.mark.parametrize(
    "handlers",
    [
        lambda: triage_handlers(None),  # type: ignore[arg-type]  # the map is built without using the service
        lambda: notification_handlers(SimpleNamespace(closure_includes_scores=False), NotificationsSettings()),  # type: ignore[arg-type]
        lambda: reporting_handlers(None),  # type: ignore[arg-type]
    ],
    ids=["triage", "notifications", "reporting"],
)
def test_each_consumer_handles_both_versions_with_the_same_handler(handlers):
    mapped = handlers()

    assert mapped[REFERRAL_RECEIVED.name] is mapped[REFERRAL_RECEIVED_V2.name]
