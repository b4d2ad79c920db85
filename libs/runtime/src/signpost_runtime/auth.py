"""Bearer tokens: OAuth2-style signed JWTs carrying scopes and the caller's organisation.

Claims used: `sub` (who), `scope` (space-separated, OAuth2 style), `ods` (the ODS code of the
caller's organisation; a referrer reads only its own referrals), `ods_on_behalf` (for an
intermediary: the ODS codes it may send for; absent = every organisation), `org` (a partner
organisation without an ODS code: its id in intake's PARTNERS_FILE), `aud`, `iss`, `exp`.
Scope names are `signpost_contracts.vocabulary.Scope`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import jwt
from fastapi import Request

from signpost_contracts.vocabulary import Scope
from signpost_runtime.settings import ServiceSettings
from signpost_runtime.token_keys import KeySetUnavailableError, KeySource, UnknownSigningKeyError, key_source


@dataclass(frozen=True)
class Principal:
    subject: str
    scopes: frozenset[str]
    ods_code: str | None
    # Claim `ods_on_behalf`: the organisations an intermediary may send for; None = every organisation.
    on_behalf_of: frozenset[str] | None = None
    # Claim `org`: a partner organisation without an ODS code (a charity, a social work team), by its id in
    # intake's partner register. Its staff send and read that partner's referrals as `ods` lets an NHS one.
    partner_id: str | None = None

    @property
    def is_intermediary(self) -> bool:
        """An integration engine or hub that sends referrals for organisations other than its own."""
        return Scope.REFERRALS_WRITE_ON_BEHALF in self.scopes

    def may_send_for(self, ods_code: str) -> bool:
        """Its own organisation with referrals:write; any other only as an intermediary (within its list)."""
        if self.is_intermediary and (self.on_behalf_of is None or ods_code in self.on_behalf_of):
            return True
        return Scope.REFERRALS_WRITE in self.scopes and self.ods_code is not None and ods_code == self.ods_code

    def may_send_for_partner(self, partner_id: str) -> bool:
        return Scope.REFERRALS_WRITE in self.scopes and self.partner_id is not None and partner_id == self.partner_id

    def may_read_organisation(self, ods_code: str | None) -> bool:
        """Its own organisation's records, or every organisation's with the staff scope referrals:read-all."""
        return Scope.READ_ALL in self.scopes or (ods_code is not None and ods_code == self.ods_code)

    def may_read_referrer(self, ods_code: str | None, partner_id: str | None) -> bool:
        """A record of the organisation that referred: by its ODS code, or, for a partner without one, its id."""
        if self.may_read_organisation(ods_code):
            return True
        return partner_id is not None and partner_id == self.partner_id


class AuthError(Exception):
    """401 (no or bad token) or 403 (valid token, missing permission), with an actionable message."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


class AuthUnavailable(AuthError):  # noqa: N818  (the name other services import; it is not a bad-token error)
    """503: tokens cannot be checked just now (the JWKS endpoint is down or answers nonsense).

    A subclass of AuthError so that every service's existing AuthError handler answers it, with
    this status, in its own error shape; the caller's token may be fine and a retry may succeed.
    """

    def __init__(self, message: str) -> None:
        super().__init__(503, message)


class TokenVerifier:
    def __init__(self, settings: ServiceSettings) -> None:
        self.keys: KeySource | None = key_source(settings)
        self.audience = settings.jwt_audience
        self.issuer = settings.jwt_issuer
        self.leeway = settings.jwt_leeway_seconds

    def verify(self, authorization: str | None) -> Principal:
        if not authorization or not authorization.lower().startswith("bearer "):
            raise AuthError(401, "missing bearer token: send 'Authorization: Bearer <JWT>'")
        if self.keys is None:
            raise AuthError(
                401,
                "this service has no token verification key configured (JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL)",
            )
        return _principal(self._claims(authorization[7:].strip()))

    def _claims(self, token: str) -> dict[str, Any]:
        assert self.keys is not None
        try:
            header = jwt.get_unverified_header(token)
            key = self.keys.key_for(header)
            if header.get("alg") not in key.algorithms:
                raise AuthError(
                    401,
                    f"bearer token is signed with alg {header.get('alg')!r}, but {key.described_as} verifies only "
                    f"{', '.join(key.algorithms)}: ask the identity provider for a token signed with one of those",
                )
            return jwt.decode(
                token,
                key.key,  # type: ignore[arg-type]  # a cryptography public key or the HS256 secret
                algorithms=list(key.algorithms),
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "sub"]},
            )
        except KeySetUnavailableError as exc:
            raise AuthUnavailable(f"bearer tokens cannot be checked just now ({exc}); retry shortly") from None
        except UnknownSigningKeyError as exc:
            raise AuthError(401, f"bearer token rejected: {exc}") from None
        except jwt.PyJWTError as exc:
            raise AuthError(401, self._reason(exc)) from None

    def _reason(self, exc: jwt.PyJWTError) -> str:
        if isinstance(exc, jwt.ExpiredSignatureError):
            return "bearer token has expired; request a new one"
        if isinstance(exc, jwt.ImmatureSignatureError):
            return f"bearer token is not valid yet ({exc}); check the clock of the system that issued it"
        if isinstance(exc, jwt.InvalidAudienceError):
            return f"bearer token is not for this audience: its `aud` claim must include '{self.audience}'"
        if isinstance(exc, jwt.InvalidIssuerError):
            return f"bearer token was issued by another issuer: its `iss` claim must be '{self.issuer}'"
        if isinstance(exc, jwt.MissingRequiredClaimError):
            return f"bearer token lacks the `{exc.claim}` claim"
        if isinstance(exc, jwt.DecodeError) and not isinstance(exc, jwt.InvalidSignatureError):
            return f"bearer token is not a well-formed JWT ({exc}): send the token itself, three base64url parts"
        return f"bearer token rejected: {exc}"


def _principal(claims: dict[str, Any]) -> Principal:
    ods = claims.get("ods")
    if ods is not None and not isinstance(ods, str):
        raise AuthError(401, "bearer token's `ods` claim must be one ODS code (a string)")
    org = claims.get("org")
    if org is not None and not isinstance(org, str):
        raise AuthError(401, "bearer token's `org` claim must be one partner organisation id (a string)")
    return Principal(
        subject=str(claims["sub"]),
        scopes=frozenset(str(claims.get("scope", "")).split()),
        ods_code=ods or None,
        on_behalf_of=_on_behalf_of(claims.get("ods_on_behalf")),
        partner_id=org or None,
    )


def _on_behalf_of(claim: object) -> frozenset[str] | None:
    if claim is None:
        return None
    if isinstance(claim, str):
        return frozenset(claim.split())
    if isinstance(claim, list) and all(isinstance(code, str) for code in claim):
        return frozenset(claim)
    raise AuthError(401, "bearer token's `ods_on_behalf` claim must be a list of ODS codes")


def scope_required(scope: str, *alternatives: str) -> Callable[[Request], Principal]:
    """A FastAPI dependency giving the request's principal, which must hold `scope` (or one of `alternatives`).

    Use it as `Reader = Annotated[Principal, Depends(scope_required(Scope.TRIAGE_READ))]`. It is a
    sync function, so FastAPI runs it in the threadpool: a JWKS fetch blocks no event loop.
    """

    accepted = frozenset((scope, *alternatives))

    def dependency(request: Request) -> Principal:
        verifier: TokenVerifier = request.app.state.token_verifier
        principal = verifier.verify(request.headers.get("authorization"))
        if not principal.scopes & accepted:
            wanted = " or ".join(f"'{name}'" for name in (scope, *alternatives))
            raise AuthError(403, f"token lacks the {wanted} scope needed here")
        return principal

    return dependency


def issue_token(
    secret: str,
    *,
    subject: str,
    scopes: Iterable[str],
    ods_code: str | None = None,
    on_behalf_of: Iterable[str] | None = None,
    partner_id: str | None = None,
    audience: str = "signpost",
    issuer: str | None = None,
    ttl_seconds: int = 30 * 24 * 3600,
) -> str:
    """Sign an HS256 token (local stack and tests; production tokens come from the identity provider)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": subject,
        "scope": " ".join(scopes),
        "aud": audience,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    if ods_code:
        claims["ods"] = ods_code
    if partner_id:
        claims["org"] = partner_id
    if on_behalf_of is not None:
        claims["ods_on_behalf"] = sorted(on_behalf_of)
    if issuer:
        claims["iss"] = issuer
    return jwt.encode(claims, secret, algorithm="HS256")
