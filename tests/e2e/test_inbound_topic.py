"""A referral sent on the inbound Kafka topic, as `make run`'s example producer sends it, reaches triage."""

from __future__ import annotations

import random

import httpx
import pytest

from signpost_devstack.send_inbound import EXAMPLE_SOURCE, send_and_wait
from signpost_devstack.synthetic import gp_referral
from support.journey import Journey

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


async def test_an_inbound_topic_referral_is_acknowledged_and_triaged(stack):
    eligible = gp_referral(postcode="LS6 2AA", age=68, needs=["loneliness"], ods_code="B82005", rng=random.Random(7))
    config = stack.config
    answer = await send_and_wait(config.kafka_bootstrap_servers, config.namespace, eligible, EXAMPLE_SOURCE, 30)

    assert answer is not None, "intake answered on the replies topic"
    assert answer["type"] == "referral.inbound-accepted.v1", answer
    async with httpx.AsyncClient(timeout=30) as client:
        task = await Journey(stack, client).settled_task(answer["referral_id"])
    assert task["id"] == answer["task_id"]
    assert task["status"] == "accepted", "triage decided, and intake's Task shows its decision"
    assert task["businessStatus"]["text"] in {"assigned", "waitlisted"}


async def test_a_refused_inbound_referral_is_answered_with_the_reason(stack):
    other_practice = gp_referral(ods_code="Y01234", rng=random.Random(8))
    config = stack.config
    answer = await send_and_wait(config.kafka_bootstrap_servers, config.namespace, other_practice, EXAMPLE_SOURCE, 30)

    assert answer is not None
    assert answer["type"] == "referral.inbound-refused.v1"
    [issue] = answer["operation_outcome"]["issue"]
    assert "Y01234" in issue["diagnostics"]
