"""Retry decisions, idempotency keys and which addresses can be emailed at all."""

from __future__ import annotations

import pytest

from notifications.config import NotificationsSettings
from notifications.domain.deliveries import idempotency_key, message_id, notification_id, recipient_problem
from notifications.domain.outcomes import ReferrerContact
from notifications.domain.retry import RetryPolicy

pytestmark = pytest.mark.unit

POLICY = RetryPolicy(max_attempts=4, base_backoff_seconds=10, max_backoff_seconds=25)


def test_a_transient_failure_is_retried_with_a_doubling_delay_up_to_a_cap():
    delays = [POLICY.delay_after_failure(attempts, permanent=False) for attempts in (1, 2, 3)]
    assert delays == [10, 20, 25]


def test_the_last_attempt_gives_up():
    assert POLICY.delay_after_failure(4, permanent=False) is None


def test_a_permanent_refusal_gives_up_at_once():
    assert POLICY.delay_after_failure(1, permanent=True) is None


def test_one_outcome_event_is_one_delivery_per_channel():
    assert idempotency_key("evt-1") == idempotency_key("evt-1") == "email:evt-1"
    assert idempotency_key("evt-1", "sms") != idempotency_key("evt-1")
    assert notification_id("email:evt-1") == notification_id("email:evt-1")
    assert message_id("email:evt-1", "a.org") != message_id("email:evt-2", "a.org")


def _contact(email: str | None) -> ReferrerContact:
    return ReferrerContact(referral_id="r-1", email=email, organisation_name="Leeds Road Surgery", ods_code="B82005")


def test_a_referrer_without_an_email_address_cannot_be_emailed_and_the_reason_says_what_to_do():
    problem = recipient_problem(_contact(None))
    assert problem is not None
    assert "referrer.contact.email" in problem
    assert "Leeds Road Surgery (ODS B82005)" in problem
    assert "another way" in problem


@pytest.mark.parametrize("address", ["not-an-email", "a@b", "gp@example.org\nBcc: x@y.org", "a@b.org, c@d.org"])
def test_an_address_that_could_go_wrong_is_refused(address: str):
    assert "unusable referrer email address" in (recipient_problem(_contact(address)) or "")


def test_an_ordinary_address_can_be_emailed():
    assert recipient_problem(_contact("referrals@leedsroad.example.nhs.uk")) is None


def test_a_lease_no_longer_than_an_smtp_exchange_is_refused_with_the_settings_to_change():
    with pytest.raises(ValueError, match="DISPATCHER_LEASE_SECONDS"):
        NotificationsSettings(dispatcher_lease_seconds=10, smtp_timeout_seconds=30)


@pytest.mark.parametrize(
    ("address", "library_says"),
    [
        ("a@b", "period"),
        ("gp@@example.org", "@-sign"),
        ("gp example@nhs.uk", "invalid characters before the @-sign: SPACE"),
        ("@example.org", "before"),
    ],
)
def test_an_unusable_address_is_explained_in_email_validators_words_with_what_to_do(address: str, library_says: str):
    problem = recipient_problem(_contact(address))
    assert problem is not None
    assert library_says in problem
    assert "referrer.contact.email" in problem
    assert "like name@example.nhs.uk" in problem
    assert "Leeds Road Surgery (ODS B82005)" in problem


def test_an_address_shown_in_a_problem_is_never_longer_than_an_smtp_path():
    problem = recipient_problem(_contact("x" * 5000 + "@example.org")) or ""
    assert len(problem) < 800
