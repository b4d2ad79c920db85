"""Bearer tokens: OAuth2-style signed JWTs carrying scopes and the caller's organisation.

Claims used: `sub` (who), `scope` (space-separated, OAuth2 style), `ods` (the ODS code of the
caller's organisation; a referrer reads only its own referrals), `aud`, `exp`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import jwt
from fastapi import Request

from signpost_runtime.settings import ServiceSettings

ALL_ORGANISATIONS_SCOPE = "referrals:read-all"


@dataclass(frozen=True)
class Principal:
    subject: str
    scopes: frozenset[str]
    ods_code: str | None

    def may_read_organisation(self, ods_code: str | None) -> bool:
        return ALL_ORGANISATIONS_SCOPE in self.scopes or (ods_code is not None and ods_code == self.ods_code)


class AuthError(Exception):
    """401 (no or bad token) or 403 (valid token, missing permission), with an actionable message."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


class TokenVerifier:
    def __init__(self, settings: ServiceSettings) -> None:
        if settings.jwt_public_key:
            self.key: str | None = settings.jwt_public_key
            self.algorithms = ["RS256", "ES256"]
        elif settings.jwt_secret:
            self.key = settings.jwt_secret.get_secret_value()
            self.algorithms = ["HS256"]
        else:
            self.key = None
            self.algorithms = []
        self.audience = settings.jwt_audience
        self.issuer = settings.jwt_issuer

    def verify(self, authorization: str | None) -> Principal:
        if not authorization or not authorization.lower().startswith("bearer "):
            raise AuthError(401, "missing bearer token: send 'Authorization: Bearer <JWT>'")
        if self.key is None:
            raise AuthError(401, "this service has no token verification key configured (JWT_SECRET or JWT_PUBLIC_KEY)")
        try:
            claims = jwt.decode(
                authorization[7:].strip(),
                self.key,
                algorithms=self.algorithms,
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError(401, "bearer token has expired; request a new one") from None
        except jwt.InvalidTokenError as exc:
            raise AuthError(401, f"bearer token rejected: {exc}") from None
        return Principal(
            subject=str(claims["sub"]),
            scopes=frozenset(str(claims.get("scope", "")).split()),
            ods_code=claims.get("ods"),
        )


def scope_required(scope: str) -> Callable[[Request], Principal]:
    """A FastAPI dependency giving the request's principal, which must hold `scope`.

    Use it as `Reader = Annotated[Principal, Depends(scope_required("triage:read"))]`.
    """

    def dependency(request: Request) -> Principal:
        verifier: TokenVerifier = request.app.state.token_verifier
        principal = verifier.verify(request.headers.get("authorization"))
        if scope not in principal.scopes:
            raise AuthError(403, f"token lacks the '{scope}' scope needed here")
        return principal

    return dependency


def issue_token(
    secret: str,
    *,
    subject: str,
    scopes: list[str],
    ods_code: str | None = None,
    audience: str = "signpost",
    ttl_seconds: int = 30 * 24 * 3600,
) -> str:
    """Sign an HS256 token (local stack and tests; production tokens come from the identity provider)."""
    now = int(time.time())
    claims = {"sub": subject, "scope": " ".join(scopes), "aud": audience, "iat": now, "exp": now + ttl_seconds}
    if ods_code:
        claims["ods"] = ods_code
    return jwt.encode(claims, secret, algorithm="HS256")
