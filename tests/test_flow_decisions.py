"""Moving, closing without an answer, refusing people outside the communication unit, and
clicking twice: what each looks like in Slack and on the platform."""

from __future__ import annotations

import threading

from bot import texts
from bot.demo.world import OFFICERS, SandboxWorld, specialist_for
from bot.models import InquiryState
from tests.flow_support import (
    DRAFT,
    OFFICER,
    QUESTION,
    buttons,
    channel_name,
    drafted,
    events,
    message,
    shown_text,
)

SPECIALIST = specialist_for("affald")


def moved(world: SandboxWorld) -> tuple[int, tuple[str, str]]:
    """An affald inquiry moved to Borgerservice by its specialist; returns it and its old card."""
    inquiry = world.citizen_writes({"text": QUESTION})
    old = world.message_of(inquiry.id or 0)
    world.click(SPECIALIST, inquiry.id or 0, "move", option="borgerservice")
    world.submit_modal(SPECIALIST, "move_modal", "Det handler om pas")
    return inquiry.id or 0, old


def test_a_moved_inquiry_is_posted_in_the_new_departments_channel(world: SandboxWorld) -> None:
    inquiry_id, _ = moved(world)
    channel, _ = world.message_of(inquiry_id)
    assert channel_name(world, channel) == "borgerbot-borgerservice"
    assert "Sofaen står stadig ude" in shown_text(message(world, inquiry_id))
    assert buttons(message(world, inquiry_id))[:1] == ["draft"]


def test_the_old_card_says_who_moved_it_where_and_has_no_buttons(world: SandboxWorld) -> None:
    _, (channel, ts) = moved(world)
    old = world.slack.message(channel, ts)
    assert texts.status_moved(f"<@{SPECIALIST}>", "Borgerservice") in shown_text(old)
    assert buttons(old) == []


def test_a_move_keeps_the_deadline_and_is_recorded_as_a_correction(world: SandboxWorld) -> None:
    inquiry = world.citizen_writes({"text": QUESTION})
    world.click(SPECIALIST, inquiry.id or 0, "move", option="borgerservice")
    world.submit_modal(SPECIALIST, "move_modal", "Det handler om pas")
    assert world.inquiry(inquiry.id or 0).deadline_at == inquiry.deadline_at
    [event] = events(world, "moved")
    assert (event.actor, event.detail["from_route"], event.detail["to_route"]) == (
        SPECIALIST, "affald", "borgerservice")
    assert event.detail["reason"] == "Det handler om pas"


def test_no_reply_needed_closes_the_inquiry_with_its_reason(world: SandboxWorld) -> None:
    inquiry = world.citizen_writes({"text": QUESTION})
    world.click(SPECIALIST, inquiry.id or 0, "no_reply")
    card = message(world, inquiry.id or 0)
    assert texts.status_no_reply(f"<@{SPECIALIST}>") in shown_text(card)
    assert buttons(card) == []
    assert world.inquiry(inquiry.id or 0).state is InquiryState.CLOSED


def test_a_specialist_who_clicks_approve_is_refused_politely(world: SandboxWorld) -> None:
    inquiry = drafted(world)
    world.click(SPECIALIST, inquiry.id or 0, "approve", on="approval")
    assert [e["text"] for e in world.slack.ephemerals if e["user"] == SPECIALIST] == [
        texts.refusal_not_comms()]


def test_a_refused_approval_sends_nothing_and_is_recorded(world: SandboxWorld) -> None:
    inquiry = drafted(world)
    world.click(SPECIALIST, inquiry.id or 0, "approve", on="approval")
    assert world.replies_seen_by_citizen(inquiry.id or 0) == []
    assert [(e.actor, e.detail["attempted"]) for e in events(world, "refused")] == [
        (SPECIALIST, "approve")]
    assert buttons(message(world, inquiry.id or 0, "approval")) == ["approve", "edit", "reject", "hide"]


def test_a_specialist_cannot_open_the_edit_form(world: SandboxWorld) -> None:
    inquiry = drafted(world)
    world.click(SPECIALIST, inquiry.id or 0, "edit", on="approval")
    assert world.slack.views == {}
    assert [e.detail["attempted"] for e in events(world, "refused")] == ["edit"]


def test_approving_twice_sends_the_reply_once(world: SandboxWorld) -> None:
    inquiry = drafted(world)
    world.click(OFFICER, inquiry.id or 0, "approve", on="approval")
    world.click(OFFICER, inquiry.id or 0, "approve", on="approval")
    assert world.replies_seen_by_citizen(inquiry.id or 0) == [DRAFT]
    assert [e["text"] for e in world.slack.ephemerals] == [texts.refusal_state("answered")]


def test_two_officers_approving_at_the_same_moment_send_once(world: SandboxWorld) -> None:
    inquiry = drafted(world)
    clicks = [threading.Thread(target=world.click, args=(officer, inquiry.id or 0, "approve", "approval"))
              for officer in OFFICERS]
    for click in clicks:
        click.start()
    for click in clicks:
        click.join()
    assert world.replies_seen_by_citizen(inquiry.id or 0) == [DRAFT]
    [loser] = world.slack.ephemerals
    assert loser["text"] in (texts.refusal_state("sending"), texts.refusal_state("answered"))
