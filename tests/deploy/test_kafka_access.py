"""Kafka ACLs in the Kubernetes base: each client may use exactly the topics and groups its code uses.

The expected grants are read from the code, never copied: each service's ServiceDefinition (the streams
it consumes, the outside topics it reads in their own groups, the event types its outbox may carry), the
contracts' topic names, the dead-letter topic the runtime gives every consumer, and the KEDA triggers'
scale targets. A topic added to a service without its grant, or a grant left behind, fails here.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest

from deploy.manifests import Manifests, k8s_name
from reporting.handlers import CONSUMES as REBUILT_FROM
from signpost_contracts import dead_letter_topic, topic
from signpost_contracts.vocabulary import SERVICES
from signpost_runtime.replay import TopicReader
from signpost_runtime.runtime import ServiceRuntime
from signpost_runtime.settings import KafkaClientSettings

pytestmark = pytest.mark.unit

WRITE = frozenset({"Write", "Describe"})
READ = frozenset({"Read", "Describe"})
DESCRIBE = frozenset({"Describe"})

Grants = dict[tuple[str, str], frozenset[str]]


@dataclass(frozen=True)
class KafkaUse:
    """What a service's code does with Kafka: topics it writes and reads, groups it joins."""

    writes: frozenset[str]
    reads: frozenset[str]
    groups: frozenset[str]
    dead_letters: frozenset[str] = frozenset()

    def grants(self) -> Grants:
        grants: dict[tuple[str, str], frozenset[str]] = {}
        for name in self.writes:
            grants[("topic", name)] = WRITE
        for name in self.reads:
            grants[("topic", name)] = grants.get(("topic", name), frozenset()) | READ
        for name in self.groups:
            grants[("group", name)] = frozenset({"Read"})
        return grants


@cache
def kafka_use(service: str) -> KafkaUse:
    runtime: ServiceRuntime = importlib.import_module(f"{service}.app").create_app().state.runtime
    definition, settings = runtime.definition, runtime.settings
    namespace = settings.topic_namespace
    reads = {topic(stream, namespace) for stream in definition.consumes}
    reads |= {topic(external.stream, namespace) for external in definition.external}
    groups = {settings.consumer_group} if definition.consumes else set()
    groups |= {f"{settings.consumer_group}.{external.name}" for external in definition.external}
    writes = {topic(event.stream, namespace) for event in definition.publishes}
    # Every consumer the runtime builds dead-letters to the service's own topic (runtime.py).
    dead_letters = {dead_letter_topic(runtime.consumer_name, namespace)} if reads else set()
    return KafkaUse(frozenset(writes | dead_letters), frozenset(reads), frozenset(groups), frozenset(dead_letters))


def _acl_grants(user: dict[str, Any]) -> Grants:
    grants: dict[tuple[str, str], frozenset[str]] = {}
    for acl in user["spec"]["authorization"]["acls"]:
        resource = acl["resource"]
        key = (resource["type"], resource["name"])
        assert key not in grants, f"{user['metadata']['name']}: {key} granted twice"
        grants[key] = frozenset(acl["operations"])
    return grants


def _users(base: Manifests) -> dict[str, dict[str, Any]]:
    return {user["metadata"]["name"]: user for user in base.of_kind("KafkaUser")}


def _env(deployment: dict[str, Any], name: str) -> dict[str, Any]:
    (entry,) = [e for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"] if e["name"] == name]
    return entry


def _service_user(base: Manifests, service: str) -> dict[str, Any]:
    """The KafkaUser the service's Deployment logs in as."""
    deployment = base.named("Deployment", k8s_name(service))
    username = _env(deployment, "KAFKA_SASL_USERNAME")["value"]
    users = _users(base)
    assert username in users, f"{service} logs in as {username!r}, which no KafkaUser declares"
    return users[username]


def _dlq_user(base: Manifests) -> dict[str, Any]:
    return _users(base)["signpost-dlq"]


def _keda_user(base: Manifests) -> dict[str, Any]:
    (config,) = [c for c in base.of_kind("ConfigMap") if c["metadata"]["name"] == "signpost-keda-kafka"]
    return _users(base)[config["data"]["username"]]


def test_every_kafka_user_logs_in_with_scram_and_is_limited_by_literal_acls(base: Manifests):
    (kafka,) = base.of_kind("Kafka")
    users = base.of_kind("KafkaUser")
    assert users
    for user in users:
        name = user["metadata"]["name"]
        assert user["apiVersion"] == "kafka.strimzi.io/v1", f"{name}: Strimzi 1.0 serves KafkaUser only as v1"
        assert user["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
        assert user["spec"]["authentication"]["type"] == "scram-sha-512", name
        assert user["spec"]["authorization"]["type"] == "simple", name
        for acl in user["spec"]["authorization"]["acls"]:
            resource = acl["resource"]
            assert resource.get("patternType", "literal") == "literal", f"{name}: {resource} is a prefix grant"
            assert "*" not in resource["name"], f"{name}: {resource} is a wildcard grant"
            assert acl.get("type", "allow") == "allow", f"{name}: deny rules would hide what is granted"
            assert "All" not in acl["operations"], f"{name}: {resource} grants every operation"


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_may_use_exactly_the_topics_and_groups_its_code_uses(base: Manifests, service: str):
    assert _acl_grants(_service_user(base, service)) == kafka_use(service).grants()


def test_no_two_services_share_a_kafka_user(base: Manifests):
    names = [_service_user(base, service)["metadata"]["name"] for service in SERVICES]
    assert len(set(names)) == len(SERVICES), names


def test_the_dead_letter_command_reads_every_dead_letter_topic_and_writes_only_where_they_came_from(base: Manifests):
    """`signpost-dlq` reads a consumer's dead-letter topic (no group) and republishes each record to the topic
    it was consumed from: one of the topics that consumer reads."""
    reads = frozenset[str]().union(*(kafka_use(service).dead_letters for service in SERVICES))
    origins = frozenset[str]().union(*(kafka_use(service).reads for service in SERVICES))
    expected = KafkaUse(writes=origins, reads=reads, groups=frozenset()).grants()
    assert _acl_grants(_dlq_user(base)) == expected
    service_users = {_service_user(base, service)["metadata"]["name"] for service in SERVICES}
    assert _dlq_user(base)["metadata"]["name"] not in service_users


async def test_reporting_can_rebuild_from_its_own_grants_without_a_consumer_group(base: Manifests):
    """The rebuild runs in reporting's pod, as reporting: it reads its streams from the first offset, no group."""
    names = [topic(stream, "signpost") for stream in REBUILT_FROM]
    grants = _acl_grants(_service_user(base, "reporting"))
    for name in names:
        assert grants.get(("topic", name), frozenset()) >= READ, f"reporting cannot read {name} to rebuild"
    reader = TopicReader(KafkaClientSettings(), names)
    assert reader.consumer._group_id is None  # so no group ACL is needed, and the live group is untouched


def test_keda_may_only_describe_the_groups_and_topics_it_scales_on(base: Manifests):
    scaled = [k8s_name(service) for service in SERVICES]
    expected: dict[tuple[str, str], frozenset[str]] = {}
    for scaled_object in base.of_kind("ScaledObject"):
        service = SERVICES[scaled.index(scaled_object["spec"]["scaleTargetRef"]["name"])]
        use = kafka_use(service)
        for group in use.groups:
            expected[("group", group)] = DESCRIBE
        for name in use.reads:
            expected[("topic", name)] = DESCRIBE
    assert _acl_grants(_keda_user(base)) == expected


def test_every_lag_trigger_logs_in_as_keda_over_tls_against_the_cluster_ca(base: Manifests):
    users = _users(base)
    authentications = {a["metadata"]["name"]: a for a in base.of_kind("TriggerAuthentication")}
    for scaled_object in base.of_kind("ScaledObject"):
        for trigger in scaled_object["spec"]["triggers"]:
            reference = trigger.get("authenticationRef", {}).get("name")
            assert reference in authentications, f"{scaled_object['metadata']['name']}: a trigger without a login"
            spec = authentications[reference]["spec"]
            (config,) = {ref["name"] for ref in spec["configMapTargetRef"]}
            data = next(c for c in base.of_kind("ConfigMap") if c["metadata"]["name"] == config)["data"]
            values = {ref["parameter"]: data[ref["key"]] for ref in spec["configMapTargetRef"]}
            secrets = {ref["parameter"]: (ref["name"], ref["key"]) for ref in spec["secretTargetRef"]}
            assert values == {"username": values["username"], "sasl": "scram_sha512", "tls": "enable"}
            assert values["username"] in users
            assert secrets == {
                "password": (values["username"], "password"),
                "ca": ("signpost-cluster-ca-cert", "ca.crt"),
            }


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_logs_in_with_its_users_generated_password_and_the_cluster_ca(base: Manifests, service: str):
    deployment = base.named("Deployment", k8s_name(service))
    user = _service_user(base, service)["metadata"]["name"]
    password = _env(deployment, "KAFKA_SASL_PASSWORD")["valueFrom"]["secretKeyRef"]
    ca = _env(deployment, "KAFKA_SSL_CA_PEM")["valueFrom"]["secretKeyRef"]
    assert (password["name"], password["key"]) == (user, "password")
    assert (ca["name"], ca["key"]) == ("signpost-cluster-ca-cert", "ca.crt")
    # The variables the pod gets, with the Secrets' values stood in for, are settings the runtime accepts.
    env = {
        name: base.env_value(deployment, name)
        for name in (
            "KAFKA_BOOTSTRAP_SERVERS",
            "KAFKA_SECURITY_PROTOCOL",
            "KAFKA_SASL_MECHANISM",
            "KAFKA_SASL_USERNAME",
        )
    }
    settings = KafkaClientSettings(
        **{name.lower(): value for name, value in env.items()},
        kafka_sasl_password="stands-for-the-secret",
        kafka_ssl_ca_pem="stands-for-the-ca",
    )
    assert (settings.kafka_security_protocol, settings.kafka_sasl_username) == ("SASL_SSL", user)
