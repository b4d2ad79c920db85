"""Kafka security settings reach every client the runtime kit makes, and a half-configured one is refused.

The clients are built but never started: what is checked is the configuration aiokafka itself holds
(its client's security protocol, SASL mechanism and login, TLS context), reached through the same code
paths a service, the topic reader (reporting's rebuild) and signpost-dlq use. Settings are given as
environment variables, the way a Deployment gives them.
"""

from __future__ import annotations

import datetime
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiokafka
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import ValidationError

from signpost_runtime import dlq_cli
from signpost_runtime.kafka_security import KafkaSecurityError, client_options
from signpost_runtime.replay import TopicReader
from signpost_runtime.runtime import ServiceDefinition, ServiceRuntime
from signpost_runtime.settings import KafkaClientSettings, ServiceSettings

pytestmark = pytest.mark.unit

KAFKA_SECURITY_VARIABLES = (
    "KAFKA_SECURITY_PROTOCOL",
    "KAFKA_SASL_MECHANISM",
    "KAFKA_SASL_USERNAME",
    "KAFKA_SASL_PASSWORD",
    "KAFKA_SASL_PASSWORD_FILE",
    "KAFKA_SSL_CA_FILE",
    "KAFKA_SSL_CA_PEM",
    "KAFKA_SSL_CERT_FILE",
    "KAFKA_SSL_KEY_FILE",
)


@dataclass(frozen=True)
class Pki:
    ca: Path
    cert: Path
    key: Path
    other_key: Path
    ca_subject: str


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _certificate(
    subject: str, key: ec.EllipticCurvePrivateKey, issuer: str, signer: ec.EllipticCurvePrivateKey
) -> bytes:
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=subject == issuer, path_length=None), critical=True)
        .sign(signer, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A cluster CA (as Strimzi's signpost-cluster-ca-cert holds) and a client certificate it signed."""
    directory = tmp_path_factory.mktemp("kafka-pki")
    ca_key, client_key = _key(), _key()
    files = {
        "ca.crt": _certificate("signpost-cluster-ca", ca_key, "signpost-cluster-ca", ca_key),
        "user.crt": _certificate("triage", client_key, "signpost-cluster-ca", ca_key),
        "user.key": _pem_key(client_key),
        "other.key": _pem_key(_key()),
    }
    for name, content in files.items():
        (directory / name).write_bytes(content)
    return Pki(
        directory / "ca.crt",
        directory / "user.crt",
        directory / "user.key",
        directory / "other.key",
        "signpost-cluster-ca",
    )


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No Kafka security variable from the machine running the tests leaks into one."""
    for name in KAFKA_SECURITY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def _environment(monkeypatch: pytest.MonkeyPatch, **variables: str | Path) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, str(value))


def _runtime() -> ServiceRuntime:
    settings = ServiceSettings(service_name="triage", kafka_bootstrap_servers="kafka.example:9093")
    return ServiceRuntime(ServiceDefinition(settings=settings, migrations=Path(__file__).parent))


class _Built(Exception):  # noqa: N818 (stops the broker's connect once its producer exists)
    pass


async def _producer_the_broker_makes(runtime: ServiceRuntime, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The AIOKafkaProducer FastStream builds when the service connects, caught before it dials out."""
    made: list[aiokafka.AIOKafkaProducer] = []
    real = aiokafka.AIOKafkaProducer

    def build(**kwargs: Any) -> aiokafka.AIOKafkaProducer:
        made.append(real(**kwargs))
        raise _Built

    monkeypatch.setattr(aiokafka, "AIOKafkaProducer", build)
    with pytest.raises(_Built):
        await runtime.broker.connect()
    return made[0].client


def _consumer_the_broker_makes(runtime: ServiceRuntime) -> Any:
    """The AIOKafkaConsumer each of the service's subscribers is built with."""
    return runtime.broker.config.broker_config.builder()._client


async def test_with_no_kafka_security_settings_every_client_connects_in_plaintext(monkeypatch: pytest.MonkeyPatch):
    runtime = _runtime()
    reader = TopicReader(KafkaClientSettings(), ["signpost.referrals"])
    for client in (
        await _producer_the_broker_makes(runtime, monkeypatch),
        _consumer_the_broker_makes(runtime),
        reader.consumer._client,
    ):
        assert client._security_protocol == "PLAINTEXT"
        assert client._ssl_context is None
        assert client._sasl_plain_username is None


async def test_a_scram_login_over_tls_reaches_the_services_producer_and_consumers(
    monkeypatch: pytest.MonkeyPatch, pki: Pki
):
    _environment(
        monkeypatch,
        KAFKA_SECURITY_PROTOCOL="SASL_SSL",
        KAFKA_SASL_USERNAME="triage",
        KAFKA_SASL_PASSWORD="from-the-kafkauser-secret",
        KAFKA_SSL_CA_FILE=pki.ca,
    )
    runtime = _runtime()
    for client in (await _producer_the_broker_makes(runtime, monkeypatch), _consumer_the_broker_makes(runtime)):
        assert client._security_protocol == "SASL_SSL"
        assert client._sasl_mechanism == "SCRAM-SHA-512"
        assert (client._sasl_plain_username, client._sasl_plain_password) == ("triage", "from-the-kafkauser-secret")
        _assert_trusts_only_the_cluster_ca(client._ssl_context, pki)


def _assert_trusts_only_the_cluster_ca(context: ssl.SSLContext, pki: Pki) -> None:
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    subjects = [dict(part[0] for part in ca["subject"]) for ca in context.get_ca_certs()]
    assert {"commonName": pki.ca_subject} in subjects


async def test_the_commands_raw_clients_get_the_same_security_as_the_service(monkeypatch: pytest.MonkeyPatch, pki: Pki):
    """The rebuild's topic reader and signpost-dlq's producer: the other two places a Kafka client is made."""
    _environment(
        monkeypatch,
        KAFKA_SECURITY_PROTOCOL="SASL_SSL",
        KAFKA_SASL_USERNAME="signpost-dlq-replay",
        KAFKA_SASL_PASSWORD="replay-secret",
        KAFKA_SSL_CA_PEM=pki.ca.read_text(encoding="utf-8"),
    )
    settings = KafkaClientSettings(kafka_bootstrap_servers="kafka.example:9093")
    reader = TopicReader(settings, ["signpost.referrals"])
    producer = aiokafka.AIOKafkaProducer(**client_options(settings))
    for client in (reader.consumer._client, producer.client):
        assert client._bootstrap_servers == "kafka.example:9093"
        assert client._security_protocol == "SASL_SSL"
        assert client._sasl_mechanism == "SCRAM-SHA-512"
        assert (client._sasl_plain_username, client._sasl_plain_password) == ("signpost-dlq-replay", "replay-secret")
        _assert_trusts_only_the_cluster_ca(client._ssl_context, pki)


def test_the_password_can_be_read_from_a_mounted_secret_file(monkeypatch: pytest.MonkeyPatch, pki: Pki, tmp_path: Path):
    password = tmp_path / "password"
    password.write_text("mounted-secret\n", encoding="utf-8")  # as a Secret volume's file may end
    _environment(
        monkeypatch,
        KAFKA_SECURITY_PROTOCOL="SASL_SSL",
        KAFKA_SASL_USERNAME="reporting",
        KAFKA_SASL_PASSWORD_FILE=password,
        KAFKA_SSL_CA_FILE=pki.ca,
    )
    assert client_options(KafkaClientSettings())["sasl_plain_password"] == "mounted-secret"


async def test_mutual_tls_presents_the_client_certificate_and_no_login(monkeypatch: pytest.MonkeyPatch, pki: Pki):
    _environment(
        monkeypatch,
        KAFKA_SECURITY_PROTOCOL="SSL",
        KAFKA_SSL_CA_FILE=pki.ca,
        KAFKA_SSL_CERT_FILE=pki.cert,
        KAFKA_SSL_KEY_FILE=pki.key,
    )
    client = _consumer_the_broker_makes(_runtime())
    assert client._security_protocol == "SSL"
    assert client._sasl_plain_username is None
    _assert_trusts_only_the_cluster_ca(client._ssl_context, pki)


def test_a_client_key_that_does_not_match_its_certificate_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, pki: Pki
):
    """Proves the certificate is really loaded: the TLS context checks the key against it."""
    _environment(
        monkeypatch,
        KAFKA_SECURITY_PROTOCOL="SSL",
        KAFKA_SSL_CA_FILE=pki.ca,
        KAFKA_SSL_CERT_FILE=pki.cert,
        KAFKA_SSL_KEY_FILE=pki.other_key,
    )
    with pytest.raises(KafkaSecurityError, match="KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE"):
        _runtime()


def test_a_ca_file_that_is_not_there_is_named_at_start(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    missing = tmp_path / "kafka-ca" / "ca.crt"
    _environment(monkeypatch, KAFKA_SECURITY_PROTOCOL="SSL", KAFKA_SSL_CA_FILE=missing)
    with pytest.raises(KafkaSecurityError, match=f"KAFKA_SSL_CA_FILE {missing} cannot be read"):
        _runtime()


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_USERNAME": "triage"}, "KAFKA_SASL_PASSWORD"),
        ({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_PASSWORD": "secret"}, "KAFKA_SASL_USERNAME"),
        ({"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CERT_FILE": "/tls/user.crt"}, "KAFKA_SSL_KEY_FILE is required"),
        ({"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_KEY_FILE": "/tls/user.key"}, "KAFKA_SSL_CERT_FILE is required"),
        ({"KAFKA_SASL_USERNAME": "triage", "KAFKA_SASL_PASSWORD": "secret"}, "KAFKA_SECURITY_PROTOCOL is PLAINTEXT"),
        ({"KAFKA_SSL_CA_FILE": "/tls/ca.crt"}, "KAFKA_SECURITY_PROTOCOL is PLAINTEXT"),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SASL_USERNAME": "triage", "KAFKA_SASL_PASSWORD": "secret"},
            "KAFKA_SECURITY_PROTOCOL is SSL",
        ),
        ({"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT"}, "kafka_security_protocol"),
        ({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "PLAIN"}, "kafka_sasl_mechanism"),
    ],
)
def test_a_half_configured_kafka_connection_is_refused_naming_what_to_set(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], named: str
):
    _environment(monkeypatch, **variables)
    with pytest.raises(ValidationError, match=named):
        ServiceSettings()


def test_signpost_dlq_refuses_a_half_configured_connection_before_reading_anything(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    _environment(monkeypatch, KAFKA_SECURITY_PROTOCOL="SASL_SSL", KAFKA_SASL_USERNAME="signpost-dlq-replay")
    # Nothing listens there: reaching for the broker would fail differently (and slowly).
    status = dlq_cli.main(["list", "--consumer", "triage", "--bootstrap", "127.0.0.1:9"])
    assert status == 2
    assert "KAFKA_SASL_PASSWORD" in capsys.readouterr().err
