"""The referrer's own words in an email: bounded, printable, one line, and never a clickable link."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notifications.domain.free_text import ORGANISATION_NAME_LIMIT, REFERENCE_LIMIT, display_text

pytestmark = pytest.mark.unit


# What a mail client would turn into a link: a scheme, www., an address, or a dotted host name.
def _full_width(ascii_text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) for ch in ascii_text)  # U+FF01..U+FF5E mirror ASCII 0x21..0x7E


_CLICKABLE = re.compile(r"://|www\.|@\w|\w\.[^\W\d_]{2,}\b", re.IGNORECASE)


def test_an_ordinary_name_and_reference_pass_unchanged():
    assert display_text("Leeds Road Surgery", ORGANISATION_NAME_LIMIT) == "Leeds Road Surgery"
    assert display_text("LRS-2024/0042", REFERENCE_LIMIT) == "LRS-2024/0042"
    assert display_text("St. John's Practice, e.g. Unit 2.0", ORGANISATION_NAME_LIMIT) == (
        "St. John's Practice, e.g. Unit 2.0"
    )


def test_an_organisation_name_of_330000_cjk_characters_is_cut_to_80_with_an_ellipsis():
    shown = display_text("社" * 330_000, ORGANISATION_NAME_LIMIT)
    assert shown is not None
    assert len(shown) == ORGANISATION_NAME_LIMIT
    assert shown == "社" * 79 + "\u2026"


def test_a_reference_longer_than_64_is_cut_at_a_word_with_an_ellipsis():
    shown = display_text("REF " * 40, REFERENCE_LIMIT)
    assert shown is not None
    assert len(shown) <= REFERENCE_LIMIT
    assert shown.endswith("REF\u2026")


def test_a_right_to_left_override_and_other_invisible_characters_are_dropped():
    shown = display_text("Leeds \u202efdp.exe\u202c Surgery\u200b\u2066\ufeff", ORGANISATION_NAME_LIMIT)
    assert shown == "Leeds fdp[.]exe Surgery"  # no longer "Leeds exe.pdf Surgery" on screen
    assert not any(unicodedata.category(ch).startswith("C") for ch in shown)


def test_a_crlf_cannot_start_a_header_or_a_new_paragraph():
    shown = display_text("GP-1\r\nBcc: victim@example.org\r\n\r\nDear colleague, please pay", REFERENCE_LIMIT)
    assert shown is not None
    assert "\r" not in shown
    assert "\n" not in shown
    assert shown.startswith("GP-1 Bcc: victim[at]example[.]org Dear colleague")


@pytest.mark.parametrize(
    ("phishing", "defanged"),
    [
        ("https://nhs-login.example.com/reset", "https[:]//nhs-login[.]example[.]com/reset"),
        ("www.nhs-verify.example", "www[.]nhs-verify[.]example"),
        ("nhs-verify.co.uk/login", "nhs-verify[.]co[.]uk/login"),
        ("payments@nhs-verify.example", "payments[at]nhs-verify[.]example"),
        (_full_width("www.nhs-verify.com"), "www[.]nhs-verify[.]com"),  # full-width look-alikes
    ],
)
def test_a_link_or_an_address_is_defanged_so_no_mail_client_makes_it_clickable(phishing: str, defanged: str):
    shown = display_text(f"Surgery - verify your account at {phishing} today", ORGANISATION_NAME_LIMIT)
    assert shown == f"Surgery - verify your account at {defanged} today"
    assert not _CLICKABLE.search(shown)


def test_a_cut_never_leaves_a_clickable_host_name_behind():
    # Whole, "x.comm1" is no host name; cut after "x.com" it would be one.
    shown = display_text("a" * 73 + " x.comm1", ORGANISATION_NAME_LIMIT)
    assert shown is not None
    assert len(shown) <= ORGANISATION_NAME_LIMIT
    assert not _CLICKABLE.search(shown)


@pytest.mark.parametrize("empty", [None, "", "   ", "\r\n\t", "\u200b\u202e\u2066", "\u200b" * 330_000])
def test_nothing_printable_means_no_value(empty: str | None):
    assert display_text(empty, ORGANISATION_NAME_LIMIT) is None


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=400), st.sampled_from([ORGANISATION_NAME_LIMIT, REFERENCE_LIMIT, 10]))
def test_whatever_arrives_the_result_is_short_printable_one_line_unclickable_and_stable(text: str, limit: int):
    shown = display_text(text, limit)
    if shown is None:
        return
    assert 0 < len(shown) <= limit
    assert shown == shown.strip()
    assert "  " not in shown
    assert not any(unicodedata.category(ch).startswith("C") for ch in shown)
    assert not any(ch.isspace() and ch != " " for ch in shown)
    assert not _CLICKABLE.search(shown)
    assert display_text(shown, limit) == shown, "made safe once, it stays as it is"
