"""A bot message whose answer from Slack was lost (a dropped connection, a crash) is found
by its marker and not posted a second time; one that never reached Slack is posted later."""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Any

from bot.demo.clock import SteppedClock
from bot.demo.world import SandboxWorld, specialist_for
from bot.workflow.outbox import Message
from tests.flow_support import DRAFT, QUESTION


def marked(world: SandboxWorld, key: str) -> list[dict[str, Any]]:
    """Every message in the workspace, threads included, carrying the outbox marker `key`."""
    return [m for channel in world.slack.workspace.channels.values() for m in channel.messages.values()
            if (m.get("metadata") or {}).get("event_payload", {}).get("key") == key]


def written(world: SandboxWorld) -> int:
    platform, external_id = world.citizens.write({"text": QUESTION})
    world.poll()
    return world.inquiry_for(platform, external_id).id or 0


def test_a_card_whose_answer_was_lost_is_adopted_not_posted_again(world: SandboxWorld) -> None:
    inquiry_id = written(world)
    world.slack.drop_next("chat.postMessage", apply=True)
    world.sweep()
    world.sweep()
    [card] = marked(world, f"card:{inquiry_id}")
    assert world.message_of(inquiry_id) == (world.inquiry(inquiry_id).chat_channel, card["ts"])


def test_a_card_that_never_reached_slack_is_posted_by_the_next_sweep(world: SandboxWorld) -> None:
    inquiry_id = written(world)
    world.slack.drop_next("chat.postMessage", apply=False)
    world.sweep()
    world.sweep()
    assert len(marked(world, f"card:{inquiry_id}")) == 1


def test_an_approval_request_whose_answer_was_lost_is_not_posted_twice(world: SandboxWorld) -> None:
    inquiry = world.citizen_writes({"text": QUESTION})
    world.slack.drop_next("chat.postMessage", apply=True)
    world.reply_in_thread(specialist_for(inquiry.route), inquiry.id or 0, DRAFT)
    world.reply_in_thread(specialist_for(inquiry.route), inquiry.id or 0, DRAFT + " igen")
    [request] = marked(world, f"approval:{inquiry.id}")
    assert world.message_of(inquiry.id or 0, "approval")[1] == request["ts"]


def test_a_draft_whose_approval_request_never_reached_slack_is_shown_by_a_later_sweep(
    clocked_world: SandboxWorld, stepped_clock: SteppedClock
) -> None:
    world = clocked_world
    inquiry = world.citizen_writes({"text": QUESTION})
    world.slack.fail_next("chat.postMessage", "fatal_error")
    world.reply_in_thread(specialist_for(inquiry.route), inquiry.id or 0, DRAFT)
    assert marked(world, f"approval:{inquiry.id}") == []
    stepped_clock.advance(timedelta(minutes=2))
    world.sweep()
    assert len(marked(world, f"approval:{inquiry.id}")) == 1


def test_a_burst_of_cards_reaches_chat_once_each_and_in_order(world: SandboxWorld) -> None:
    ids = [written(world) for _ in range(3)]
    world.sweep()
    world.sweep()
    cards = [marked(world, f"card:{inquiry_id}") for inquiry_id in ids]
    assert [len(found) for found in cards] == [1, 1, 1]
    assert [world.message_of(i)[1] for i in ids] == sorted(found[0]["ts"] for found in cards)


URGENT = "Der er brand i skraldespanden ved genbrugspladsen, hvem gør noget?"


def test_an_urgent_card_whose_alert_failed_is_alerted_by_the_next_sweep_and_not_posted_again(
    world: SandboxWorld,
) -> None:
    platform, external_id = world.citizens.write({"text": URGENT})
    world.poll()
    world.slack.fail_next("chat.getPermalink", "fatal_error")
    world.sweep()
    inquiry = world.inquiry_for(platform, external_id)
    assert inquiry.state == "received" and marked(world, f"urgent:{inquiry.id}") == []
    world.sweep()
    assert len(marked(world, f"card:{inquiry.id}")) == 1
    assert len(marked(world, f"urgent:{inquiry.id}")) == 1
    assert world.inquiry(inquiry.id or 0).state == "posted"


def test_cards_a_sweep_had_no_time_for_are_posted_by_the_next(world: SandboxWorld) -> None:
    inquiry_id = written(world)
    assert world.workflow.intake.publish_pending(budget_seconds=0) == 0
    assert marked(world, f"card:{inquiry_id}") == []
    world.sweep()
    assert len(marked(world, f"card:{inquiry_id}")) == 1


def notes(world: SandboxWorld, count: int) -> list[Message]:
    ctx = world.workflow.ctx
    channel = ctx.setup.comms_channel
    return [Message(f"note:{n}", channel, functools.partial(
        lambda n, marker: ctx.chat.notify(channel, f"Besked {n}", marker=marker), n)) for n in range(count)]


def test_a_batch_that_runs_out_of_time_leaves_the_rest_to_a_later_attempt_once_each(world: SandboxWorld) -> None:
    outbox = world.workflow.intake.outbox
    assert outbox.post_batch(notes(world, 3), ignore, out_of_time=lambda: True) == 1
    assert outbox.post_batch(notes(world, 3), ignore) == 3
    assert [len(marked(world, f"note:{n}")) for n in range(3)] == [1, 1, 1]


def test_messages_a_batch_never_tried_are_posted_later_without_searching_slack(world: SandboxWorld) -> None:
    outbox = world.workflow.intake.outbox
    outbox.post_batch(notes(world, 3), ignore, out_of_time=lambda: True)
    outbox.post_batch(notes(world, 3), ignore)
    assert world.slack.calls_to("conversations.history") == []


def ignore(_session: object, _done: object) -> None:
    """Nothing to record alongside these messages."""
