"""Sending an approved reply when the platform says no, throttles, or crashes halfway: the
thread tells people what happened, and the citizen gets the answer at most once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot import texts
from bot.demo.clock import SteppedClock
from bot.demo.world import SandboxWorld, specialist_for
from bot.models import InquiryState
from tests.flow_support import DRAFT, OFFICER, buttons, drafted, message, shown_text, thread_notes

COMMENTS = "POST /{id}/comments"


@pytest.fixture
def clock(stepped_clock: SteppedClock) -> SteppedClock:
    return stepped_clock


@pytest.fixture
def world(clocked_world: SandboxWorld) -> SandboxWorld:
    """The assembled product on a clock the test moves, so waiting out a back-off takes no time."""
    return clocked_world



def test_a_deleted_comment_is_reported_in_the_thread(world: SandboxWorld) -> None:
    inquiry = drafted(world)
    world.graph.delete(inquiry.external_id)
    world.click(OFFICER, inquiry.id or 0, "approve", on="approval")
    assert thread_notes(world, inquiry.id or 0) == [
        texts.send_failed_in_thread(texts.send_failure("gone"), closed=True)]


def test_a_reply_to_a_deleted_comment_closes_the_inquiry_instead_of_offering_retry(world: SandboxWorld) -> None:
    inquiry = drafted(world)
    world.graph.delete(inquiry.external_id)
    world.click(OFFICER, inquiry.id or 0, "approve", on="approval")
    assert buttons(message(world, inquiry.id or 0, "approval")) == []
    assert world.inquiry(inquiry.id or 0).state is InquiryState.CLOSED
    assert world.inquiry(inquiry.id or 0).next_reminder_at is None


def test_the_card_of_a_deleted_comment_says_why_it_closed(world: SandboxWorld) -> None:
    inquiry = drafted(world)
    world.graph.delete(inquiry.external_id)
    world.click(OFFICER, inquiry.id or 0, "approve", on="approval")
    assert texts.status_closed_gone(texts.send_failure("gone")) in shown_text(message(world, inquiry.id or 0))


def test_a_failed_send_offers_retry_and_is_not_marked_answered(world: SandboxWorld) -> None:
    inquiry = drafted(world)
    world.graph.expire_token()
    world.click(OFFICER, inquiry.id or 0, "approve", on="approval")
    assert buttons(message(world, inquiry.id or 0, "approval")) == ["retry", "edit", "reject"]  # issue 12: a way out
    assert "Besvaret" not in shown_text(message(world, inquiry.id or 0))
    assert world.inquiry(inquiry.id or 0).state is InquiryState.SEND_FAILED


def test_an_expired_token_is_reported_and_retry_sends_once_renewed(world: SandboxWorld) -> None:
    inquiry = drafted(world, platform="linkedin")
    world.linkedin.expire_token()
    world.click(OFFICER, inquiry.id or 0, "approve", on="approval")
    assert thread_notes(world, inquiry.id or 0) == [
        texts.send_failed_in_thread(texts.send_failure("auth"))]
    world.linkedin.restore_token()
    world.click(OFFICER, inquiry.id or 0, "retry", on="approval")
    assert world.replies_seen_by_citizen(inquiry.id or 0) == [DRAFT]
    assert "Besvaret" in shown_text(message(world, inquiry.id or 0))


def test_only_the_communication_unit_can_retry(world: SandboxWorld) -> None:
    inquiry = drafted(world)
    world.graph.expire_token()
    world.click(OFFICER, inquiry.id or 0, "approve", on="approval")
    world.click(specialist_for(inquiry.route), inquiry.id or 0, "retry", on="approval")
    assert world.inquiry(inquiry.id or 0).state is InquiryState.SEND_FAILED
    assert world.slack.ephemerals[-1]["text"] == texts.refusal_not_comms()


def test_a_throttled_reply_stays_queued_without_alarming_anyone(world: SandboxWorld) -> None:
    inquiry = drafted(world)
    world.graph.throttle(route=COMMENTS, minutes=5)
    world.click(OFFICER, inquiry.id or 0, "approve", on="approval")
    assert world.replies_seen_by_citizen(inquiry.id or 0) == []
    assert thread_notes(world, inquiry.id or 0) == []
    assert world.inquiry(inquiry.id or 0).state is InquiryState.SENDING


def test_a_throttled_reply_is_sent_by_the_sweep_after_the_wait(
    world: SandboxWorld, clock: SteppedClock
) -> None:
    inquiry = drafted(world)
    world.graph.throttle(route=COMMENTS, minutes=5)
    world.click(OFFICER, inquiry.id or 0, "approve", on="approval")
    clock.advance(timedelta(minutes=6))
    world.sweep()
    assert world.replies_seen_by_citizen(inquiry.id or 0) == [DRAFT]
    assert "Besvaret" in shown_text(message(world, inquiry.id or 0, "approval"))


def test_the_sweep_does_not_resend_before_the_wait_is_over(world: SandboxWorld) -> None:
    inquiry = drafted(world)
    world.graph.throttle(route=COMMENTS, minutes=5)
    world.click(OFFICER, inquiry.id or 0, "approve", on="approval")
    world.sweep()
    assert world.replies_seen_by_citizen(inquiry.id or 0) == []


def test_a_crash_after_the_platform_accepted_never_sends_twice(
    world: SandboxWorld, clock: SteppedClock
) -> None:
    inquiry = drafted(world)
    world.graph.drop_next(route=COMMENTS, apply=True)
    world.click(OFFICER, inquiry.id or 0, "approve", on="approval")
    clock.advance(timedelta(minutes=5))
    world.sweep()
    assert world.replies_seen_by_citizen(inquiry.id or 0) == [DRAFT]
    assert "Besvaret" in shown_text(message(world, inquiry.id or 0))
