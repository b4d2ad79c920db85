"""Bearer tokens for tests, signed with the secret the test services are configured with."""

from __future__ import annotations

from signpost_runtime.auth import issue_token

TEST_JWT_SECRET = "test-only-secret-not-used-anywhere-else-0123456789"


def token(*scopes: str, ods: str | None = "B82005", subject: str = "test-user", org: str | None = None) -> str:
    return issue_token(TEST_JWT_SECRET, subject=subject, scopes=list(scopes), ods_code=ods, partner_id=org)


def bearer(*scopes: str, ods: str | None = "B82005") -> dict[str, str]:
    return {"Authorization": f"Bearer {token(*scopes, ods=ods)}"}
