"""`make demo`'s connectors: open cases walked through the case API, so cases open and close on the dashboard.

Each pass takes every open case one step further, the way a connector's week goes: first contact
(sometimes a missed call first), the person's goals and a baseline UCLA-3/ONS4, a few sessions, a
closing measure, closure with an onward connection. A few people decline or drift away. The steps go
through the same HTTP API a connector uses, with the developer's coordinator token.
"""

from __future__ import annotations

import random
import threading
from typing import Any

import httpx

from signpost_devstack.stack import LocalStack

MODES = ("telephone", "online", "home-visit", "community-venue", "walk")
GOALS = (
    "Join a walking group",
    "Get to the lunch club on Thursdays",
    "Speak to a neighbour each week",
    "Go back to the allotment",
    "Try the library's reading group",
    "Sort out the bus pass",
)
ONWARD = ("Headingley walking group", "Chapel Allerton lunch club", "Leeds Library reading group", "Men's shed")


def _measures(rng: random.Random, stage: str) -> dict[str, Any]:
    """Plausible answers: lonelier at baseline, a little less so at closing (not every person improves)."""
    baseline = stage == "baseline"
    items = (2, 3) if baseline else (1, 1, 2)  # UCLA-3 answers 1-3, higher is lonelier
    low, high = (2, 6) if baseline else (4, 9)  # ONS4 0-10 (anxiety the other way round)
    return {
        "stage": stage,
        "ucla3": [rng.choice(items) for _ in range(3)],
        "ons_loneliness": rng.choice(
            ("often-always", "some-of-the-time") if baseline else ("occasionally", "hardly-ever")
        ),
        "ons4": {
            "life_satisfaction": rng.randint(low, high),
            "worthwhile": rng.randint(low, high),
            "happiness": rng.randint(low, high),
            "anxiety": 10 - rng.randint(low, high),
        },
    }


def next_step(case: dict[str, Any], rng: random.Random) -> tuple[str, str, dict[str, Any]] | None:
    """The next thing a connector does for this case (method, path under /cases/{id}, body), or None."""
    mode = rng.choice(MODES)
    if not case["reached"]:
        outcome = rng.choices(("reached", "no-answer", "declined"), weights=(75, 20, 5))[0]
        return "POST", "contacts", {"mode": mode, "outcome": outcome}
    if not case["goals"]:
        return "PUT", "goals", {"goals": rng.sample(GOALS, k=rng.randint(1, 3))}
    if "baseline" not in case["measures"]:
        return "POST", "measures", _measures(rng, "baseline")
    planned = 2 + int(case["referral_id"][-1], 16) % 3  # two to four sessions, fixed per case
    if case["sessions_used"] < min(planned, case["session_allowance"]):
        return "POST", "sessions", {"mode": mode}
    if "closing" not in case["measures"]:
        return "POST", "measures", _measures(rng, "closing")
    reason = rng.choices(("goals-met", "connected-onward", "disengaged"), weights=(50, 40, 10))[0]
    onward = [] if reason == "disengaged" else [rng.choice(ONWARD)]
    return "POST", "closure", {"reason": reason, "onward": onward}


def _work_cases(stack: LocalStack, interval: float, stop: threading.Event) -> None:
    rng = random.Random()
    base = f"{stack.url('referral_intake')}/cases"
    with httpx.Client(headers={"Authorization": f"Bearer {stack.token()}"}, timeout=30) as client:
        while not stop.wait(interval):
            try:
                listed = client.get(base, params={"status": "open", "limit": 500})
                listed.raise_for_status()
                for line in listed.json()["cases"]:
                    if stop.is_set():
                        return
                    case = client.get(f"{base}/{line['referral_id']}").json()
                    step = next_step(case, rng)
                    if step is None:
                        continue
                    method, action, body = step
                    answer = client.request(method, f"{base}/{case['referral_id']}/{action}", json=body)
                    if answer.status_code >= 400 and answer.status_code != 409:  # 409: the case moved meanwhile
                        print(f"demo: {action} answered {answer.status_code}: {answer.text[:300]}", flush=True)
            except httpx.HTTPError as exc:
                print(f"demo: case API unreachable ({exc}); retrying", flush=True)


def start_demo_casework(stack: LocalStack, *, interval: float, stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=_work_cases, args=(stack, interval, stop), name="demo-casework", daemon=True)
    thread.start()
    print(f"demo: connectors take each open case a step further every {interval:g} s", flush=True)
    return thread
