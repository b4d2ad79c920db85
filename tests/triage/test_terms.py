"""The terms a case is given: the session allowance by complexity and the contact rules, from the policy."""

from __future__ import annotations

import tomllib

import pytest

from triage.adapters.files import ConfigFileError, load_policy
from triage.domain.policy import Policy
from triage.domain.terms import Terms, terms_for

pytestmark = pytest.mark.unit


def with_tables(policy_text: str, tables: str) -> Policy:
    return Policy.model_validate(tomllib.loads(policy_text + "\n" + tables))


def test_a_policy_without_sessions_contact_or_assignment_tables_gets_the_defaults(policy):
    assert terms_for(policy, "low") == Terms("test-policy-7", 6, 4, 1, 3, 21)
    assert terms_for(policy, "medium").session_allowance == 8
    assert terms_for(policy, "high").session_allowance == 12
    assert policy.assignment.volunteers_take_new_low_complexity is False


def test_the_allowance_follows_the_complexity_as_the_policy_sets_it(policy_file):
    policy = with_tables(
        policy_file.read_text(),
        "[sessions]\nlow = 4\nmedium = 7\nhigh = 15\nextension_sessions = 2\nmax_extensions = 3\n"
        "[contact]\nmax_failed_attempts = 5\nstalled_after_days = 30\n",
    )
    assert terms_for(policy, "low") == Terms("test-policy-7", 4, 2, 3, 5, 30)
    assert [terms_for(policy, c).session_allowance for c in ("low", "medium", "high")] == [4, 7, 15]


def test_each_key_is_optional_on_its_own(policy_file):
    policy = with_tables(policy_file.read_text(), "[sessions]\nhigh = 20\n[assignment]\n")
    assert [terms_for(policy, c).session_allowance for c in ("low", "medium", "high")] == [6, 8, 20]


def test_a_bad_allowance_names_the_file_and_field(policy_file):
    policy_file.write_text(policy_file.read_text() + "\n[sessions]\nmedium = 0\n")
    with pytest.raises(ConfigFileError) as caught:
        load_policy(policy_file)
    assert str(caught.value).startswith(f"policy file {policy_file}: field 'sessions.medium'")
    assert "greater than or equal to 1" in str(caught.value)


def test_a_misspelt_assignment_switch_is_refused_rather_than_ignored(policy_file):
    policy_file.write_text(policy_file.read_text() + "\n[assignment]\nvolunteers_first = true\n")
    with pytest.raises(ConfigFileError, match=r"field 'assignment\.volunteers_first' is not a known setting"):
        load_policy(policy_file)


def test_the_demo_policy_states_the_defaults_it_relies_on():
    demo = load_policy(None).value
    assert terms_for(demo, "low") == Terms(demo.version, 6, 4, 1, 3, 21)
    assert demo.assignment.volunteers_take_new_low_complexity is False
