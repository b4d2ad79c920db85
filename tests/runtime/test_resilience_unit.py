"""Committed work is never reported as failed, and recording a done side effect outlasts an outage."""

from __future__ import annotations

import contextlib

import asyncpg
import pytest

from signpost_runtime.db import transaction
from signpost_runtime.resilience import is_infrastructure_error, record_through_outage

pytestmark = pytest.mark.unit


class _Connection:
    def __init__(self) -> None:
        self.committed = False

    @contextlib.asynccontextmanager
    async def transaction(self, **options):
        yield
        self.committed = True


class _PoolWhoseConnectionDiesAfterCommit:
    def __init__(self) -> None:
        self.connection = _Connection()

    async def acquire(self) -> _Connection:
        return self.connection

    async def release(self, connection: _Connection) -> None:
        raise asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation")


async def test_a_connection_lost_after_commit_does_not_make_the_commit_look_failed():
    pool = _PoolWhoseConnectionDiesAfterCommit()
    async with transaction(pool) as conn:  # type: ignore[arg-type]
        assert conn is pool.connection
    assert pool.connection.committed


async def test_an_error_inside_the_transaction_still_propagates_when_release_also_fails():
    pool = _PoolWhoseConnectionDiesAfterCommit()
    with pytest.raises(ValueError, match="the real problem"):
        async with transaction(pool):  # type: ignore[arg-type]
            raise ValueError("the real problem")
    assert not pool.connection.committed


async def test_recording_a_side_effect_is_retried_until_the_database_answers():
    attempts: list[int] = []

    async def mark_sent() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise asyncpg.CannotConnectNowError("the database system is starting up")
        return "recorded"

    assert await record_through_outage(mark_sent, what="a test email") == "recorded"
    assert len(attempts) == 3


async def test_a_genuine_error_is_not_retried_as_if_it_were_an_outage():
    attempts: list[int] = []

    async def broken() -> None:
        attempts.append(1)
        raise KeyError("bug")

    with pytest.raises(KeyError):
        await record_through_outage(broken, what="anything")
    assert len(attempts) == 1


async def test_recording_gives_up_after_its_time_budget():
    async def always_down() -> None:
        raise ConnectionRefusedError("down")

    with pytest.raises(ConnectionRefusedError):
        await record_through_outage(always_down, what="anything", give_up_after=0.3)


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.DiskFullError("could not extend file"),
        asyncpg.DeadlockDetectedError("deadlock detected"),
        asyncpg.QueryCanceledError("canceling statement due to statement timeout"),
        asyncpg.ReadOnlySQLTransactionError("cannot execute INSERT in a read-only transaction"),
        asyncpg.InternalClientError("cannot switch to state 15; another operation (2) is in progress"),
        ConnectionRefusedError(),
    ],
    ids=lambda error: type(error).__name__,
)
def test_database_and_network_failures_are_infrastructure_not_the_messages_fault(error):
    assert is_infrastructure_error(error)


@pytest.mark.parametrize("error", [KeyError("x"), ValueError("bad"), asyncpg.UniqueViolationError("dup")])
def test_our_own_mistakes_are_not_taken_for_an_outage(error):
    assert not is_infrastructure_error(error)
