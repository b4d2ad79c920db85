"""Events are bounded when they are built, whatever the referral carries.

A referral just under the 1 MiB body limit whose organisation name is 330,000 CJK characters once
became a ~2 MB referral.received.v1 (json.dumps escaped each character to six bytes), over the
producer's limit, and blocked every later referral in the outbox while intake still answered 201.
"""

from __future__ import annotations

import json

import pytest

from signpost_contracts import Stream, topic
from signpost_contracts.events.common import NAME_LIMIT
from support.auth import bearer
from support.infra import read_topic

pytestmark = pytest.mark.integration

CJK_NAME = "\u793e" * 330_000  # 990,000 bytes of UTF-8
WRITER = bearer("referrals:write", ods="B82005")


async def test_an_organisation_name_near_the_body_limit_gives_a_small_event_that_is_published(intake, make):
    resource = make.referral()
    organisation = next(c for c in resource["contained"] if c["resourceType"] == "Organization")
    organisation["name"] = CJK_NAME
    body = json.dumps(resource, ensure_ascii=False).encode()
    assert len(body) < 1024 * 1024

    created = await intake.client.post(
        "/fhir/ServiceRequest", content=body, headers={**WRITER, "Content-Type": "application/fhir+json"}
    )

    assert created.status_code == 201, created.text[:500]
    payload = await intake.pool.fetchval("SELECT payload FROM outbox")
    assert len(payload) < 8 * 1024, "the event carries a clipped name, not the whole of it"
    published = await read_topic(intake.namespace.bootstrap, topic(Stream.REFERRALS, intake.namespace.name), expect=1)
    name = json.loads(published[0].value)["referrer"]["organisation_name"]
    assert len(name) == NAME_LIMIT
    assert name.endswith("\u2026")
    assert name.startswith("\u793e" * 100)


async def test_a_language_tag_too_long_to_be_real_is_left_out_of_the_event_not_a_500(intake, make):
    """Found by the FHIR fuzzer: a 65-character language code failed the event's code limit (a 500)."""
    referral = make.referral()
    patient = next(r for r in referral["contained"] if r["resourceType"] == "Patient")
    patient["communication"] = [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "x" * 65}]}}]
    created = await intake.post(referral)
    assert created.status_code == 201, created.text
    [received] = await intake.published(created.json()["id"])
    assert received["person"]["preferred_language"] is None
