"""The token `make run` hands a newcomer: it must let a referral from any practice in."""

from __future__ import annotations

from pathlib import Path

import pytest

from signpost_contracts.vocabulary import Scope
from signpost_devstack.stack import DEMO_ODS_CODE, LocalStack, StackConfig
from signpost_runtime.auth import TokenVerifier
from signpost_runtime.settings import ServiceSettings

pytestmark = pytest.mark.unit

SECRET = "dev-stack-secret-0123456789abcdefghijklmnopqrstuvwxyz"


def test_the_dev_token_sends_for_any_practice_and_holds_every_scope_and_no_other(tmp_path: Path):
    stack = LocalStack(StackConfig("127.0.0.1:9092", "postgresql://127.0.0.1/x", SECRET, tmp_path))
    principal = TokenVerifier(ServiceSettings(jwt_secret=SECRET)).verify(f"Bearer {stack.token()}")
    assert principal.scopes == {scope.value for scope in Scope}
    assert principal.ods_code == DEMO_ODS_CODE
    assert principal.is_intermediary
    assert principal.may_send_for("A81001")
    assert principal.may_send_for(DEMO_ODS_CODE)
    assert principal.may_read_organisation("A81001")
