"""What chat must show after a change reaches chat even when Slack failed at that moment:
the sweep posts the note or redraws the card later, once, and gives up only after two days."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from bot import texts
from bot.demo.clock import SteppedClock
from bot.demo.world import SandboxWorld, specialist_for
from tests.flow_support import (
    OFFICER,
    QUESTION,
    buttons,
    channel_name,
    comms_history,
    drafted,
    message,
    shown_text,
    thread_notes,
)

COMMENT = "Nævn gerne at de kan ringe til os"
SPECIALIST = specialist_for("affald")
LATER = timedelta(minutes=1)


@pytest.fixture
def world(clocked_world: SandboxWorld) -> SandboxWorld:
    return clocked_world




def reject(world: SandboxWorld, inquiry_id: int) -> None:
    world.click(OFFICER, inquiry_id, "reject", on="approval")
    world.submit_modal(OFFICER, "reject_modal", COMMENT)


def test_a_rejection_note_slack_refused_is_posted_by_a_later_sweep(
    world: SandboxWorld, stepped_clock: SteppedClock
) -> None:
    inquiry = drafted(world)
    world.slack.fail_next("chat.postMessage", "fatal_error")
    reject(world, inquiry.id or 0)
    assert thread_notes(world, inquiry.id or 0) == []
    stepped_clock.advance(LATER)
    world.sweep()
    assert thread_notes(world, inquiry.id or 0) == [texts.rejected_in_thread(f"<@{OFFICER}>", COMMENT)]


def test_a_note_is_posted_once_however_often_the_sweep_runs(
    world: SandboxWorld, stepped_clock: SteppedClock
) -> None:
    inquiry = drafted(world)
    world.slack.fail_next("chat.postMessage", "fatal_error")
    reject(world, inquiry.id or 0)
    for _ in range(3):
        stepped_clock.advance(timedelta(minutes=20))
        world.sweep()
    assert len(thread_notes(world, inquiry.id or 0)) == 1


def test_while_slack_keeps_refusing_a_note_is_tried_at_growing_intervals(
    world: SandboxWorld, stepped_clock: SteppedClock
) -> None:
    inquiry = drafted(world)
    note = texts.rejected_in_thread(f"<@{OFFICER}>", COMMENT)
    world.slack.fail_next("chat.postMessage", "fatal_error", times=2)
    reject(world, inquiry.id or 0)  # refused at once: the sweep may try again after 30 s
    stepped_clock.advance(timedelta(seconds=31))
    world.sweep()  # refused again: the next try waits 60 s
    stepped_clock.advance(timedelta(seconds=31))
    world.sweep()
    assert note not in thread_notes(world, inquiry.id or 0)
    stepped_clock.advance(timedelta(seconds=30))
    world.sweep()
    assert note in thread_notes(world, inquiry.id or 0)


def test_a_note_whose_answer_from_slack_was_lost_is_not_posted_twice(
    world: SandboxWorld, stepped_clock: SteppedClock
) -> None:
    inquiry = drafted(world)
    world.slack.drop_next("chat.postMessage", apply=True)
    reject(world, inquiry.id or 0)
    stepped_clock.advance(LATER)
    world.sweep()
    assert len(thread_notes(world, inquiry.id or 0)) == 1


def test_a_card_whose_redraw_failed_shows_the_answer_after_a_later_sweep(
    world: SandboxWorld, stepped_clock: SteppedClock
) -> None:
    inquiry = drafted(world)
    world.slack.fail_next("chat.update", "fatal_error", times=10)
    world.click(OFFICER, inquiry.id or 0, "approve", on="approval")
    assert buttons(message(world, inquiry.id or 0, "approval")) != []
    world.slack.clear_faults()
    stepped_clock.advance(LATER)
    world.sweep()
    assert buttons(message(world, inquiry.id or 0, "approval")) == []
    assert buttons(message(world, inquiry.id or 0)) == []


def test_a_card_chat_has_shown_is_not_redrawn_again_by_the_sweep(
    world: SandboxWorld, stepped_clock: SteppedClock
) -> None:
    inquiry = drafted(world)
    world.click(OFFICER, inquiry.id or 0, "approve", on="approval")
    updates = len(world.slack.calls_to("chat.update"))
    stepped_clock.advance(LATER)
    world.sweep()
    assert len(world.slack.calls_to("chat.update")) == updates


def test_an_inquiry_answered_by_hand_on_the_platform_loses_its_buttons_at_the_next_sweep(
    world: SandboxWorld,
) -> None:
    inquiry = world.citizen_writes({"platform": "facebook", "text": "Hvornår åbner svømmehallen igen?"})
    page = world.graph.world.page_id
    world.graph.add_comment(inquiry.external_id, "Den åbner mandag.", author_id=page,
                            author_name="Eksempel Kommune")
    world.poll()
    world.sweep()
    card = message(world, inquiry.id or 0)
    assert buttons(card) == []
    assert "Besvaret" in shown_text(card)


def test_the_notice_of_a_stopped_account_reaches_the_unit_once_slack_is_back(
    world: SandboxWorld, stepped_clock: SteppedClock
) -> None:
    world.linkedin.expire_token()
    world.slack.fail_next("chat.postMessage", "fatal_error")
    world.poll()
    assert comms_history(world) == []
    stepped_clock.advance(LATER)
    world.sweep()
    [notice] = comms_history(world)
    assert "LinkedIn" in notice["text"] and "adgangen er udløbet" in notice["text"]


def test_a_note_chat_refused_for_two_days_is_given_up_and_logged(
    world: SandboxWorld, stepped_clock: SteppedClock, caplog: pytest.LogCaptureFixture
) -> None:
    inquiry = drafted(world)
    world.slack.fail_next("chat.postMessage", "fatal_error")
    reject(world, inquiry.id or 0)
    stepped_clock.advance(timedelta(days=2, minutes=1))
    with caplog.at_level(logging.ERROR, logger="bot.workflow.followups"):
        world.sweep()
    world.sweep()
    assert texts.rejected_in_thread(f"<@{OFFICER}>", COMMENT) not in thread_notes(world, inquiry.id or 0)
    assert any("gave up on chat follow-up" in record.getMessage() for record in caplog.records)


def test_a_moved_inquiry_whose_new_card_slack_refused_reaches_the_new_channel_by_a_later_sweep(
    world: SandboxWorld, stepped_clock: SteppedClock
) -> None:
    inquiry = world.citizen_writes({"text": QUESTION})
    world.slack.fail_next("chat.postMessage", "fatal_error")
    world.click(SPECIALIST, inquiry.id or 0, "move", option="borgerservice")
    world.submit_modal(SPECIALIST, "move_modal", "Det handler om pas")
    stepped_clock.advance(LATER)
    world.sweep()
    channel, _ = world.message_of(inquiry.id or 0)
    assert channel_name(world, channel) == "borgerbot-borgerservice"
    assert buttons(message(world, inquiry.id or 0))[:1] == ["draft"]
