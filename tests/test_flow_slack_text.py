"""What the citizen receives when a specialist drafts in Slack: the plain text the approval
request showed, never Slack's wire markup (`&amp;`, `<https://…|label>`, `<@U…>`, `:emoji:`).

The fake Slack stores a typed message the way a Slack client sends it (escaped, wrapped and
with a rich_text block: bot/sandbox/slack_composer.py), so these tests read what Slack's
documented behaviour gives our listeners, not what we typed.
"""

from __future__ import annotations

from bot import texts
from bot.demo.world import OFFICER_NAMES, OFFICERS, SandboxWorld, specialist_for
from bot.models import InquiryState
from tests.flow_support import OFFICER, QUESTION, message, shown_text

TYPED = "Hej Anna, se vores side & ring til os <3 [her](https://albertslund.dk/affald?side=1&type=stor)"
PLAIN = "Hej Anna, se vores side & ring til os <3 her (https://albertslund.dk/affald?side=1&type=stor)"


def _drafted(world: SandboxWorld, typed: str) -> int:
    inquiry = world.citizen_writes({"platform": "facebook", "kind": "comment", "text": QUESTION})
    world.reply_in_thread(specialist_for(inquiry.route), inquiry.id or 0, typed)
    return inquiry.id or 0


def _as_officer_reads(mrkdwn: str) -> str:
    """The approval request as Slack renders it: its three entities shown as characters."""
    return mrkdwn.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def test_a_draft_with_an_ampersand_and_a_labelled_link_reaches_the_citizen_as_plain_text(
        world: SandboxWorld) -> None:
    inquiry_id = _drafted(world, TYPED)
    world.click(OFFICER, inquiry_id, "approve", on="approval")
    assert world.replies_seen_by_citizen(inquiry_id) == [PLAIN]


def test_the_approval_request_shows_the_text_the_citizen_will_get(world: SandboxWorld) -> None:
    inquiry_id = _drafted(world, TYPED)
    assert PLAIN in _as_officer_reads(shown_text(message(world, inquiry_id, "approval")))


def test_a_mentioned_colleague_becomes_their_display_name(world: SandboxWorld) -> None:
    inquiry_id = _drafted(world, f"Min kollega @{OFFICERS[1]} ringer dig op i morgen.")
    world.click(OFFICER, inquiry_id, "approve", on="approval")
    assert world.replies_seen_by_citizen(inquiry_id) == [
        f"Min kollega {OFFICER_NAMES[OFFICERS[1]]} ringer dig op i morgen."]


def test_an_emoji_shortcode_becomes_unicode_and_bold_markers_disappear(world: SandboxWorld) -> None:
    inquiry_id = _drafted(world, "Vi henter sofaen *på torsdag* :slightly_smiling_face:")
    world.click(OFFICER, inquiry_id, "approve", on="approval")
    assert world.replies_seen_by_citizen(inquiry_id) == ["Vi henter sofaen på torsdag 🙂"]


def test_a_draft_mentioning_here_is_refused_with_a_danish_note(world: SandboxWorld) -> None:
    inquiry_id = _drafted(world, "@here kan nogen svare borgeren?")
    assert world.inquiry(inquiry_id).state is InquiryState.POSTED
    assert [e["text"] for e in world.slack.ephemerals] == [texts.draft_has_internal_mention("@here")]


def test_a_mention_of_someone_slack_cannot_name_is_refused(world: SandboxWorld) -> None:
    inquiry = world.citizen_writes({"platform": "facebook", "kind": "comment", "text": QUESTION})
    world.slack.fail_next("users.info", "user_not_found")
    world.reply_in_thread(specialist_for(inquiry.route), inquiry.id or 0, f"Spørg @{OFFICERS[1]}")
    assert world.inquiry(inquiry.id or 0).state is InquiryState.POSTED
    assert [e["text"] for e in world.slack.ephemerals] == [texts.draft_has_unknown_person()]


def test_an_edited_draft_is_converted_like_a_new_one(world: SandboxWorld) -> None:
    inquiry_id = _drafted(world, "Vi ringer.")
    world.edit_in_thread(specialist_for(world.inquiry(inquiry_id).route), inquiry_id, TYPED)
    world.click(OFFICER, inquiry_id, "approve", on="approval")
    assert world.replies_seen_by_citizen(inquiry_id) == [PLAIN]


def test_the_edit_form_holds_the_plain_draft(world: SandboxWorld) -> None:
    inquiry_id = _drafted(world, TYPED)
    world.click(OFFICER, inquiry_id, "edit", on="approval")
    form = next(iter(world.slack.views.values()))
    box = next(b for b in form["blocks"] if b["type"] == "input")
    assert box["element"]["initial_value"] == PLAIN


MODAL_TEXT = "Se <https://x.dk|her> &amp; ring & skriv <@U1> :smile: *nu*"


def test_text_typed_in_the_edit_form_reaches_the_platform_unchanged(world: SandboxWorld) -> None:
    """plain_text_input values are not mrkdwn: Slack does not escape them, so neither do we
    undo escaping or read `<…>` as markup in them."""
    inquiry_id = _drafted(world, TYPED)
    world.click(OFFICER, inquiry_id, "edit", on="approval")
    world.submit_modal(OFFICER, "edit_modal", MODAL_TEXT)
    assert world.replies_seen_by_citizen(inquiry_id) == [MODAL_TEXT]


def test_text_typed_in_the_answer_form_reaches_the_platform_unchanged(world: SandboxWorld) -> None:
    inquiry = world.citizen_writes({"platform": "facebook", "kind": "comment", "text": QUESTION})
    world.click(OFFICER, inquiry.id or 0, "answer")
    world.submit_modal(OFFICER, "answer_modal", MODAL_TEXT)
    assert world.replies_seen_by_citizen(inquiry.id or 0) == [MODAL_TEXT]
