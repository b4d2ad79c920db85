"""`signpost-token`, run as a developer runs it: the installed console script, in a shell-like subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from signpost_contracts.vocabulary import Scope
from signpost_runtime.auth import Principal, TokenVerifier
from signpost_runtime.settings import ServiceSettings

pytestmark = pytest.mark.integration

SIGNPOST_TOKEN = Path(sys.executable).with_name("signpost-token")
SECRET = "a-local-secret-made-by-make-run-0123456789abcdefghij"


def _run(*args: str, cwd: Path, jwt_secret: str | None = None) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if key != "JWT_SECRET"}
    if jwt_secret is not None:
        environment["JWT_SECRET"] = jwt_secret
    return subprocess.run(
        [str(SIGNPOST_TOKEN), *args], cwd=cwd, env=environment, capture_output=True, text=True, timeout=60, check=False
    )


def _verified(result: subprocess.CompletedProcess[str], secret: str = SECRET) -> Principal:
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip().splitlines()[-1]
    return TokenVerifier(ServiceSettings(jwt_secret=secret)).verify(f"Bearer {token}")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A checkout after `make run`: the local secret in .local/jwt-secret."""
    (tmp_path / ".local").mkdir()
    (tmp_path / ".local" / "jwt-secret").write_text(SECRET + "\n")
    return tmp_path


def test_signpost_token_prints_a_token_the_services_accept_with_the_scopes_and_organisation_asked(project):
    result = _run("--ods", "A81001", "--scope", "referrals:write referrals:read", "--scope", "triage:read", cwd=project)
    principal = _verified(result)
    assert principal.ods_code == "A81001"
    assert principal.subject == "local-developer"
    assert principal.scopes == {"referrals:write", "referrals:read", "triage:read"}
    assert principal.on_behalf_of is None
    assert result.stdout.strip() == result.stdout.strip().splitlines()[-1], "the token alone on standard output"


def test_signpost_token_without_scopes_carries_every_scope_and_the_allow_list_given(project):
    result = _run("--sub", "ice-hub", "--on-behalf-of", "A81001", "--on-behalf-of", "B82005", cwd=project)
    principal = _verified(result)
    assert principal.subject == "ice-hub"
    assert principal.scopes == {scope.value for scope in Scope}
    assert principal.is_intermediary
    assert principal.on_behalf_of == {"A81001", "B82005"}
    assert principal.may_send_for("B82005")
    assert not principal.may_send_for("Y01234")


def test_signpost_token_prefers_jwt_secret_from_the_environment(tmp_path):
    principal = _verified(
        _run("--ods", "B82005", cwd=tmp_path, jwt_secret="a-secret-from-the-environment-0123456789abcdef"),
        "a-secret-from-the-environment-0123456789abcdef",
    )
    assert principal.ods_code == "B82005"


def test_signpost_token_without_a_secret_says_to_run_make_run_or_set_jwt_secret(tmp_path):
    result = _run("--ods", "B82005", cwd=tmp_path)
    assert result.returncode != 0
    assert result.stdout == ""
    assert ".local/jwt-secret does not exist" in result.stderr
    assert "`make run`" in result.stderr
    assert "JWT_SECRET" in result.stderr


def test_signpost_token_refuses_a_scope_signpost_does_not_have(project):
    result = _run("--scope", "referrals:write triage:admin", cwd=project)
    assert result.returncode != 0
    assert result.stdout == ""
    assert "unknown scope triage:admin" in result.stderr
