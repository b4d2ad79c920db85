"""Contact details taken out of free text that leaves a service: log lines and failure reasons.

Providers answer in their own words, and their words often repeat the address they refused
("550 5.1.1 <gp.surgery@nhs.net>: Recipient address rejected") or the number they could not text.
A referrer's email address or a person's phone number must not reach the logs (shipped to a log
store many people read) or notification.failed.v1 (kept on the stream for the service's life), so
both pass through here. The text stays readable: only the address or number is replaced.
"""

from __future__ import annotations

import re

EMAIL_ADDRESS = "[email address]"
PHONE_NUMBER = "[phone number]"

# Broad on purpose: anything shaped like local@domain.tld, since a false positive costs only legibility.
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# UK numbers as people and providers write them: +44 or 0, then 9 or 10 digits, single spaces or
# hyphens allowed between digits, with brackets round the area code. Not inside a longer token (an id,
# a UUID, a timestamp), so event ids and offsets are left alone.
_UK_PHONE = re.compile(r"(?<![\w+-])(?:\+44\s?(?:\(0\)\s?)?|\(?0)(?:\)?[\s-]?\d){9,10}(?![\w-])")


def without_contact_details(text: str) -> str:
    return _UK_PHONE.sub(PHONE_NUMBER, _EMAIL.sub(EMAIL_ADDRESS, text))
