"""CPR masking and Slack escaping: what a citizen writes can neither leak a CPR number nor
ping, link or break a card."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.privacy import (
    CPR_MASK,
    contains_cpr,
    for_input,
    for_slack,
    mask_cpr,
    shorten,
    slack_escape,
    slack_link,
    strip_invisible,
)

MARKER = " … (forkortet)"
CONTROL = re.compile(
    r"[\u0000-\u0008\u000b-\u001f\u007f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")

hostile_pieces = st.sampled_from([
    "<!channel>", "<!here>", "<!everyone>", "<@U123>", "<#C999>", "<!subteam^S1>",
    "<http://evil.example|Din bank>", "<mailto:a@b.dk|x>", "&", "&amp;", "&lt;", "<", ">",
    "<script>alert(1)</script>", "\u202egnp.exe", "\u200b", "\ufeff", "\x00", "\x1b[31m",
    "\r\n", "\u2028", "```", "*fed*", "> citat", "010190-1234", "0101901234", "010190 1234",
    "２９０２００１２３４", "291299-9999", "ﷺ", "👨‍👩‍👧", "\ud800", "æøå ÆØÅ",
])
hostile_text = st.lists(st.one_of(hostile_pieces, st.text()), max_size=30).map("".join)


@pytest.mark.parametrize("written", ["010190-1234", "0101901234", "010190 1234", "010190–1234"])
def test_a_cpr_number_is_replaced_whole(written: str) -> None:
    assert mask_cpr(f"Mit CPR er {written}, hjælp") == f"Mit CPR er {CPR_MASK}, hjælp"


def test_a_cpr_number_failing_modulus_11_is_still_masked() -> None:
    assert mask_cpr("010100-0001") == CPR_MASK  # 2007+ numbers may fail modulus 11


def test_a_cpr_number_in_fullwidth_digits_is_masked() -> None:
    assert mask_cpr("０１０１９０１２３４") == CPR_MASK


@pytest.mark.parametrize("text", ["320190-1234", "011390-1234", "310490-1234", "000190-1234"])
def test_digits_that_are_no_date_stay(text: str) -> None:
    assert mask_cpr(text) == text


def test_29_february_counts_only_in_a_possible_leap_year() -> None:
    assert mask_cpr("290200-1234 290201-1234") == f"{CPR_MASK} 290201-1234"


@pytest.mark.parametrize("text", ["tlf 00450101901234", "konto 01019012345", "ref 1010190-1234"])
def test_a_longer_digit_run_is_not_a_cpr_number(text: str) -> None:
    assert mask_cpr(text) == text


def test_zero_width_characters_cannot_smuggle_a_cpr_number_past_the_mask() -> None:
    assert for_slack("010190\u200b-12\u200d34", 100, MARKER) == CPR_MASK


def test_slack_control_syntax_is_escaped_ampersand_first() -> None:
    assert slack_escape("<!channel> & &lt;") == "&lt;!channel&gt; &amp; &amp;lt;"


def test_invisible_and_direction_changing_characters_are_removed() -> None:
    assert strip_invisible("a\u202eb\u200bc\ufeffd\x07e\u2066f") == "abcdef"


def test_line_breaks_tabs_emoji_and_danish_letters_survive_cleaning() -> None:
    text = "Hej\tæøå ÆØÅ 👨‍👩‍👧?\nTak"
    assert strip_invisible(text) == text.replace("\u200d", "")


def test_windows_and_unicode_line_breaks_become_newlines() -> None:
    assert strip_invisible("a\r\nb\u2028c\rd") == "a\nb\nc\nd"


def test_many_blank_lines_shrink_to_one_in_chat() -> None:
    assert for_slack("a\n\n\n\n\n\nb", 100, MARKER) == "a\n\nb"


def test_a_long_text_is_shortened_with_the_marker_within_the_limit() -> None:
    result = shorten("x" * 5000, 3000, MARKER)
    assert len(result) <= 3000 and result.endswith(MARKER)


def test_shortening_never_cuts_an_escaped_character_in_half() -> None:
    escaped = slack_escape("a" * 7 + "&" * 10)
    for limit in range(20, 40):
        head = shorten(escaped, limit, MARKER).removesuffix(MARKER)
        assert re.sub(r"&(amp|lt|gt);", "", head).count("&") == 0


def test_an_editable_field_keeps_markup_characters_but_not_cpr_numbers() -> None:
    assert for_input("Hej <Ida> & 010190-1234", 3000) == f"Hej <Ida> & {CPR_MASK}"


def test_a_link_label_is_escaped_and_a_pipe_cannot_end_the_url_early() -> None:
    link = slack_link("https://a.example/x|<!channel>", "<@U1>")
    assert link == "<https://a.example/x%7C%3C!channel%3E|&lt;@U1&gt;>"


@pytest.mark.parametrize("url", ["javascript:alert(1)", "", None, "http://[::1", "ftp://x"])
def test_a_link_without_a_web_address_is_shown_as_its_label_only(url: str | None) -> None:
    assert slack_link(url, "Se originalen") == "Se originalen"


@given(hostile_text, st.integers(min_value=20, max_value=3000))
def test_any_text_for_slack_has_no_markup_no_cpr_and_fits(text: str, limit: int) -> None:
    shown = for_slack(text, limit, MARKER)
    assert "<" not in shown and ">" not in shown
    assert not contains_cpr(shown)
    assert CONTROL.search(shown) is None
    assert len(shown) <= limit
    shown.encode("utf-8")


@given(hostile_text)
def test_masking_twice_changes_nothing_more(text: str) -> None:
    once = mask_cpr(text)
    assert mask_cpr(once) == once and not contains_cpr(once)
