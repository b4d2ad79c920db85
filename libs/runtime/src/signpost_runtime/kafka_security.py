"""The one way a Kafka client is given its security: TLS context and SASL login, from KafkaClientSettings.

`broker_security` is FastStream's security object for the service's KafkaBroker; `client_options` is the
same thing as keyword arguments for a raw aiokafka producer or consumer (signpost-dlq, the topic reader),
produced by FastStream's own translation so the two can never disagree.

The brokers' certificate is always verified and its host name checked (aiokafka's create_ssl_context):
Strimzi's listener certificates name the bootstrap service and each broker, so nothing needs relaxing.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

from aiokafka.helpers import create_ssl_context
from faststream.kafka.security import parse_security
from faststream.security import BaseSecurity, SASLScram512

from signpost_runtime.settings import KafkaClientSettings


class KafkaSecurityError(RuntimeError):
    """A file named by a KAFKA_* setting cannot be read or is not what it should be; the message says which."""


def broker_security(settings: KafkaClientSettings) -> BaseSecurity | None:
    """None for PLAINTEXT (FastStream's own default), else TLS, with a SCRAM-SHA-512 login for SASL_SSL."""
    if settings.kafka_security_protocol == "PLAINTEXT":
        return None
    context = _ssl_context(settings)
    if settings.kafka_security_protocol == "SSL":
        return BaseSecurity(ssl_context=context, use_ssl=True)
    # The settings' validator has made sure both are present for SASL_SSL.
    assert settings.kafka_sasl_username is not None
    return SASLScram512(settings.kafka_sasl_username, _password(settings), ssl_context=context, use_ssl=True)


def client_options(settings: KafkaClientSettings) -> dict[str, Any]:
    """Keyword arguments for AIOKafkaProducer/AIOKafkaConsumer: bootstrap servers and security."""
    return {"bootstrap_servers": settings.kafka_bootstrap_servers, **parse_security(broker_security(settings))}


def _password(settings: KafkaClientSettings) -> str:
    if settings.kafka_sasl_password is not None:
        return settings.kafka_sasl_password.get_secret_value()
    assert settings.kafka_sasl_password_file is not None
    password = _read(settings.kafka_sasl_password_file, "KAFKA_SASL_PASSWORD_FILE").strip()
    if not password:
        raise KafkaSecurityError(f"KAFKA_SASL_PASSWORD_FILE {settings.kafka_sasl_password_file} is empty")
    return password


def _ssl_context(settings: KafkaClientSettings) -> ssl.SSLContext:
    for path, name in (
        (settings.kafka_ssl_ca_file, "KAFKA_SSL_CA_FILE"),
        (settings.kafka_ssl_cert_file, "KAFKA_SSL_CERT_FILE"),
        (settings.kafka_ssl_key_file, "KAFKA_SSL_KEY_FILE"),
    ):
        if path is not None:
            _read(path, name)
    try:
        context: ssl.SSLContext = create_ssl_context(
            cafile=settings.kafka_ssl_ca_file,
            cadata=settings.kafka_ssl_ca_pem.get_secret_value() if settings.kafka_ssl_ca_pem else None,
            certfile=settings.kafka_ssl_cert_file,
            keyfile=settings.kafka_ssl_key_file,
        )
    except ssl.SSLError as exc:
        raise KafkaSecurityError(
            "cannot load the Kafka TLS material (KAFKA_SSL_CA_FILE / KAFKA_SSL_CA_PEM must hold PEM CA certificates; "
            f"KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE a matching PEM certificate and unencrypted key): {exc}"
        ) from exc
    return context


def _read(path: Path, name: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise KafkaSecurityError(f"{name} {path} cannot be read: {exc.strerror or exc}") from exc
