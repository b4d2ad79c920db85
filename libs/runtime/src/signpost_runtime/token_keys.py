"""Where token signatures are checked against: a shared secret, a static public key, or a JWKS URL.

Algorithms follow from the key, never from the token: an RSA key accepts RS*/PS*, an EC key the
ES* of its curve, and a public key is never used as an HMAC secret (the classic algorithm-confusion
attack). HS256 is accepted only with JWT_SECRET.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from signpost_runtime.settings import ServiceSettings

RSA_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
_EC_ALGORITHMS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}
JWKS_FETCH_TIMEOUT_SECONDS = 5.0


class KeySetUnavailableError(Exception):
    """The key set could not be fetched or read: the server's problem, not the caller's."""


class UnknownSigningKeyError(Exception):
    """The token names a key (`kid`) the key set does not hold, even after a refetch."""


def algorithms_for(key: object) -> tuple[str, ...]:
    """The signature algorithms a public key can verify, by its type and curve."""
    if isinstance(key, rsa.RSAPublicKey):
        return RSA_ALGORITHMS
    if isinstance(key, ec.EllipticCurvePublicKey):
        algorithm = _EC_ALGORITHMS.get(key.curve.name)
        return (algorithm,) if algorithm else ()
    if isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        return ("EdDSA",)
    return ()


@dataclass(frozen=True)
class VerificationKey:
    key: object
    algorithms: tuple[str, ...]
    described_as: str  # for messages: which key refused the token


class KeySource(Protocol):
    description: str

    def key_for(self, header: dict[str, object]) -> VerificationKey: ...


class SharedSecret:
    description = "JWT_SECRET (HS256)"

    def __init__(self, secret: str) -> None:
        self._key = VerificationKey(secret, ("HS256",), self.description)

    def key_for(self, header: dict[str, object]) -> VerificationKey:
        return self._key


class StaticPublicKey:
    def __init__(self, pem: str) -> None:
        key = _load_public_key(pem)
        algorithms = algorithms_for(key)
        if not algorithms:
            raise ValueError(
                f"JWT_PUBLIC_KEY is a {type(key).__name__}, which Signpost cannot verify tokens with: "
                "use an RSA key, an EC key on P-256, P-384 or P-521, or an Ed25519/Ed448 key"
            )
        self.description = f"JWT_PUBLIC_KEY ({_family(key)})"
        self._key = VerificationKey(key, algorithms, self.description)

    def key_for(self, header: dict[str, object]) -> VerificationKey:
        return self._key


class JwksKeys:
    """Keys from the identity provider's JWKS URL, looked up by the token's `kid`.

    PyJWKClient caches the whole set for `lifespan` seconds, so a key removed from the set stops
    verifying within that time; a `kid` it has not seen makes it refetch at once, at most once per
    `cooldown` seconds, so a stream of made-up kids cannot hammer the identity provider.
    """

    def __init__(self, url: str, *, lifespan_seconds: float, cooldown_seconds: float) -> None:
        self.description = f"the key set at JWT_JWKS_URL {url}"
        self._url = url
        self._client = jwt.PyJWKClient(
            url,
            lifespan=lifespan_seconds,
            cooldown_duration=cooldown_seconds,
            timeout=JWKS_FETCH_TIMEOUT_SECONDS,
        )

    def key_for(self, header: dict[str, object]) -> VerificationKey:
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise UnknownSigningKeyError(
                "the token has no `kid` header: with a JWKS URL each token must name the key that signed it"
            )
        try:
            self._client.get_signing_keys()  # from the cache while it is fresh
        except (jwt.PyJWKClientError, jwt.PyJWKSetError, ValueError) as exc:  # unreachable, not JSON, no keys
            raise KeySetUnavailableError(f"could not fetch a usable key set from {self._url}: {exc}") from exc
        try:
            jwk = self._client.get_signing_key(kid)  # refetches once (cooldown permitting) for an unknown kid
        except jwt.PyJWKClientConnectionError as exc:
            raise KeySetUnavailableError(f"could not fetch the key set from {self._url}: {exc}") from exc
        except jwt.PyJWKClientError as exc:
            raise UnknownSigningKeyError(f"{self.description} has no key with kid '{kid}'") from exc
        except (jwt.PyJWKSetError, ValueError) as exc:
            raise KeySetUnavailableError(f"could not fetch a usable key set from {self._url}: {exc}") from exc
        algorithms = algorithms_for(jwk.key)
        if not algorithms:
            raise UnknownSigningKeyError(f"the key '{kid}' in {self.description} is not a public signature key")
        return VerificationKey(jwk.key, algorithms, f"key '{kid}' ({_family(jwk.key)}) of {self.description}")


def key_source(settings: ServiceSettings) -> KeySource | None:
    """The configured source, or None when no key is configured (every token is then refused)."""
    if settings.jwt_jwks_url:
        return JwksKeys(
            settings.jwt_jwks_url,
            lifespan_seconds=settings.jwt_jwks_lifespan_seconds,
            cooldown_seconds=settings.jwt_jwks_cooldown_seconds,
        )
    if settings.jwt_public_key:
        return StaticPublicKey(settings.jwt_public_key)
    if settings.jwt_secret:
        return SharedSecret(settings.jwt_secret.get_secret_value())
    return None


def _load_public_key(pem: str) -> object:
    data = pem.strip().encode()
    try:
        if data.startswith(b"-----BEGIN CERTIFICATE-----"):
            return x509.load_pem_x509_certificate(data).public_key()
        return load_pem_public_key(data)
    except ValueError as exc:
        raise ValueError(
            "JWT_PUBLIC_KEY is not a PEM public key or certificate (expected '-----BEGIN PUBLIC KEY-----' "
            f"or '-----BEGIN CERTIFICATE-----'): {exc}"
        ) from None


def _family(key: object) -> str:
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA {key.key_size}-bit"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC {key.curve.name}"
    return type(key).__name__
