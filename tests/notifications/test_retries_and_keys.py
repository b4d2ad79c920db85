"""Retry decisions, idempotency keys and which addresses can be emailed at all."""

from __future__ import annotations

import pytest

from notifications.config import NotificationsSettings
from notifications.domain.deliveries import idempotency_key, message_id, notification_id, recipient_problem
from notifications.domain.outcomes import ReferrerContact
from notifications.domain.retry import ProviderOutage, RetryPolicy

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


def test_a_delivery_is_abandoned_only_after_more_claims_without_a_result_than_allowed():
    policy = RetryPolicy(max_attempts=5, base_backoff_seconds=1, max_backoff_seconds=1, max_unrecorded_claims=3)
    assert [policy.abandoned(claims) is None for claims in (1, 2, 3, 4)] == [True, True, True, False]
    assert "claimed 3 times with no result recorded" in (policy.abandoned(4) or "")


def _outage(jitter: float = 1.0) -> ProviderOutage:
    return ProviderOutage(base_seconds=1, max_seconds=8, jitter=lambda: jitter)


def test_an_unreachable_provider_is_left_alone_for_a_doubling_wait_up_to_a_cap():
    outage, now, waits = _outage(), 0.0, []
    for _ in range(6):
        waits.append(outage.unreachable(now))
        now += waits[-1]
    assert waits == [1, 2, 4, 8, 8, 8]


def test_the_wait_is_jittered_between_half_and_all_of_it():
    assert _outage(jitter=0.0).unreachable(0.0) == 0.5
    assert _outage(jitter=0.5).unreachable(0.0) == 0.75


def test_a_batch_failing_together_counts_as_one_failed_probe_and_then_one_delivery_probes():
    outage = _outage()
    assert outage.batch_limit(10) == 10
    for _ in range(10):
        outage.unreachable(0.0)
    assert outage.wait(0.0) == 1
    assert outage.batch_limit(10) == 1
    outage.reachable()
    assert (outage.ongoing, outage.wait(0.0), outage.batch_limit(10)) == (False, 0.0, 10)
