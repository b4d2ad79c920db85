"""Signing keys as an identity provider holds them, and a JWKS endpoint serving their public halves."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

ISSUER = "https://identity.example.test/"


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private: Any
    algorithm: str

    @classmethod
    def rsa(cls, kid: str = "rsa-1") -> SigningKey:
        return cls(kid, rsa.generate_private_key(public_exponent=65537, key_size=2048), "RS256")

    @classmethod
    def ec(cls, kid: str = "ec-1") -> SigningKey:
        return cls(kid, ec.generate_private_key(ec.SECP256R1()), "ES256")

    @property
    def public_pem(self) -> str:
        public = self.private.public_key()
        return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    @property
    def public_jwk(self) -> dict[str, Any]:
        family = jwt.algorithms.RSAAlgorithm if self.algorithm.startswith("RS") else jwt.algorithms.ECAlgorithm
        return {**family.to_jwk(self.private.public_key(), as_dict=True), "kid": self.kid, "use": "sig"}

    def sign(self, claims: dict[str, Any] | None = None, *, with_kid: bool = True, **more: Any) -> str:
        """Sign `claims` (default: good_claims()) with any `more` claims set on top."""
        headers = {"kid": self.kid} if with_kid else None
        payload = {**(good_claims() if claims is None else claims), **more}
        return jwt.encode(payload, self.private, algorithm=self.algorithm, headers=headers)


def good_claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "sub": "idp-user",
        "scope": "triage:read",
        "ods": "B82005",
        "aud": "signpost",
        "iss": ISSUER,
        "iat": now,
        "exp": now + 600,
    }
    return {**claims, **overrides}


def hmac_signed_with(secret: str, claims: dict[str, Any]) -> str:
    """An HS256 token keyed with any string, a public key's PEM included (PyJWT itself refuses to)."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = f"{part(json.dumps({'alg': 'HS256', 'typ': 'JWT'}).encode())}.{part(json.dumps(claims).encode())}"
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{part(signature)}"


@dataclass
class JwksEndpoint:
    """What the identity provider publishes; tests rotate keys by assigning `keys`."""

    url: str
    keys: list[SigningKey] = field(default_factory=list)
    fetches: int = 0


@contextlib.contextmanager
def jwks_endpoint(*keys: SigningKey) -> Iterator[JwksEndpoint]:
    """A JWKS endpoint on 127.0.0.1 (PyJWKClient fetches with urllib, so it needs a real socket)."""
    endpoint = JwksEndpoint(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            endpoint.fetches += 1
            body = json.dumps({"keys": [key.public_jwk for key in endpoint.keys]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the tests assert on fetch counts, not on access logs."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    endpoint.url = f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    endpoint.keys = list(keys)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield endpoint
    finally:
        server.shutdown()
        server.server_close()
