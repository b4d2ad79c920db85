"""Policy and roster files: a bad file is refused with the file, the field and what was expected."""

from __future__ import annotations

import pytest

from triage.adapters.files import ConfigFileError, load_policy, load_roster
from triage.app import create_app
from triage.config import TriageSettings

pytestmark = pytest.mark.unit


def edited(policy_file, old: str, new: str):
    text = policy_file.read_text()
    assert old in text
    policy_file.write_text(text.replace(old, new, 1))
    return policy_file


def refusal(loader, path) -> str:
    with pytest.raises(ConfigFileError) as caught:
        loader(path)
    return str(caught.value)


def test_the_demo_policy_and_roster_shipped_in_the_package_load():
    policy, roster = load_policy(None), load_roster(None)
    assert policy.value.version == "leeds-demo-2025.1"
    assert policy.source.endswith("triage/demo/policy.toml")
    assert any(rule.urgent for rule in policy.value.redirect_rules)
    assert {c.kind for c in roster.value.connectors} == {"paid", "volunteer"}


def test_a_policy_with_a_minimum_age_that_is_not_a_number_names_the_file_and_field(policy_file):
    message = refusal(load_policy, edited(policy_file, "minimum = 18", 'minimum = "eighteen"'))
    assert message.startswith(f"policy file {policy_file}: field 'age.minimum'")
    assert "valid integer" in message


def test_a_policy_without_a_version_says_the_field_is_missing(policy_file):
    message = refusal(load_policy, edited(policy_file, 'version = "test-policy-7"', ""))
    assert "field 'version' is missing" in message


def test_a_misspelt_policy_setting_is_refused_rather_than_ignored(policy_file):
    message = refusal(load_policy, edited(policy_file, "when_unknown", "when_unkown"))
    assert "field 'age.when_unkown' is not a known setting" in message


def test_a_bad_postcode_prefix_says_what_a_prefix_looks_like(policy_file):
    message = refusal(load_policy, edited(policy_file, '["LS", "BD1"]', '["LS", "Leeds 6"]'))
    assert "field 'service_area.postcode_prefixes[1]'" in message
    assert "a postcode area such as 'LS'" in message


def test_a_redirect_rule_with_no_condition_is_refused(policy_file):
    message = refusal(load_policy, edited(policy_file, "when = { age_below = 18 }", "when = { needs_any = [] }"))
    assert "field 'redirect_rules[0].when': give at least one condition" in message


def test_a_policy_must_have_a_redirect_rule(policy_file):
    text = policy_file.read_text()
    policy_file.write_text(text[: text.index("[[redirect_rules]]")])
    assert "field 'redirect_rules' is missing" in refusal(load_policy, policy_file)


def test_repeated_rule_ids_are_refused(policy_file):
    message = refusal(load_policy, edited(policy_file, 'id = "crisis"', 'id = "many-needs"'))
    assert "rule ids must be unique; repeated: many-needs" in message


def test_a_policy_that_is_not_toml_says_where_it_broke(policy_file):
    policy_file.write_text("version = \n")
    assert refusal(load_policy, policy_file).startswith(f"policy file {policy_file}: is not valid TOML")


def test_a_missing_policy_file_is_named(tmp_path):
    missing = tmp_path / "nope.toml"
    assert refusal(load_policy, missing) == f"policy file {missing}: cannot be read (No such file or directory)"


def test_a_roster_connector_with_an_unknown_kind_names_the_connector_field(write_roster, make_connector):
    path = write_roster([make_connector("ok"), make_connector("odd", kind="contractor")])
    message = refusal(load_roster, path)
    assert message.startswith(f"roster file {path}: field 'connectors[1].kind'")
    assert "'paid' or 'volunteer'" in message


def test_a_negative_capacity_is_refused(write_roster, make_connector):
    message = refusal(load_roster, write_roster([make_connector("a", capacity=-1)]))
    assert "field 'connectors[0].capacity': input should be greater than or equal to 0 (got -1)" in message


def test_repeated_connector_ids_are_refused(write_roster, make_connector):
    message = refusal(load_roster, write_roster([make_connector("a"), make_connector("a")]))
    assert "connector ids must be unique; repeated: a" in message


def test_the_service_refuses_to_start_on_a_bad_policy_file(policy_file, write_roster, make_connector):
    settings = TriageSettings(
        policy_file=edited(policy_file, "minimum = 18", "minimum = -3"), roster_file=write_roster([make_connector("a")])
    )
    with pytest.raises(ConfigFileError, match=r"field 'age\.minimum': input should be greater than or equal to 0"):
        create_app(settings)
