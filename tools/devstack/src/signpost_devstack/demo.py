"""`make demo`: keep sending realistic synthetic GP referrals so the dashboard moves."""

from __future__ import annotations

import random
import threading

import httpx

from signpost_devstack.stack import LocalStack
from signpost_devstack.synthetic import demo_mix


def _send_forever(stack: LocalStack, interval: float, stop: threading.Event) -> None:
    rng = random.Random()
    url = f"{stack.url('referral_intake')}/fhir/ServiceRequest"
    headers = {"Authorization": f"Bearer {stack.token()}", "Content-Type": "application/fhir+json"}
    sent = 0
    with httpx.Client(headers=headers, timeout=30) as client:
        while not stop.wait(interval):
            try:
                response = client.post(url, json=demo_mix(rng))
            except httpx.HTTPError as exc:
                print(f"demo: intake unreachable ({exc}); retrying", flush=True)
                continue
            if response.status_code != 201:
                print(f"demo: intake answered {response.status_code}: {response.text[:300]}", flush=True)
                continue
            sent += 1
            if sent % 10 == 0:
                print(f"demo: {sent} synthetic referrals sent", flush=True)


def start_demo_traffic(stack: LocalStack, *, rate_per_second: float, stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(
        target=_send_forever, args=(stack, 1 / max(rate_per_second, 0.01), stop), name="demo-traffic", daemon=True
    )
    thread.start()
    print(f"demo: sending about {rate_per_second:g} synthetic GP referral(s) per second", flush=True)
    return thread
