"""The chat workflow end to end: a citizen writes, a specialist drafts in Slack, the
communication unit approves, and the answer lands on the platform exactly once.

Every step is a signed request into the real Bolt app (`SandboxWorld`); the assertions read
what people would see: the fake Slack's channels and threads, and the platform emulators.
"""

from __future__ import annotations

import pytest

from bot import texts
from bot.chat import slack_blocks as sb
from bot.demo.world import SandboxWorld, specialist_for
from bot.models import InquiryState
from tests.flow_support import (
    DRAFT,
    OFFICER,
    QUESTION,
    buttons,
    channel_name,
    comms_history,
    drafted,
    events,
    message,
    shown_text,
    thread_notes,
)

PLATFORM_KINDS = [("facebook", "comment"), ("facebook", "message"), ("instagram", "comment"),
                  ("instagram", "message"), ("linkedin", "comment"), ("x", "mention"),
                  ("x", "message")]


@pytest.mark.parametrize(("platform", "kind"), PLATFORM_KINDS)
def test_an_approved_thread_draft_reaches_the_citizen_once(
    world: SandboxWorld, platform: str, kind: str
) -> None:
    inquiry = drafted(world, platform=platform, kind=kind)
    world.click(OFFICER, inquiry.id or 0, "approve", on="approval")
    assert world.replies_seen_by_citizen(inquiry.id or 0) == [DRAFT]


@pytest.mark.parametrize(("platform", "kind"), PLATFORM_KINDS)
def test_a_new_inquiry_is_one_card_in_its_departments_channel(
    world: SandboxWorld, platform: str, kind: str
) -> None:
    inquiry = world.citizen_writes({"platform": platform, "kind": kind, "text": QUESTION})
    channel, _ = world.message_of(inquiry.id or 0)
    history = world.slack.history(channel)
    assert channel_name(world, channel) == "borgerbot-affald"
    assert len(history) == 1
    assert "Sofaen står stadig ude" in shown_text(history[0])
    assert buttons(history[0]) == ["draft", "move", "no_reply", "answer", "hide"]


def test_a_thread_draft_is_posted_for_approval_with_its_author(world: SandboxWorld) -> None:
    inquiry = drafted(world)
    request = message(world, inquiry.id or 0, "approval")
    assert channel_name(world, world.message_of(inquiry.id or 0, "approval")[0]) == (
        "borgerbot-godkendelse")
    assert DRAFT in shown_text(request)
    assert f"<@{specialist_for('affald')}>" in shown_text(request)
    assert buttons(request) == ["approve", "edit", "reject", "hide"]


def test_the_card_shows_who_drafted_and_that_it_awaits_approval(world: SandboxWorld) -> None:
    inquiry = drafted(world)
    card = shown_text(message(world, inquiry.id or 0))
    assert texts.status_drafted(f"<@{specialist_for('affald')}>") in card


def test_approval_marks_both_messages_answered_by_the_officer(world: SandboxWorld) -> None:
    inquiry = drafted(world)
    world.click(OFFICER, inquiry.id or 0, "approve", on="approval")
    for on in ("card", "approval"):
        shown = message(world, inquiry.id or 0, on)
        assert f"Besvaret – godkendt af <@{OFFICER}>" in shown_text(shown)
        assert buttons(shown) == []


def test_the_answered_card_links_to_the_reply_on_the_platform(world: SandboxWorld) -> None:
    inquiry = drafted(world, platform="x", kind="mention")
    world.click(OFFICER, inquiry.id or 0, "approve", on="approval")
    reply_id = world.inquiry(inquiry.id or 0).reply_external_id
    assert f"/status/{reply_id}|" in shown_text(message(world, inquiry.id or 0))


def test_the_draft_button_opens_a_form_with_greeting_and_sign_off(world: SandboxWorld) -> None:
    inquiry = world.citizen_writes({"text": QUESTION})
    world.click(specialist_for(inquiry.route), inquiry.id or 0, "draft")
    form = next(iter(world.slack.views.values()))
    box = next(b for b in form["blocks"] if b["type"] == "input")
    setup = world.config.setup
    greeting = setup.greeting.replace("{navn}", inquiry.author_name.split()[0])  # the citizen's first name
    sign_off = setup.signoff.replace("{fornavn}", "Specialist")  # the writer's first name
    assert box["element"]["initial_value"] == f"{greeting}\n\n\n\n{sign_off}"


def test_a_draft_written_in_the_form_goes_for_approval(world: SandboxWorld) -> None:
    inquiry = world.citizen_writes({"text": QUESTION})
    world.click(specialist_for(inquiry.route), inquiry.id or 0, "draft")
    world.submit_modal(specialist_for(inquiry.route), "draft_modal", DRAFT)
    assert DRAFT in shown_text(message(world, inquiry.id or 0, "approval"))


def test_an_empty_form_draft_is_refused_inside_the_form(world: SandboxWorld) -> None:
    inquiry = world.citizen_writes({"text": QUESTION})
    world.click(specialist_for(inquiry.route), inquiry.id or 0, "draft")
    world.submit_modal(specialist_for(inquiry.route), "draft_modal", "   ")
    assert world.inquiry(inquiry.id or 0).state is InquiryState.POSTED


def test_an_edited_draft_is_sent_as_edited(world: SandboxWorld) -> None:
    inquiry = drafted(world)
    world.click(OFFICER, inquiry.id or 0, "edit", on="approval")
    world.submit_modal(OFFICER, "edit_modal", DRAFT + " Ring gerne på 43 66 66 66.")
    assert world.replies_seen_by_citizen(inquiry.id or 0) == [DRAFT + " Ring gerne på 43 66 66 66."]


def test_the_edit_form_holds_the_current_draft(world: SandboxWorld) -> None:
    inquiry = drafted(world)
    world.click(OFFICER, inquiry.id or 0, "edit", on="approval")
    form = next(iter(world.slack.views.values()))
    box = next(b for b in form["blocks"] if b["type"] == "input")
    assert box["element"]["initial_value"] == DRAFT


def test_a_rejection_comment_appears_in_the_department_thread(world: SandboxWorld) -> None:
    inquiry = drafted(world)
    world.click(OFFICER, inquiry.id or 0, "reject", on="approval")
    world.submit_modal(OFFICER, "reject_modal", "Nævn gerne at de kan ringe til os")
    assert thread_notes(world, inquiry.id or 0) == [
        texts.rejected_in_thread(f"<@{OFFICER}>", "Nævn gerne at de kan ringe til os")]


def test_a_rejected_draft_sends_nothing_and_keeps_the_deadline(world: SandboxWorld) -> None:
    inquiry = drafted(world)
    world.click(OFFICER, inquiry.id or 0, "reject", on="approval")
    world.submit_modal(OFFICER, "reject_modal", "For kort")
    after = world.inquiry(inquiry.id or 0)
    assert (after.state, after.deadline_at) == (InquiryState.POSTED, inquiry.deadline_at)
    assert world.replies_seen_by_citizen(inquiry.id or 0) == []
    assert buttons(message(world, inquiry.id or 0))[:1] == ["draft"]


def test_a_new_thread_draft_after_rejection_goes_for_approval_again(world: SandboxWorld) -> None:
    inquiry = drafted(world)
    world.click(OFFICER, inquiry.id or 0, "reject", on="approval")
    world.submit_modal(OFFICER, "reject_modal", "For kort")
    world.reply_in_thread(specialist_for(inquiry.route), inquiry.id or 0, DRAFT + " Mvh.")
    request = message(world, inquiry.id or 0, "approval")
    assert DRAFT + " Mvh." in shown_text(request)
    assert buttons(request) == ["approve", "edit", "reject", "hide"]


def test_an_officer_can_answer_directly_from_the_card(world: SandboxWorld) -> None:
    inquiry = world.citizen_writes({"text": QUESTION})
    world.click(OFFICER, inquiry.id or 0, "answer")
    world.submit_modal(OFFICER, "answer_modal", DRAFT)
    assert world.replies_seen_by_citizen(inquiry.id or 0) == [DRAFT]



def test_an_urgent_inquiry_is_shown_to_the_communication_unit_at_once(world: SandboxWorld) -> None:
    inquiry = world.citizen_writes({"text": "Der er brand i skraldespanden ved genbrugspladsen, hvem gør noget?"})
    [alert] = comms_history(world)
    assert inquiry.urgent and inquiry.route != "kommunikation"
    assert str(alert["text"]).startswith("🚨 Hastende henvendelse")


def test_the_urgent_alert_names_who_is_on_call(world: SandboxWorld) -> None:
    world.citizen_writes({"text": "Der er brand i skraldespanden ved genbrugspladsen, hvem gør noget?"})
    [alert] = comms_history(world)
    assert "Vagthavende: Vagthavende kommunikationsmedarbejder" in str(alert["text"])


def test_an_urgent_card_in_the_department_links_the_crisis_plan(world: SandboxWorld) -> None:
    inquiry = world.citizen_writes({"text": "Der er brand i skraldespanden ved genbrugspladsen, hvem gør noget?"})
    card = shown_text(message(world, inquiry.id or 0))
    assert "<https://www.albertslund.dk/beredskab|kommunens beredskabsplan>" in card


def test_an_urgent_inquiry_for_the_unit_itself_is_not_announced_twice(world: SandboxWorld) -> None:
    inquiry = world.citizen_writes({"text": "Der er vandrørsbrud på Stationsvej og vandet fosser ud. Hvornår kommer I?"})
    assert inquiry.urgent and inquiry.route == "kommunikation"
    assert len(comms_history(world)) == 1


def hide_with_reason(world: SandboxWorld, inquiry_id: int, reason: str) -> None:
    world.click(OFFICER, inquiry_id, "hide")
    world.fill_in(OFFICER, sb.HIDE_CALLBACK, {
        sb.HIDE_REASON_BLOCK: {sb.HIDE_REASON_INPUT: reason},
        sb.COMMENT_BLOCK: {sb.COMMENT_INPUT: "Groft sprog om en nabo"},
    })


def test_an_officer_can_hide_a_comment_on_the_platform_with_a_reason(world: SandboxWorld) -> None:
    inquiry = world.citizen_writes({"text": QUESTION})
    hide_with_reason(world, inquiry.id or 0, "offensive")
    assert world.graph.get_node(inquiry.external_id)["hidden"]
    assert texts.status_hidden(f"<@{OFFICER}>") in shown_text(message(world, inquiry.id or 0))


def test_hiding_records_who_why_and_what_the_comment_said(world: SandboxWorld) -> None:
    inquiry = world.citizen_writes({"text": QUESTION})
    hide_with_reason(world, inquiry.id or 0, "offensive")
    [hidden] = events(world, "hidden")
    assert (hidden.actor, hidden.detail["reason"]) == (OFFICER, "offensive")
    assert hidden.detail["note"] == "Groft sprog om en nabo"
    assert hidden.detail["snapshot"] == QUESTION


def test_a_comment_is_not_hidden_without_a_reason_from_the_debate_rules(world: SandboxWorld) -> None:
    inquiry = world.citizen_writes({"text": QUESTION})
    hide_with_reason(world, inquiry.id or 0, "disagreement")
    assert not world.graph.get_node(inquiry.external_id)["hidden"]


def test_a_specialist_cannot_hide_a_comment(world: SandboxWorld) -> None:
    inquiry = world.citizen_writes({"text": QUESTION})
    world.click(specialist_for(inquiry.route), inquiry.id or 0, "hide")
    assert not world.graph.get_node(inquiry.external_id)["hidden"]
    assert world.slack.ephemerals[-1]["text"] == texts.refusal_not_comms()


def test_slack_redelivering_a_thread_message_makes_no_second_draft(world: SandboxWorld) -> None:
    inquiry = world.citizen_writes({"text": QUESTION})
    channel, ts = world.message_of(inquiry.id or 0)
    said = world.slack.say(channel, specialist_for(inquiry.route), DRAFT, thread_ts=ts)
    world.dispatch(world.requests.message_event(said))
    redelivered = world.requests.event({"channel_type": "channel", "event_ts": said["ts"], **said},
                                       retry_num=1)
    world.dispatch(redelivered)
    assert len(events(world, "drafted")) == 1
