"""Slack as it really delivers: retries of one event arriving together on one replica or two,
edits racing an approval, replies sent to the channel too or with files, and deleted drafts.
Deliveries go over real HTTP into the real Bolt app, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from slack_bolt import App
from slack_sdk import WebClient

from bot import texts
from bot.assembly import build_workflow
from bot.chat.slack import SlackGateway
from bot.demo.world import BOT_TOKEN, SandboxWorld, specialist_for
from bot.models import InquiryState
from bot.store import Store
from handlers.app import build_app
from tests.bolt_http import at_once, post, served
from tests.conftest import RULES_FILE
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
FIXED = DRAFT + " Husk at stille sofaen ved skel."


@pytest.fixture
def any_world(store: Store) -> Iterator[SandboxWorld]:
    """The assembled product on each database."""
    world = SandboxWorld(str(store.engine.url), RULES_FILE, store=store)
    yield world
    world.close()


def replica(world: SandboxWorld) -> App:
    """A second bot process on the same database and Slack workspace."""
    gateway = SlackGateway(WebClient(token=BOT_TOKEN, base_url=world.slack.base_url),
                           messages_per_second=1000.0)
    workflow = build_workflow(world.config, world.store, gateway, world.clients,
                              group_members=gateway.usergroup_members)
    return build_app(world.settings, workflow, client=WebClient(token=BOT_TOKEN, base_url=world.slack.base_url),
                     token_verification_enabled=False, synchronous=True)


def thread_reply(world: SandboxWorld, inquiry_id: int, text: str, **kind: Any) -> dict[str, Any]:
    channel, ts = world.message_of(inquiry_id)
    return world.slack.say(channel, SPECIALIST, text, thread_ts=ts, **kind)


def approval_requests(world: SandboxWorld) -> list[dict[str, Any]]:
    inquiry_channel = next(c.id for c in world.slack.workspace.channels.values()
                           if c.name == world.config.setup.approval_channel.lstrip("#"))
    return world.slack.history(inquiry_channel)


@pytest.mark.parametrize("replicas", [1, 2])
def test_an_event_and_its_retries_delivered_at_once_make_one_draft(any_world: SandboxWorld, replicas: int) -> None:
    world = any_world
    inquiry = world.citizen_writes({"text": QUESTION})
    apps = [world.app] + [replica(world) for _ in range(replicas - 1)]
    with served(apps[0]) as first, served(apps[-1]) as last:
        urls = [first, last]
        for round_ in range(5):
            said = thread_reply(world, inquiry.id or 0, f"{DRAFT} ({round_})")
            deliveries = world.requests.deliveries(said, retries=3)
            statuses = at_once([(urls[i % 2], request) for i, request in enumerate(deliveries)])
            assert statuses == [200] * 4
    assert len(events(world, "drafted")) == 5
    assert world.slack.ephemerals == []
    assert "(4)" in shown_text(message(world, inquiry.id or 0, "approval"))
    assert len(approval_requests(world)) == 1


def test_retries_delivered_one_after_another_make_one_draft(world: SandboxWorld) -> None:
    inquiry = world.citizen_writes({"text": QUESTION})
    said = thread_reply(world, inquiry.id or 0, DRAFT)
    with served(world.app) as url:
        assert [post(url, request) for request in world.requests.deliveries(said, retries=3)] == [200] * 4
    assert len(events(world, "drafted")) == 1
    assert world.slack.ephemerals == []


def test_an_edit_landing_after_the_officer_saw_the_draft_is_not_sent_by_the_older_click(
        any_world: SandboxWorld) -> None:
    world = any_world
    inquiry = drafted(world)
    channel, ts = world.message_of(inquiry.id or 0, "approval")
    seen = world.slack.message(channel, ts)  # the approval request as the officer saw it
    world.edit_in_thread(SPECIALIST, inquiry.id or 0, FIXED)
    world.dispatch(world.requests.block_action(
        user=OFFICER, action={"action_id": "approve"}, message=seen, channel=channel,
        trigger_id=world.slack.new_trigger_id(), response_url=world.slack.new_response_url()))
    assert world.replies_seen_by_citizen(inquiry.id or 0) == []
    assert [e["text"] for e in world.slack.ephemerals] == [texts.refusal_draft_changed()]
    assert FIXED in shown_text(message(world, inquiry.id or 0, "approval"))


def test_after_a_refused_stale_approval_the_redrawn_request_sends_the_newer_text(world: SandboxWorld) -> None:
    inquiry = drafted(world)
    channel, ts = world.message_of(inquiry.id or 0, "approval")
    seen = world.slack.message(channel, ts)
    world.edit_in_thread(SPECIALIST, inquiry.id or 0, FIXED)
    world.dispatch(world.requests.block_action(
        user=OFFICER, action={"action_id": "approve"}, message=seen, channel=channel,
        trigger_id=world.slack.new_trigger_id(), response_url=world.slack.new_response_url()))
    world.click(OFFICER, inquiry.id or 0, "approve", on="approval")
    assert world.replies_seen_by_citizen(inquiry.id or 0) == [FIXED]


def test_an_edit_form_opened_on_an_older_draft_is_refused_in_the_channel_it_came_from(
        world: SandboxWorld) -> None:
    inquiry = drafted(world)
    world.click(OFFICER, inquiry.id or 0, "edit", on="approval")
    world.edit_in_thread(SPECIALIST, inquiry.id or 0, FIXED)
    world.submit_modal(OFFICER, "edit_modal", DRAFT + " Mvh Mette")
    approval_channel, _ = world.message_of(inquiry.id or 0, "approval")
    assert world.replies_seen_by_citizen(inquiry.id or 0) == []
    assert [(e["channel"], e["user"], e["text"]) for e in world.slack.ephemerals] == [
        (approval_channel, OFFICER, texts.refusal_draft_changed())]


def test_a_refusal_after_a_form_is_submitted_reaches_the_officer(world: SandboxWorld) -> None:
    """The reject form is open while a colleague approves: the rejection is refused, and the
    officer is told in the channel the form was opened from (never a user id as channel)."""
    inquiry = drafted(world)
    world.click(OFFICER, inquiry.id or 0, "reject", on="approval")
    world.click("U0KOMM002", inquiry.id or 0, "approve", on="approval")
    world.submit_modal(OFFICER, "reject_modal", "For kort")
    approval_channel, _ = world.message_of(inquiry.id or 0, "approval")
    assert [(e["channel"], e["user"]) for e in world.slack.ephemerals] == [(approval_channel, OFFICER)]


def test_a_reply_also_sent_to_the_channel_is_a_draft(world: SandboxWorld) -> None:
    inquiry = world.citizen_writes({"text": QUESTION})
    world.dispatch(world.requests.message_event(thread_reply(world, inquiry.id or 0, DRAFT, broadcast=True)))
    assert world.inquiry(inquiry.id or 0).state is InquiryState.DRAFTED
    world.click(OFFICER, inquiry.id or 0, "approve", on="approval")
    assert world.replies_seen_by_citizen(inquiry.id or 0) == [DRAFT]


def test_a_reply_with_a_file_is_a_draft_and_the_thread_says_the_file_is_not_sent(world: SandboxWorld) -> None:
    inquiry = world.citizen_writes({"text": QUESTION})
    said = thread_reply(world, inquiry.id or 0, DRAFT, files=("kort.png",))
    world.dispatch(world.requests.message_event(said))
    channel, ts = world.message_of(inquiry.id or 0)
    assert texts.files_not_sent() in [m["text"] for m in world.slack.thread(channel, ts) if m.get("bot_id")]
    world.click(OFFICER, inquiry.id or 0, "approve", on="approval")
    assert world.replies_seen_by_citizen(inquiry.id or 0) == [DRAFT]


def test_a_draft_deleted_in_slack_is_withdrawn_and_its_approval_request_has_no_approve(
        any_world: SandboxWorld) -> None:
    world = any_world
    inquiry = drafted(world)
    channel, ts = world.message_of(inquiry.id or 0)
    [draft] = [m for m in world.slack.thread(channel, ts) if m.get("user") == SPECIALIST]
    world.dispatch(world.requests.message_event(world.slack.delete(channel, draft["ts"], SPECIALIST)))
    assert world.inquiry(inquiry.id or 0).state is InquiryState.POSTED
    assert "approve" not in buttons(message(world, inquiry.id or 0, "approval"))
    assert DRAFT not in shown_text(message(world, inquiry.id or 0, "approval"))


def test_approving_a_deleted_draft_from_the_card_seen_before_is_refused(world: SandboxWorld) -> None:
    inquiry = drafted(world)
    approval, approval_ts = world.message_of(inquiry.id or 0, "approval")
    seen = world.slack.message(approval, approval_ts)
    channel, ts = world.message_of(inquiry.id or 0)
    [draft] = [m for m in world.slack.thread(channel, ts) if m.get("user") == SPECIALIST]
    world.dispatch(world.requests.message_event(world.slack.delete(channel, draft["ts"], SPECIALIST)))
    world.dispatch(world.requests.block_action(
        user=OFFICER, action={"action_id": "approve"}, message=seen, channel=approval,
        trigger_id=world.slack.new_trigger_id(), response_url=world.slack.new_response_url()))
    assert world.replies_seen_by_citizen(inquiry.id or 0) == []
    assert [e["text"] for e in world.slack.ephemerals] == [texts.refusal_draft_changed()]


def test_a_draft_replaced_by_a_tombstone_is_withdrawn(world: SandboxWorld) -> None:
    inquiry = drafted(world)
    channel, ts = world.message_of(inquiry.id or 0)
    [draft] = [m for m in world.slack.thread(channel, ts) if m.get("user") == SPECIALIST]
    tombstone = {"type": "message", "subtype": "message_changed", "hidden": True, "channel": channel,
                 "ts": "1.0", "message": {**draft, "subtype": "tombstone", "text": "This message was deleted."},
                 "previous_message": draft}
    world.dispatch(world.requests.event(tombstone | {"event_ts": "1.0", "channel_type": "channel"}))
    assert world.inquiry(inquiry.id or 0).state is InquiryState.POSTED


def test_deleting_a_draft_after_it_was_sent_changes_nothing(world: SandboxWorld) -> None:
    inquiry = drafted(world)
    world.click(OFFICER, inquiry.id or 0, "approve", on="approval")
    channel, ts = world.message_of(inquiry.id or 0)
    [draft] = [m for m in world.slack.thread(channel, ts) if m.get("user") == SPECIALIST]
    world.dispatch(world.requests.message_event(world.slack.delete(channel, draft["ts"], SPECIALIST)))
    assert world.inquiry(inquiry.id or 0).state is InquiryState.ANSWERED
    assert events(world, "withdrawn") == []
