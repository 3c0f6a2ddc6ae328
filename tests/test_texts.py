"""The Danish wording people read: deadlines, durations and labels that fit Slack."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot import texts

NOW = datetime(2026, 5, 12, 8, 50, tzinfo=UTC)  # Tuesday 10.50 in Copenhagen


def test_deadline_shows_weekday_clock_and_time_left() -> None:
    due = NOW + timedelta(hours=3, minutes=40)
    assert texts.deadline_line(due, NOW) == "Svar senest tirsdag kl. 14.30 (om 3 t 40 min)"


def test_an_overdue_deadline_says_by_how_much() -> None:
    due = NOW - timedelta(hours=1, minutes=5)
    assert texts.deadline_line(due, NOW) == (
        "⚠️ Svarfristen er overskredet med 1 t 5 min (fristen var tirsdag kl. 9.45)")


def test_a_deadline_days_away_counts_days_and_hours() -> None:
    due = NOW + timedelta(days=2, hours=3)
    assert texts.deadline_line(due, NOW) == "Svar senest torsdag kl. 13.50 (om 2 dage 3 t)"


def test_a_deadline_more_than_a_week_away_names_the_date() -> None:
    due = NOW + timedelta(days=9)
    assert texts.deadline_line(due, NOW).startswith("Svar senest torsdag den 21. maj kl. 10.50")


def test_winter_deadlines_use_danish_winter_time() -> None:
    now = datetime(2026, 1, 6, 8, 0, tzinfo=UTC)
    assert texts.deadline_line(now + timedelta(minutes=30), now) == (
        "Svar senest tirsdag kl. 9.30 (om 30 min)")


def test_less_than_a_minute_left_is_said_plainly() -> None:
    assert texts.deadline_line(NOW + timedelta(seconds=20), NOW).endswith("(om under 1 min)")


def test_an_inquiry_without_deadline_says_so() -> None:
    assert texts.deadline_line(None, NOW) == "Ingen svarfrist"


@pytest.mark.parametrize("action", sorted(texts.BUTTONS))
def test_button_labels_fit_slack_buttons(action: str) -> None:
    assert len(texts.button(action)) <= 75


@pytest.mark.parametrize("labels", [texts.DRAFT_MODAL, texts.EDIT_MODAL, texts.REJECT_MODAL,
                                    texts.MOVE_MODAL, (texts.MODAL_CLOSE,)])
def test_modal_titles_and_buttons_fit_slack_modals(labels: tuple[str, ...]) -> None:
    assert all(len(label) <= 24 for label in labels)


def test_unknown_send_failures_still_get_a_danish_explanation() -> None:
    assert texts.send_failure("something_new").startswith("Der skete en uventet fejl")


@pytest.mark.parametrize(("contact", "shown"), [
    ("U0ONCALL", "<@U0ONCALL>"), ("S0VAGT", "<!subteam^S0VAGT>"),
    ("Vagthavende kommunikationsmedarbejder", None), ("Sofie", None)])
def test_an_on_call_slack_id_becomes_a_mention_and_a_name_does_not(contact: str, shown: str | None) -> None:
    assert texts.slack_mention(contact) == shown
