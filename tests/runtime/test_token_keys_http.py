"""Tokens at each service's door: a bad token is a 401 (never a 500), and JWKS keys rotate."""

from __future__ import annotations

import importlib
import socket
import time
import uuid

import httpx
import pytest
from fastapi import FastAPI

from signpost_contracts.vocabulary import SERVICES
from signpost_runtime.auth import AuthError, TokenVerifier
from signpost_runtime.settings import ServiceSettings
from support.keys import ISSUER, SigningKey, good_claims, hmac_signed_with, jwks_endpoint

# A protected endpoint of each service; the token is refused before the handler touches a database.
PROTECTED = {
    "referral_intake": f"/fhir/ServiceRequest/{uuid.uuid4()}",
    "triage": "/roster",
    "notifications": f"/deliveries?referral_id={uuid.uuid4()}",
    "reporting": "/api/summary",
}


def _service_app(service: str, monkeypatch: pytest.MonkeyPatch, **environment: str) -> FastAPI:
    monkeypatch.delenv("JWT_SECRET", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    app: FastAPI = importlib.import_module(f"{service}.app").create_app()
    return app


async def _get(app: FastAPI, path: str, token: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.get(path, headers={"Authorization": f"Bearer {token}"})


def _bad_tokens(rsa_key: SigningKey) -> dict[str, str]:
    return {
        "es256-headed": SigningKey.ec().sign(scope="referrals:read triage:read notifications:read reporting:read"),
        "hmac-with-the-public-key": hmac_signed_with(rsa_key.public_pem, good_claims()),
        "malformed": "not.a.jwt",
        "another-rsa-key": SigningKey.rsa().sign(),
    }


@pytest.mark.unit
@pytest.mark.parametrize("service", SERVICES)
async def test_every_service_answers_a_token_it_cannot_verify_with_401_not_500(service, monkeypatch):
    rsa_key = SigningKey.rsa()
    app = _service_app(service, monkeypatch, JWT_PUBLIC_KEY=rsa_key.public_pem, JWT_ISSUER=ISSUER)
    for kind, token in _bad_tokens(rsa_key).items():
        response = await _get(app, PROTECTED[service], token)
        assert response.status_code == 401, f"{service}, {kind} token: {response.status_code} {response.text}"
        assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.unit
@pytest.mark.parametrize("service", SERVICES)
def test_every_service_refuses_to_start_with_a_public_key_but_no_issuer(service, monkeypatch):
    with pytest.raises(ValueError, match="JWT_ISSUER is required"):
        _service_app(service, monkeypatch, JWT_PUBLIC_KEY=SigningKey.rsa().public_pem)


@pytest.mark.unit
async def test_a_token_signed_by_the_configured_rsa_key_is_let_in_where_an_es256_one_is_not(monkeypatch):
    rsa_key = SigningKey.rsa()
    app = _service_app("triage", monkeypatch, JWT_PUBLIC_KEY=rsa_key.public_pem, JWT_ISSUER=ISSUER)
    accepted = await _get(app, "/policy", rsa_key.sign())
    refused = await _get(app, "/policy", SigningKey.ec().sign())
    assert accepted.status_code == 200, accepted.text
    assert refused.status_code == 401
    assert "signed with alg 'ES256'" in refused.json()["detail"]


def _verifier(url: str, *, lifespan: float = 300, cooldown: float = 0) -> TokenVerifier:
    settings = ServiceSettings(
        jwt_jwks_url=url, jwt_issuer=ISSUER, jwt_jwks_lifespan_seconds=lifespan, jwt_jwks_cooldown_seconds=cooldown
    )
    return TokenVerifier(settings)


def _accepts(verifier: TokenVerifier, token: str) -> bool:
    """True when let in, False when refused as a bad token (401); anything else fails the test."""
    try:
        verifier.verify(f"Bearer {token}")
    except AuthError as refusal:
        status = refusal.status_code
    else:
        return True
    assert status == 401
    return False


@pytest.mark.integration
def test_keys_rotate_through_the_jwks_url_and_a_removed_key_stops_verifying_once_the_cache_expires():
    key_a, key_b = SigningKey.rsa("key-a"), SigningKey.ec("key-b")
    lifespan = 2.0
    with jwks_endpoint(key_a) as idp:
        verifier = _verifier(idp.url, lifespan=lifespan)
        assert _accepts(verifier, key_a.sign())
        assert idp.fetches == 1

        idp.keys = [key_a, key_b]  # the identity provider publishes its next key beside the current one
        assert _accepts(verifier, key_b.sign()), "an unknown kid makes the verifier fetch the key set again"
        assert idp.fetches == 2
        assert _accepts(verifier, key_a.sign())

        idp.keys = [key_b]  # and later retires the old one
        retired_at = time.monotonic()
        assert _accepts(verifier, key_a.sign()), "the fetched set is trusted for its lifespan"
        assert time.monotonic() - retired_at < lifespan, "too slow to observe the cache; the assertion above is void"
        time.sleep(lifespan + 0.2)
        assert not _accepts(verifier, key_a.sign())
        assert _accepts(verifier, key_b.sign())


@pytest.mark.integration
def test_made_up_key_ids_do_not_make_the_verifier_hammer_the_identity_provider():
    key = SigningKey.rsa("real")
    with jwks_endpoint(key) as idp:
        verifier = _verifier(idp.url, cooldown=30)
        assert _accepts(verifier, key.sign())
        for _ in range(20):
            assert not _accepts(verifier, SigningKey.rsa(f"made-up-{uuid.uuid4()}").sign())
        assert idp.fetches == 1


@pytest.mark.integration
def test_a_token_without_a_kid_or_with_an_unknown_kid_is_a_401_saying_so():
    key = SigningKey.rsa("real")
    with jwks_endpoint(key) as idp:
        verifier = _verifier(idp.url)
        for token, expected in (
            (key.sign(with_kid=False), "has no `kid` header"),
            (SigningKey.rsa("stranger").sign(), "has no key with kid 'stranger'"),
        ):
            with pytest.raises(AuthError) as refused:
                verifier.verify(f"Bearer {token}")
            assert refused.value.status_code == 401
            assert expected in refused.value.message


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.mark.integration
async def test_an_unreachable_jwks_url_is_a_503_the_caller_may_retry_not_a_401(monkeypatch):
    url = f"http://127.0.0.1:{_closed_port()}/jwks"
    app = _service_app("triage", monkeypatch, JWT_JWKS_URL=url, JWT_ISSUER=ISSUER)
    response = await _get(app, "/policy", SigningKey.rsa().sign())
    assert response.status_code == 503, response.text
    assert "cannot be checked just now" in response.json()["detail"]
    assert url in response.json()["detail"]


@pytest.mark.integration
async def test_a_service_verifies_tokens_with_keys_from_its_jwks_url(monkeypatch):
    key = SigningKey.ec("current")
    with jwks_endpoint(key) as idp:
        app = _service_app("triage", monkeypatch, JWT_JWKS_URL=idp.url, JWT_ISSUER=ISSUER)
        accepted = await _get(app, "/policy", key.sign())
        refused = await _get(app, "/policy", SigningKey.ec("current").sign())  # same kid, another key
    assert accepted.status_code == 200, accepted.text
    assert refused.status_code == 401
