"""An urgent redirect nobody confirms, on the stack of `make run` with a short confirmation time: the referrer
has it by SMS and email at once; when no receipt confirms the SMS (the fake Notify keeps it "sending"), the
duty coordinator is told by SMS and email, and the alert stays listed until staff acknowledge it."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator

import httpx
import pytest

from signpost_devstack.infra import Infrastructure
from signpost_devstack.stack import LOCAL_DUTY_EMAIL, LOCAL_DUTY_SMS, LocalStack
from signpost_devstack.synthetic import gp_referral
from support.infra import unique
from support.journey import Journey
from support.stack import stack_for_run

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

URGENT_SMS = "07700900123"  # examples/referrer-directory.json: B82005's number for urgent matters


@pytest.fixture(scope="module")
def stack(infrastructure: Infrastructure, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    run = unique("urgent")
    quick = {"URGENT_CONFIRM_SECONDS": "2", "FOLLOW_UP_EVERY_SECONDS": "0.5", "RECEIPT_POLL_SECONDS": "0.5"}
    local = stack_for_run(
        run,
        kafka_bootstrap_servers=infrastructure.kafka_bootstrap_servers,
        postgres_url=infrastructure.postgres_url,
        log_dir=tmp_path_factory.mktemp(run),
        service_env={"notifications": quick},
    )
    local.start()
    yield local
    local.stop()


async def _texts_to(client: httpx.AsyncClient, stack: LocalStack, number: str) -> list[dict]:
    answer = await client.get(f"{stack.notify_url}/notifications", params={"to": number})
    answer.raise_for_status()
    return list(answer.json())


async def test_an_urgent_redirect_never_confirmed_reaches_the_duty_coordinator_and_waits_to_be_acknowledged(
    stack: LocalStack,
):
    practice = f"{unique('gp')}@practice.example.nhs.uk"
    crisis = gp_referral(
        postcode="LS11 5DQ", age=45, needs=["low-mood"], risk_flags=["self-harm-risk"], email=practice,
        rng=random.Random(7),
    )  # fmt: skip
    async with httpx.AsyncClient(timeout=30) as client:
        faults = await client.post(f"{stack.notify_url}/faults", json={"receipts": "never"})
        assert faults.status_code == 200, faults.text
        journey = Journey(stack, client)
        referral_id = await journey.refer(crisis)

        deadline = time.monotonic() + 45
        while not await _texts_to(client, stack, LOCAL_DUTY_SMS):
            assert time.monotonic() < deadline, "the duty coordinator was never texted"
            await asyncio.sleep(0.5)

        [alert] = await _texts_to(client, stack, URGENT_SMS)
        assert alert["status"] == "sending", "never confirmed: that is why it escalated"
        emails = await journey.emails_about({referral_id})
        assert [practice] in [email["rcpt_tos"] for email in emails[referral_id]], "the details went by email at once"
        while not [
            m for m in await journey.emails() if m["rcpt_tos"] == [LOCAL_DUTY_EMAIL] and referral_id in m["text"]
        ]:
            assert time.monotonic() < deadline, "the duty coordinator was never emailed"
            await asyncio.sleep(0.5)

        shown = await journey.summary_when(lambda summary: summary["urgent"]["unconfirmed"] == 1)
        assert shown["urgent"]["most_escalations"] >= 1, "the dashboard shows it, escalated"

        notifications = stack.url("notifications")
        [open_alert] = (await client.get(f"{notifications}/urgent", headers=journey.auth)).json()["alerts"]
        assert open_alert["referral_id"] == referral_id
        done = await client.post(
            f"{notifications}/urgent/{open_alert['outcome_event_id']}/acknowledge", headers=journey.auth
        )
        assert done.status_code == 200, done.text
        assert done.json()["acknowledged_by"] == "local-developer"
        assert (await client.get(f"{notifications}/urgent", headers=journey.auth)).json()["alerts"] == []
        await journey.summary_when(lambda summary: summary["urgent"]["unconfirmed"] == 0)  # off the dashboard too

        await asyncio.sleep(3)  # past another confirmation time: an acknowledged alert escalates no further
        assert len(await _texts_to(client, stack, LOCAL_DUTY_SMS)) == 1
