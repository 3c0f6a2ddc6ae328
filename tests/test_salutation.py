"""`{navn}` in the greeting is the citizen's first name, or nothing when the platform gives none."""

from __future__ import annotations

from bot.workflow.queries import first_name


def test_the_first_name_is_the_first_word_of_the_name_the_platform_gives() -> None:
    assert first_name("Anna Jensen") == "Anna"


def test_a_handle_or_a_missing_name_gives_no_name_rather_than_a_wrong_one() -> None:
    assert [first_name("@borger12"), first_name(""), first_name("  ")] == ["", "", ""]
