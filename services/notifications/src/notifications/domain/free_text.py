"""Text a referrer chose, made safe to put in an email that Signpost sends from its own address.

The organisation name and the referrer's reference come from the referral and end up in the subject
and body of every email about it. Left as they are, a referrer could make Signpost send whatever it
likes: a letter of 330,000 characters, a second mail header (CR LF in the subject), words reordered
by a right-to-left override (U+202E), or a link to a phishing page. `display_text` lets through only
a short label, in this order:

1. only the first characters are read (a generous multiple of the limit), so the work stays small
   whatever arrives;
2. every whitespace character becomes a space, and control, format, surrogate, private-use and
   unassigned characters (Unicode categories C*) are dropped: no line breaks, no bidi overrides,
   no zero-width characters;
3. compatibility forms are folded (NFKC), so full-width look-alikes of "www." (U+FF57, U+FF0E)
   become "www." and are caught by step 4; whitespace runs then collapse to one space;
4. a word shaped like a link or an email address (`scheme://`, `www.`, `@host`, `host.tld`) is
   defanged, `https[:]//evil[.]example` and `name[at]host[.]org`, so no mail client makes it clickable;
5. it is cut to the limit, ending with an ellipsis when something was left out. A cut can leave a
   word newly shaped like a link ("x.comm1" cut to "x.com…"), so 4 and 5 repeat until nothing changes.

Empty after all that is None: the templates then say "none given" or leave the name out.
"""

from __future__ import annotations

import re
import unicodedata

ORGANISATION_NAME_LIMIT = 80
REFERENCE_LIMIT = 64
ELLIPSIS = "\u2026"
# Enough to fill any limit even when much of the input is dropped, small enough to stay fast.
_READ_AT_MOST_PER_LIMIT_CHARACTER = 16
# `://`, `www.`, `@` before a word character, or a dot between a word character and two letters
# ending a word (`evil.com`, `nhs.uk`, but not `e.g.`, `v2.0` or `St. John`).
_LINK_SHAPED = re.compile(r"://|www\.|@\w|\w\.[^\W\d_]{2,}\b", re.IGNORECASE)


def display_text(value: str | None, limit: int) -> str | None:
    """`value` as a label of at most `limit` characters that is safe in an email; None if nothing is left."""
    if not value:
        return None
    read_at_most = limit * _READ_AT_MOST_PER_LIMIT_CHARACTER
    was_cut = len(value) > read_at_most
    printable = "".join(" " if ch.isspace() else ch for ch in value[:read_at_most] if _kept(ch))
    # NFKC would turn an ellipsis into three dots, and a text made safe once would change if made safe again.
    folded = ELLIPSIS.join(unicodedata.normalize("NFKC", part) for part in printable.split(ELLIPSIS))
    text = " ".join(folded.split())
    if not text:
        return None
    fitted = _fit(_defanged(text), limit, was_cut)
    for _ in range(limit):
        again = _fit(_defanged(fitted), limit, False)
        if again == fitted:
            break
        fitted = again
    return fitted


def _kept(ch: str) -> bool:
    return ch.isspace() or not unicodedata.category(ch).startswith("C")


def _defanged(text: str) -> str:
    return " ".join(_defang_word(word) if _LINK_SHAPED.search(word) else word for word in text.split(" "))


def _defang_word(word: str) -> str:
    return word.replace("://", "[:]//").replace(".", "[.]").replace("@", "[at]")


def _fit(text: str, limit: int, was_cut: bool) -> str:
    if len(text) <= limit and not was_cut:
        return text
    kept = text[: limit - len(ELLIPSIS)].rstrip()
    return kept + ELLIPSIS
