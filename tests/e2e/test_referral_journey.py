"""One referral of each kind travels the whole system: FHIR in, triaged, assigned, referrer told, counted."""

from __future__ import annotations

import random

import httpx
import pytest

from signpost_devstack.synthetic import gp_referral
from support.infra import unique
from support.journey import Journey

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


URGENT_SMS = "07700900123"  # examples/referrer-directory.json: B82005's number for urgent matters


async def test_eligible_out_of_area_and_redirected_referrals_each_reach_their_outcome(stack):
    rng = random.Random(2)
    practice = f"{unique('gp')}@practice.example.nhs.uk"
    eligible = gp_referral(postcode="LS6 2AA", age=71, needs=["loneliness"], email=practice, rng=rng)
    out_of_area = gp_referral(postcode="M1 1AE", age=64, needs=["social-isolation"], email=practice, rng=rng)
    redirected = gp_referral(
        postcode="LS11 5DQ", age=45, needs=["low-mood"], risk_flags=["self-harm-risk"], email=practice, rng=rng
    )
    async with httpx.AsyncClient(timeout=30) as client:
        journey = Journey(stack, client)
        before = await journey.summary()
        ids = {
            "eligible": await journey.refer(eligible),
            "out_of_area": await journey.refer(out_of_area),
            "redirected": await journey.refer(redirected),
        }

        accepted = await journey.settled_task(ids["eligible"])
        assert accepted["status"] == "accepted"
        assert accepted["intent"] == "order"
        assert accepted["focus"]["reference"].endswith(f"ServiceRequest/{ids['eligible']}")
        assert accepted["businessStatus"]["text"] in {"assigned", "waitlisted"}

        declined = await journey.settled_task(ids["out_of_area"])
        assert declined["status"] == "rejected"
        assert "area" in declined["statusReason"]["text"].lower()

        redirect = await journey.settled_task(ids["redirected"])
        assert redirect["status"] == "rejected"
        assert "crisis" in redirect["statusReason"]["text"].lower(), "a redirect says where to go instead"

        emails = await journey.emails_about(set(ids.values()))
        for kind, referral_id in ids.items():
            [email] = emails[referral_id]
            assert email["rcpt_tos"] == [practice], kind
        assert "crisis" in emails[ids["redirected"]][0]["text"].lower()
        for message in (m for ms in emails.values() for m in ms):
            assert eligible["contained"][0]["name"][0]["family"] not in message["text"], "no patient names in email"

        # The demo directory gives this practice an urgent number: the crisis redirect also went by SMS at once.
        their_reference = redirected["identifier"][0]["value"]
        texts = (await client.get(f"{stack.notify_url}/notifications", params={"to": URGENT_SMS})).json()
        [text] = [text for text in texts if their_reference in text["body"]]
        assert text["body"].startswith("Signpost URGENT"), "the redirect also went by SMS, at once"
        assert "crisis" in text["body"].lower()

        def counted(summary: dict) -> bool:
            return summary["notifications"]["sent"] - before["notifications"]["sent"] == 4  # three emails, an SMS

        after = await journey.summary_when(counted)
        assert after["total_referrals"] - before["total_referrals"] == 3
        for decision in ("accepted", "declined", "redirected"):
            assert after["by_decision"].get(decision, 0) - before["by_decision"].get(decision, 0) == 1, decision
