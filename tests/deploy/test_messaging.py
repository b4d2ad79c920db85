"""Kafka cluster, topics, listener security, consumer autoscaling and network policies in the Kubernetes base.

Who may use which topic and group (KafkaUser ACLs) is in test_kafka_access.py.
"""

from __future__ import annotations

import pytest

from deploy.manifests import BASE, NAMESPACE, OUTSIDE, Manifests, Peer, allows, k8s_name, service_facts
from reporting.handlers import CONSUMES as REBUILT_FROM
from signpost_contracts import TOPIC_CONFIGS, all_topics, topic
from signpost_contracts.vocabulary import SERVICES

pytestmark = pytest.mark.unit

CONSUMERS = ("triage", "notifications", "reporting")
# Labels the operators put on their pods (Strimzi broker pods, CloudNativePG instances).
KAFKA_BROKER = Peer({"strimzi.io/cluster": "signpost", "strimzi.io/kind": "Kafka", "strimzi.io/broker-role": "true"})
POSTGRES = Peer({"cnpg.io/cluster": "signpost-pg", "cnpg.io/instanceRole": "primary"})
SMTP_PORTS = (25, 465, 587)


def _topics(base: Manifests) -> dict[str, dict]:
    return {t["spec"].get("topicName", t["metadata"]["name"]): t for t in base.of_kind("KafkaTopic")}


def _kafka_config(base: Manifests) -> dict:
    (kafka,) = base.of_kind("Kafka")
    return kafka["spec"]["kafka"]["config"]


def _pod_labels(base: Manifests, service: str) -> dict[str, str]:
    return base.named("Deployment", k8s_name(service))["spec"]["template"]["metadata"]["labels"]


def _client_listener(base: Manifests) -> dict:
    """The one listener clients use: the services (KAFKA_BOOTSTRAP_SERVERS), their commands and KEDA."""
    (kafka,) = base.of_kind("Kafka")
    (listener,) = kafka["spec"]["kafka"]["listeners"]
    return listener


# Kafka versions each Strimzi release ships (strimzi.io/downloads and the release notes): the operator
# refuses a Kafka resource whose spec.kafka.version is not among them.
STRIMZI_KAFKA_VERSIONS = {
    "0.49": {"4.0.0", "4.0.1", "4.1.0", "4.1.1"},
    "0.50": {"4.0.0", "4.0.1", "4.1.0", "4.1.1"},
    "1.0": {"4.1.0", "4.1.1", "4.1.2", "4.2.0"},
    "1.1": {"4.2.0", "4.2.1", "4.3.0"},
}
# The operator releases kafka.yaml states it runs on; deploy/README.md's prerequisites must say the same.
SUPPORTED_STRIMZI = ("1.0", "1.1")


def test_the_kafka_version_is_one_every_supported_strimzi_release_ships(base: Manifests):
    (kafka,) = base.of_kind("Kafka")
    version = kafka["spec"]["kafka"]["version"]
    refusing = [release for release in SUPPORTED_STRIMZI if version not in STRIMZI_KAFKA_VERSIONS[release]]
    assert not refusing, f"Strimzi {', '.join(refusing)} would refuse Kafka {version}"
    assert f"Strimzi operator {' or '.join(SUPPORTED_STRIMZI)}" in (BASE / "kafka.yaml").read_text(encoding="utf-8")


def test_the_only_listener_is_tls_with_a_scram_login_and_every_request_is_authorized(base: Manifests):
    listener = _client_listener(base)
    assert (listener["port"], listener["type"], listener["tls"]) == (9093, "internal", True)
    assert listener["authentication"]["type"] == "scram-sha-512"
    (kafka,) = base.of_kind("Kafka")
    assert kafka["spec"]["kafka"]["authorization"]["type"] == "simple"
    assert not kafka["spec"]["kafka"]["authorization"].get("superUsers"), "a super user bypasses every ACL"
    # Without the User Operator no KafkaUser would get its credentials or ACLs.
    assert "userOperator" in kafka["spec"]["entityOperator"]


def test_no_two_brokers_share_a_node_and_each_knows_its_zone(base: Manifests):
    (kafka,) = base.of_kind("Kafka")
    assert kafka["spec"]["kafka"]["rack"]["topologyKey"] == "topology.kubernetes.io/zone"
    for pool in base.of_kind("KafkaNodePool"):
        pod = pool["spec"]["template"]["pod"]
        (rule,) = pod["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        assert rule["topologyKey"] == "kubernetes.io/hostname"
        # The selector must match the pool's own pods (Strimzi labels them with the cluster and the pool).
        pool_pods = {"strimzi.io/cluster": kafka["metadata"]["name"], "strimzi.io/pool-name": pool["metadata"]["name"]}
        assert rule["labelSelector"]["matchLabels"] == pool_pods
        (spread,) = pod["topologySpreadConstraints"]
        assert (spread["topologyKey"], spread["labelSelector"]["matchLabels"]) == (
            "topology.kubernetes.io/zone",
            pool_pods,
        )


def test_the_services_connect_to_the_tls_listener_with_a_scram_login(base: Manifests):
    common = base.config_maps["signpost-common"]
    (kafka,) = base.of_kind("Kafka")
    bootstrap = f"{kafka['metadata']['name']}-kafka-bootstrap:{_client_listener(base)['port']}"
    assert common["KAFKA_BOOTSTRAP_SERVERS"] == bootstrap
    assert (common["KAFKA_SECURITY_PROTOCOL"], common["KAFKA_SASL_MECHANISM"]) == ("SASL_SSL", "SCRAM-SHA-512")


def test_the_kafka_cluster_refuses_to_create_topics_on_demand(base: Manifests):
    config = _kafka_config(base)
    assert config["auto.create.topics.enable"] is False
    assert config["default.replication.factor"] == 3
    assert config["min.insync.replicas"] == 2
    brokers = sum(p["spec"]["replicas"] for p in base.of_kind("KafkaNodePool") if "broker" in p["spec"]["roles"])
    assert brokers >= 3


@pytest.mark.parametrize("topic", all_topics("signpost", SERVICES))
def test_every_contract_topic_is_declared_with_three_replicas_and_two_in_sync(base: Manifests, topic: str):
    topics = _topics(base)
    assert topic in topics, f"no KafkaTopic for {topic}"
    declared = topics[topic]
    (kafka,) = base.of_kind("Kafka")
    assert declared["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
    config = _kafka_config(base)
    assert declared["spec"].get("replicas", config["default.replication.factor"]) == 3
    assert declared["spec"].get("config", {}).get("min.insync.replicas", config["min.insync.replicas"]) == 2


def test_no_kafka_topic_is_declared_that_the_contracts_do_not_name(base: Manifests):
    unknown = set(_topics(base)) - set(all_topics("signpost", SERVICES))
    assert not unknown, f"KafkaTopic for topics no service uses: {sorted(unknown)}"


def test_the_streams_reporting_is_rebuilt_from_keep_every_event_for_ever(base: Manifests):
    topics = _topics(base)
    for name in (topic(stream, "signpost") for stream in REBUILT_FROM):
        config = topics[name]["spec"]["config"]
        assert config["cleanup.policy"] == "delete", f"{name}: compaction would keep only each referral's last event"
        assert (int(config["retention.ms"]), int(config["retention.bytes"])) == (-1, -1), name


@pytest.mark.parametrize("stream", sorted(TOPIC_CONFIGS))
def test_a_stream_that_must_forget_is_declared_with_its_compaction_and_bounded_lag(base: Manifests, stream):
    config = _topics(base)[topic(stream)]["spec"]["config"]
    wanted = TOPIC_CONFIGS[stream]
    assert {name: str(config.get(name)) for name in wanted} == wanted, "as the devstack and tests create it"
    assert config["cleanup.policy"] == "compact", "a tombstone removes a key only from a compacted topic"
    assert 0 < int(config["max.compaction.lag.ms"]) <= 7 * 24 * 3600 * 1000, "erasure reaches the broker in time"


def test_dead_letters_are_kept_a_bounded_time_longer_than_any_stream_that_is_not_kept_for_ever(base: Manifests):
    topics = _topics(base)
    streams = [topics[t] for t in all_topics("signpost")]
    dead_letters = [topics[t] for t in set(all_topics("signpost", SERVICES)) - set(all_topics("signpost"))]
    retention = [int(t["spec"]["config"]["retention.ms"]) for t in streams]
    bounded = [ms for ms in retention if ms > 0]
    kept = [int(t["spec"]["config"]["retention.ms"]) for t in dead_letters]
    assert min(kept) > max(bounded)
    assert all(ms > 0 for ms in kept), "dead letters are copies of records still on their streams: not kept for ever"


@pytest.mark.parametrize("service", CONSUMERS)
def test_consumers_scale_on_their_own_groups_lag_and_never_past_the_partitions(base: Manifests, service: str):
    facts = service_facts(service)
    scaled = base.named("ScaledObject", k8s_name(service))
    triggers = scaled["spec"]["triggers"]
    assert scaled["spec"]["scaleTargetRef"]["name"] == k8s_name(service)
    assert {t["type"] for t in triggers} == {"kafka"}
    assert {t["metadata"]["consumerGroup"] for t in triggers} == {facts.consumer_group}
    assert {t["metadata"]["topic"] for t in triggers} == set(facts.consumes)
    partitions = min(_topics(base)[topic]["spec"]["partitions"] for topic in facts.consumes)
    assert scaled["spec"]["minReplicaCount"] >= 1
    assert scaled["spec"]["maxReplicaCount"] <= partitions
    (kafka,) = base.of_kind("Kafka")
    # KEDA's operator runs in its own namespace: only the fully qualified name reaches the brokers.
    bootstrap = f"{kafka['metadata']['name']}-kafka-bootstrap.{NAMESPACE}.svc:{_client_listener(base)['port']}"
    for trigger in triggers:
        assert trigger["metadata"]["bootstrapServers"] == bootstrap
        assert trigger["metadata"]["allowIdleConsumers"] == "false"


def test_the_namespace_denies_all_traffic_that_is_not_allowed(base: Manifests):
    deny = [p for p in base.of_kind("NetworkPolicy") if p["spec"]["podSelector"] == {}]
    assert any(
        set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}
        and not p["spec"].get("ingress")
        and not p["spec"].get("egress")
        for p in deny
    )


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_reaches_dns_kafka_and_postgres_and_is_reached_on_its_http_port(base: Manifests, service: str):
    policies = base.of_kind("NetworkPolicy")
    pod = _pod_labels(base, service)
    assert allows(policies, pod, "Egress", 53, OUTSIDE, protocol="UDP")
    assert allows(policies, pod, "Egress", _client_listener(base)["port"], KAFKA_BROKER)
    assert allows(policies, pod, "Egress", 5432, POSTGRES)
    monitoring = Peer({"app.kubernetes.io/name": "prometheus"}, namespace="monitoring")
    assert allows(policies, pod, "Ingress", service_facts(service).http_port, monitoring)
    assert not allows(policies, pod, "Ingress", 5432, monitoring)
    assert not allows(policies, pod, "Egress", 443, OUTSIDE)


@pytest.mark.parametrize("service", SERVICES)
def test_only_notifications_may_send_mail(base: Manifests, service: str):
    policies = base.of_kind("NetworkPolicy")
    pod = _pod_labels(base, service)
    sends = any(allows(policies, pod, "Egress", port, OUTSIDE) for port in SMTP_PORTS)
    assert sends is (service == "notifications")


@pytest.mark.parametrize("service", SERVICES)
def test_kafka_and_postgres_admit_each_service(base: Manifests, service: str):
    pod = Peer(_pod_labels(base, service))
    listener = _client_listener(base)
    as_policy = {
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{"from": listener["networkPolicyPeers"]}]}
    }
    port = listener["port"]
    assert allows([as_policy], KAFKA_BROKER.labels or {}, "Ingress", port, pod)
    assert allows([as_policy], KAFKA_BROKER.labels or {}, "Ingress", port, Peer({}, namespace="keda"))
    assert allows(base.of_kind("NetworkPolicy"), POSTGRES.labels or {}, "Ingress", 5432, pod)
