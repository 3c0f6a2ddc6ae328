"""Which Slack messages and form submissions the listeners act on, and which they leave alone."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt.request import BoltRequest

from bot import texts
from bot.demo.world import SandboxWorld, specialist_for
from bot.models import InquiryState
from tests.flow_support import DRAFT, OFFICER, QUESTION, drafted

SPECIALIST = specialist_for("affald")


def test_a_top_level_message_in_a_department_channel_is_not_a_draft(world: SandboxWorld) -> None:
    inquiry = world.citizen_writes({"text": QUESTION})
    channel, _ = world.message_of(inquiry.id or 0)
    said = world.slack.say(channel, SPECIALIST, DRAFT)
    world.dispatch(world.requests.message_event(said))
    assert world.inquiry(inquiry.id or 0).state is InquiryState.POSTED


def test_a_reply_under_someone_elses_message_is_not_a_draft(world: SandboxWorld) -> None:
    inquiry = world.citizen_writes({"text": QUESTION})
    channel, _ = world.message_of(inquiry.id or 0)
    chatter = world.slack.say(channel, OFFICER, "Frokost kl. 12?")
    said = world.slack.say(channel, SPECIALIST, DRAFT, thread_ts=chatter["ts"])
    world.dispatch(world.requests.message_event(said))
    assert world.inquiry(inquiry.id or 0).state is InquiryState.POSTED


def test_the_bots_own_thread_notes_are_not_drafts(world: SandboxWorld) -> None:
    inquiry = drafted(world)
    world.click(OFFICER, inquiry.id or 0, "reject", on="approval")
    world.submit_modal(OFFICER, "reject_modal", "For kort")
    channel, ts = world.message_of(inquiry.id or 0)
    [note] = world.slack.thread(channel, ts)[1:]
    world.dispatch(world.requests.message_event(note | {"channel": channel}))
    assert world.inquiry(inquiry.id or 0).state is InquiryState.POSTED


def test_a_thread_reply_after_the_answer_went_out_is_told_so(world: SandboxWorld) -> None:
    inquiry = drafted(world)
    world.click(OFFICER, inquiry.id or 0, "approve", on="approval")
    world.reply_in_thread(SPECIALIST, inquiry.id or 0, "Glemte at nævne åbningstiderne")
    assert [e["text"] for e in world.slack.ephemerals] == [texts.refusal_state("answered")]
    assert world.replies_seen_by_citizen(inquiry.id or 0) == [DRAFT]


def submit_answer(world: SandboxWorld, user: str, text: str | None) -> dict[str, Any]:
    """Submit the draft form and return Bolt's answer to Slack (errors show inside the form)."""
    view = next(iter(world.slack.views.values()))
    request = world.requests.view_submission(
        user=user, view=view, values={"reply_block": {"reply_input": text}})
    response = world.app.dispatch(BoltRequest(body=request.body, headers=dict(request.headers)))
    return json.loads(response.body) if response.body else {}


def test_an_empty_draft_form_is_refused_inside_the_form_in_danish(world: SandboxWorld) -> None:
    inquiry = world.citizen_writes({"text": QUESTION})
    world.click(SPECIALIST, inquiry.id or 0, "draft")
    answer = submit_answer(world, SPECIALIST, "   ")
    assert answer == {"response_action": "errors",
                      "errors": {"reply_block": texts.empty_reply_error()}}
    assert world.inquiry(inquiry.id or 0).state is InquiryState.POSTED


def test_a_filled_in_draft_form_closes(world: SandboxWorld) -> None:
    inquiry = world.citizen_writes({"text": QUESTION})
    world.click(SPECIALIST, inquiry.id or 0, "draft")
    assert submit_answer(world, SPECIALIST, DRAFT) == {}
