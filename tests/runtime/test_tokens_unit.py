"""Token verification rules: algorithms from the key, clock leeway, issuer required, intermediaries."""

from __future__ import annotations

import time

import jwt
import pytest
from pydantic import ValidationError

from signpost_contracts.vocabulary import Scope
from signpost_runtime.auth import AuthError, Principal, TokenVerifier, issue_token
from signpost_runtime.settings import ServiceSettings
from support.keys import ISSUER, SigningKey, good_claims, hmac_signed_with

pytestmark = pytest.mark.unit

SECRET = "unit-test-secret-0123456789abcdef0123456789abcdef"


def _refusal(verifier: TokenVerifier, token: str) -> AuthError:
    with pytest.raises(AuthError) as refused:
        verifier.verify(f"Bearer {token}")
    return refused.value


def _expired_ago(seconds: int) -> str:
    now = int(time.time())
    claims = {"sub": "gp", "scope": "triage:read", "aud": "signpost", "iat": now - 3600, "exp": now - seconds}
    return jwt.encode(claims, SECRET, algorithm="HS256")


def test_a_token_expired_ten_seconds_ago_is_accepted_within_the_clock_leeway():
    verifier = TokenVerifier(ServiceSettings(jwt_secret=SECRET))
    assert verifier.verify(f"Bearer {_expired_ago(10)}").subject == "gp"


def test_a_token_expired_two_minutes_ago_is_refused_as_expired():
    verifier = TokenVerifier(ServiceSettings(jwt_secret=SECRET))
    refusal = _refusal(verifier, _expired_ago(120))
    assert (refusal.status_code, refusal.message) == (401, "bearer token has expired; request a new one")


def test_a_token_not_valid_until_just_after_now_is_accepted_within_the_leeway():
    now = int(time.time())
    token = jwt.encode({"sub": "gp", "aud": "signpost", "nbf": now + 10, "iat": now + 10, "exp": now + 600}, SECRET)
    assert TokenVerifier(ServiceSettings(jwt_secret=SECRET)).verify(f"Bearer {token}").subject == "gp"


def test_with_no_leeway_a_token_expired_ten_seconds_ago_is_refused():
    verifier = TokenVerifier(ServiceSettings(jwt_secret=SECRET, jwt_leeway_seconds=0))
    assert _refusal(verifier, _expired_ago(10)).status_code == 401


def test_an_es256_token_against_an_rsa_public_key_is_a_401_naming_the_algorithms_that_key_verifies():
    rsa_key = SigningKey.rsa()
    verifier = TokenVerifier(ServiceSettings(jwt_public_key=rsa_key.public_pem, jwt_issuer=ISSUER))
    refusal = _refusal(verifier, SigningKey.ec().sign())
    assert refusal.status_code == 401
    assert "alg 'ES256'" in refusal.message
    assert "RS256" in refusal.message
    assert "PS256" in refusal.message
    assert verifier.verify(f"Bearer {rsa_key.sign()}").scopes == {"triage:read"}


def test_an_ec_public_key_verifies_only_the_algorithm_of_its_curve():
    ec_key = SigningKey.ec()
    verifier = TokenVerifier(ServiceSettings(jwt_public_key=ec_key.public_pem, jwt_issuer=ISSUER))
    assert verifier.verify(f"Bearer {ec_key.sign()}").subject == "idp-user"
    assert "verifies only ES256" in _refusal(verifier, SigningKey.rsa().sign()).message


def test_a_token_hmac_signed_with_the_public_key_itself_is_refused():
    rsa_key = SigningKey.rsa()
    verifier = TokenVerifier(ServiceSettings(jwt_public_key=rsa_key.public_pem, jwt_issuer=ISSUER))
    refusal = _refusal(verifier, hmac_signed_with(rsa_key.public_pem, good_claims()))
    assert refusal.status_code == 401
    assert "alg 'HS256'" in refusal.message


def test_an_unsigned_token_is_refused_even_with_a_shared_secret():
    unsigned = jwt.encode(good_claims(), None, algorithm="none")
    verifier = TokenVerifier(ServiceSettings(jwt_secret=SECRET))
    assert "alg 'none'" in _refusal(verifier, unsigned).message


@pytest.mark.parametrize("garbage", ["abc", "a.b.c", "....", "eyJhbGciOiJIUzI1NiJ9.%%%.x", "Bearer"])
def test_a_malformed_token_is_a_401_saying_it_is_not_a_jwt(garbage: str):
    refusal = _refusal(TokenVerifier(ServiceSettings(jwt_secret=SECRET)), garbage)
    assert refusal.status_code == 401
    assert "not a well-formed JWT" in refusal.message


def test_a_token_from_another_issuer_is_refused_when_the_issuer_is_configured():
    rsa_key = SigningKey.rsa()
    verifier = TokenVerifier(ServiceSettings(jwt_public_key=rsa_key.public_pem, jwt_issuer=ISSUER))
    assert f"must be '{ISSUER}'" in _refusal(verifier, rsa_key.sign(iss="https://elsewhere.example/")).message
    missing = good_claims()
    del missing["iss"]
    assert "lacks the `iss` claim" in _refusal(verifier, rsa_key.sign(missing)).message


def test_a_public_key_without_an_issuer_stops_the_service_at_start():
    with pytest.raises(ValidationError, match="JWT_ISSUER is required when JWT_PUBLIC_KEY is set"):
        ServiceSettings(jwt_public_key=SigningKey.rsa().public_pem)


def test_a_jwks_url_without_an_issuer_stops_the_service_at_start():
    with pytest.raises(ValidationError, match="JWT_ISSUER is required when JWT_JWKS_URL is set"):
        ServiceSettings(jwt_jwks_url="https://identity.example.test/jwks")


def test_a_jwks_url_over_plain_http_to_another_host_stops_the_service_at_start():
    with pytest.raises(ValidationError, match="must be an https:// URL"):
        ServiceSettings(jwt_jwks_url="http://identity.example.test/jwks", jwt_issuer=ISSUER)


def test_a_public_key_and_a_jwks_url_together_stop_the_service_at_start():
    with pytest.raises(ValidationError, match="configure one"):
        ServiceSettings(jwt_public_key=SigningKey.rsa().public_pem, jwt_jwks_url="https://x.test/j", jwt_issuer=ISSUER)


def test_a_public_key_that_is_not_pem_is_named_in_the_error():
    with pytest.raises(ValueError, match="JWT_PUBLIC_KEY is not a PEM public key"):
        TokenVerifier(ServiceSettings(jwt_public_key="not a key", jwt_issuer=ISSUER))


def test_the_local_shared_secret_works_without_an_issuer_and_checks_one_when_set():
    token = issue_token(SECRET, subject="dev", scopes=[Scope.TRIAGE_READ], ods_code="B82005")
    assert TokenVerifier(ServiceSettings(jwt_secret=SECRET)).verify(f"Bearer {token}").ods_code == "B82005"
    strict = TokenVerifier(ServiceSettings(jwt_secret=SECRET, jwt_issuer=ISSUER))
    assert _refusal(strict, token).status_code == 401
    issued = issue_token(SECRET, subject="dev", scopes=[Scope.TRIAGE_READ], issuer=ISSUER)
    assert strict.verify(f"Bearer {issued}").subject == "dev"


def test_the_on_behalf_allow_list_travels_in_the_token():
    token = issue_token(
        SECRET, subject="hub", scopes=[Scope.REFERRALS_WRITE_ON_BEHALF], ods_code="X26", on_behalf_of=["B82005"]
    )
    principal = TokenVerifier(ServiceSettings(jwt_secret=SECRET)).verify(f"Bearer {token}")
    assert principal == Principal("hub", frozenset({"referrals:write-on-behalf"}), "X26", frozenset({"B82005"}))
    everyone = issue_token(SECRET, subject="hub", scopes=[Scope.REFERRALS_WRITE_ON_BEHALF])
    assert TokenVerifier(ServiceSettings(jwt_secret=SECRET)).verify(f"Bearer {everyone}").on_behalf_of is None


def test_an_on_behalf_claim_that_is_not_a_list_of_codes_is_refused():
    token = jwt.encode(good_claims(ods_on_behalf={"B82005": True}), SECRET)
    verifier = TokenVerifier(ServiceSettings(jwt_secret=SECRET, jwt_issuer=ISSUER))
    assert "`ods_on_behalf` claim must be a list of ODS codes" in _refusal(verifier, token).message


def _principal(*scopes: str, ods: str | None = "B82005", on_behalf_of: set[str] | None = None) -> Principal:
    allow_list = frozenset(on_behalf_of) if on_behalf_of is not None else None
    return Principal("caller", frozenset(scopes), ods, allow_list)


def test_a_practice_token_sends_only_for_its_own_organisation():
    practice = _principal(Scope.REFERRALS_WRITE)
    assert practice.may_send_for("B82005")
    assert not practice.may_send_for("A81001")
    assert not practice.is_intermediary


def test_a_token_without_an_organisation_sends_for_nobody_without_the_intermediary_scope():
    assert not _principal(Scope.REFERRALS_WRITE, ods=None).may_send_for("B82005")


def test_an_intermediary_without_an_allow_list_sends_for_any_organisation():
    hub = _principal(Scope.REFERRALS_WRITE_ON_BEHALF, ods="X26")
    assert hub.is_intermediary
    assert hub.may_send_for("A81001")
    assert hub.may_send_for("B82005")


def test_an_intermediary_with_an_allow_list_sends_only_for_the_organisations_listed():
    hub = _principal(Scope.REFERRALS_WRITE_ON_BEHALF, ods="X26", on_behalf_of={"A81001"})
    assert hub.may_send_for("A81001")
    assert not hub.may_send_for("B82005")
    assert not hub.may_send_for("X26"), "its own organisation needs referrals:write"
    assert _principal(
        Scope.REFERRALS_WRITE, Scope.REFERRALS_WRITE_ON_BEHALF, ods="X26", on_behalf_of=set()
    ).may_send_for("X26")


def test_an_empty_allow_list_lets_an_intermediary_send_for_no_other_organisation():
    assert not _principal(Scope.REFERRALS_WRITE_ON_BEHALF, ods="X26", on_behalf_of=set()).may_send_for("A81001")


def test_sending_for_an_organisation_does_not_let_a_token_read_its_records():
    hub = _principal(Scope.REFERRALS_WRITE_ON_BEHALF, Scope.REFERRALS_READ, ods="X26")
    assert hub.may_send_for("A81001")
    assert not hub.may_read_organisation("A81001")
    assert hub.may_read_organisation("X26")


def test_only_the_staff_scope_reads_across_organisations_and_records_of_no_organisation():
    practice = _principal(Scope.REFERRALS_READ, Scope.TRIAGE_READ)
    staff = _principal(Scope.READ_ALL, ods=None)
    assert practice.may_read_organisation("B82005")
    assert not practice.may_read_organisation("A81001")
    assert not practice.may_read_organisation(None)
    assert staff.may_read_organisation("A81001")
    assert staff.may_read_organisation(None)
