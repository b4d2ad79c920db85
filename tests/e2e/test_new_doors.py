"""The new doors on the stack of `make run` (services as processes, demo policy, roster and partner register):
a partner's /refer form, a partner's FHIR referral, an outreach record and a self-referral each reach triage,
which decides; intake's Task shows the decision; and the outcome email goes to the right person: the registered
partner's address, or, for a person who referred themselves, to them, written for them.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from referral_intake.adapters.codes import PARTNER_ORGANISATION
from signpost_devstack.stack import LocalStack
from signpost_runtime.auth import issue_token
from support.forms import COOKIE, person_answers, reference_on
from support.infra import unique
from support.journey import FHIR, Journey

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PARTNER_EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "partner-referral.json"
LEEDS_MIND_INBOX = "referrals@leedsmind.example.org"  # the demo register's reply address for leeds-mind


def _token(stack: LocalStack, subject: str, scopes: list[str], org: str | None = None) -> str:
    return issue_token(stack.config.jwt_secret, subject=subject, scopes=scopes, ods_code=None, partner_id=org)


def _partner(stack: LocalStack, *scopes: str) -> str:
    return _token(stack, "sam-at-leeds-mind", list(scopes), org="leeds-mind")


async def _decision(journey: Journey, referral_id: str) -> dict:
    answer = await journey.client.get(f"{journey.stack.url('triage')}/decisions/{referral_id}", headers=journey.auth)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _acknowledges(message: dict, referral_id: str) -> bool:
    return message["headers"].get("X-Signpost-Referral-Id") == referral_id and "has reached us" in message["subject"]


async def _outcome_email(journey: Journey, referral_id: str, timeout: float = 60) -> dict:
    """The one email telling the outcome (a self-referral's acknowledgement comes before it, and is not it)."""
    deadline = time.monotonic() + timeout
    while True:
        about = (await journey.emails_about({referral_id}, timeout=timeout))[referral_id]
        outcomes = [m for m in about if not _acknowledges(m, referral_id)]
        if outcomes:
            [email] = outcomes
            return email
        assert time.monotonic() < deadline, f"no outcome email for {referral_id}"
        await asyncio.sleep(0.2)


Send = Callable[[Journey], Awaitable[tuple[str, str]]]  # the referral's id, and where its outcome email goes


async def partner_form(journey: Journey) -> tuple[str, str]:
    cookie = {"Cookie": f"{COOKIE}={_partner(journey.stack, 'referrals:write')}"}
    answers = {**person_answers(unique("Bob")), "referrer-name": "Sam Jones", "referrer-role": "Support worker"}
    sent = await journey.client.post(f"{journey.stack.url('referral_intake')}/refer", data=answers, headers=cookie)
    return reference_on(sent), LEEDS_MIND_INBOX


async def partner_fhir(journey: Journey) -> tuple[str, str]:
    body = json.loads(PARTNER_EXAMPLE.read_text())  # the README's example, as a new user sends it
    assert body["requester"]["identifier"] == {"system": PARTNER_ORGANISATION, "value": "leeds-mind"}
    sam = {"Authorization": f"Bearer {_partner(journey.stack, 'referrals:write', 'referrals:read')}", **FHIR}
    url = f"{journey.stack.url('referral_intake')}/fhir/ServiceRequest"
    created = await journey.client.post(url, json=body, headers=sam)
    assert created.status_code == 201, created.text
    return str(created.json()["id"]), LEEDS_MIND_INBOX


async def outreach(journey: Journey) -> tuple[str, str]:
    cookie = {"Cookie": f"{COOKIE}={_token(journey.stack, 'leeds-north-amira', ['cases:write'])}"}
    answers = {**person_answers(unique("Cat")), "met-at": "Chapeltown library drop-in"}
    sent = await journey.client.post(f"{journey.stack.url('referral_intake')}/outreach", data=answers, headers=cookie)
    return reference_on(sent), answers["email"]


async def self_referral(journey: Journey) -> tuple[str, str]:
    answers = person_answers(unique("Ann"))
    sent = await journey.client.post(f"{journey.stack.url('referral_intake')}/self-referral", data=answers)
    return reference_on(sent), answers["email"]


@pytest.mark.parametrize(
    ("send", "written_for_the_person"),
    [
        pytest.param(partner_form, False, id="partner-form"),
        pytest.param(partner_fhir, False, id="partner-fhir"),
        pytest.param(outreach, True, id="outreach"),
        pytest.param(self_referral, True, id="self-referral"),
    ],
)
async def test_a_referral_through_a_new_door_is_triaged_and_its_referrer_told(
    stack: LocalStack, send: Send, written_for_the_person: bool
):
    async with httpx.AsyncClient(timeout=30) as client:
        journey = Journey(stack, client)
        referral_id, inbox = await send(journey)

        task = await journey.settled_task(referral_id, timeout=60)
        assert task["status"] == "accepted", task
        assert task["businessStatus"]["text"] in {"assigned", "waitlisted"}
        decision = await _decision(journey, referral_id)
        assert decision["outcome"] == "accepted"

        email = await _outcome_email(journey, referral_id)
        assert email["rcpt_tos"] == [inbox]
        acknowledgements = [m for m in await journey.emails() if _acknowledges(m, referral_id)]
        # A person who asked for support themselves hears at once that their request arrived; a referrer does not.
        assert [m["rcpt_tos"] for m in acknowledgements] == ([[inbox]] if written_for_the_person else [])
        # The self/ templates speak to the person ("your request"); the others to a referrer about someone.
        assert ("Your request for support" in email["subject"]) is written_for_the_person, email["subject"]
