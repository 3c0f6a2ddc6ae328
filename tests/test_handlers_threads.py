"""Which Slack messages and form submissions the listeners act on, and which they leave alone."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt.request import BoltRequest

from bot import texts
from bot.demo.world import SandboxWorld, specialist_for
from bot.models import InquiryState
from tests.flow_support import (
    DRAFT,
    OFFICER,
    QUESTION,
    buttons,
    drafted,
    events,
    message,
    shown_text,
)

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


FIXED = DRAFT + " Husk at stille sofaen ved skel."


def test_an_edited_draft_is_what_the_officer_approves_and_the_citizen_gets(world: SandboxWorld) -> None:
    inquiry = drafted(world)
    world.edit_in_thread(SPECIALIST, inquiry.id or 0, FIXED)
    assert FIXED in shown_text(message(world, inquiry.id or 0, "approval"))
    world.click(OFFICER, inquiry.id or 0, "approve", on="approval")
    assert world.replies_seen_by_citizen(inquiry.id or 0) == [FIXED]


def test_an_edited_draft_after_a_rejection_goes_for_approval_again(world: SandboxWorld) -> None:
    inquiry = drafted(world)
    world.click(OFFICER, inquiry.id or 0, "reject", on="approval")
    world.submit_modal(OFFICER, "reject_modal", "Nævn skel")
    world.edit_in_thread(SPECIALIST, inquiry.id or 0, FIXED)
    assert world.inquiry(inquiry.id or 0).state is InquiryState.DRAFTED
    assert buttons(message(world, inquiry.id or 0, "approval")) == ["approve", "edit", "reject", "hide"]


def test_editing_a_draft_after_the_answer_went_out_is_told_so_and_changes_nothing(world: SandboxWorld) -> None:
    inquiry = drafted(world)
    world.click(OFFICER, inquiry.id or 0, "approve", on="approval")
    world.edit_in_thread(SPECIALIST, inquiry.id or 0, FIXED)
    assert [e["text"] for e in world.slack.ephemerals] == [texts.refusal_state("answered")]
    assert world.replies_seen_by_citizen(inquiry.id or 0) == [DRAFT]


def test_editing_an_older_draft_does_not_replace_the_newest(world: SandboxWorld) -> None:
    inquiry = drafted(world)
    world.reply_in_thread(OFFICER, inquiry.id or 0, "Nyere udkast")
    world.edit_in_thread(SPECIALIST, inquiry.id or 0, FIXED)
    assert "Nyere udkast" in shown_text(message(world, inquiry.id or 0, "approval"))
    assert FIXED not in shown_text(message(world, inquiry.id or 0, "approval"))


def test_an_edit_redelivered_by_slack_makes_one_draft(world: SandboxWorld) -> None:
    inquiry = drafted(world)
    channel, ts = world.message_of(inquiry.id or 0)
    [draft] = [m for m in world.slack.thread(channel, ts) if m.get("user") == SPECIALIST]
    edit = world.slack.edit(channel, draft["ts"], SPECIALIST, FIXED)
    world.dispatch(world.requests.message_event(edit))
    world.dispatch(world.requests.message_event(edit))
    assert len(events(world, "drafted")) == 2


def test_a_change_slack_makes_without_new_text_is_not_a_new_draft(world: SandboxWorld) -> None:
    """Slack also sends `message_changed` when it unfurls a link in a message."""
    inquiry = drafted(world)
    channel, ts = world.message_of(inquiry.id or 0)
    [draft] = [m for m in world.slack.thread(channel, ts) if m.get("user") == SPECIALIST]
    world.dispatch(world.requests.message_event(world.slack.edit(channel, draft["ts"], SPECIALIST, DRAFT)))
    assert len(events(world, "drafted")) == 1


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
