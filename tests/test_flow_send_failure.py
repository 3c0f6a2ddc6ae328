"""After a platform refuses a reply, the officer has a way out from the same approval request:
correct the text and send again, or ask the department for a new draft; the card tells the
platform's real reason. X refuses a post identical to one the account already made (403
"duplicate content", platform-apis.md X; modelled in bot/sandbox/x.py)."""

from __future__ import annotations

from bot import texts
from bot.chat.slack_blocks import EDIT_CALLBACK, REJECT_CALLBACK
from bot.demo.world import SandboxWorld
from bot.models import InquiryState
from tests.flow_support import OFFICER, QUESTION, buttons, drafted, message, shown_text

CORRECTED = "Hej Anna, vi henter storskraldet på torsdag. Venlig hilsen Affald og genbrug"


def refused_as_duplicate(world: SandboxWorld) -> int:
    first = drafted(world, text=f"{QUESTION} (1)", platform="x", kind="mention")
    world.click(OFFICER, first.id or 0, "approve", on="approval")
    second = drafted(world, text=f"{QUESTION} (2)", platform="x", kind="mention")
    world.click(OFFICER, second.id or 0, "approve", on="approval")
    assert world.inquiry(second.id or 0).state is InquiryState.SEND_FAILED
    return second.id or 0


def test_a_duplicate_on_x_shows_the_real_reason_on_the_approval_request(world: SandboxWorld) -> None:
    inquiry_id = refused_as_duplicate(world)
    assert texts.send_failure("duplicate") in shown_text(message(world, inquiry_id, "approval"))
    assert "allerede er sendt" not in shown_text(message(world, inquiry_id, "approval"))


def test_a_refused_reply_can_be_corrected_and_sent_again_from_the_approval_request(world: SandboxWorld) -> None:
    inquiry_id = refused_as_duplicate(world)
    assert {"retry", "edit", "reject"} <= set(buttons(message(world, inquiry_id, "approval")))
    world.click(OFFICER, inquiry_id, "edit", on="approval")
    world.submit_modal(OFFICER, EDIT_CALLBACK, CORRECTED)
    assert world.replies_seen_by_citizen(inquiry_id) == [CORRECTED]


def test_after_a_refused_send_the_officer_can_ask_the_department_for_a_new_draft(world: SandboxWorld) -> None:
    inquiry_id = refused_as_duplicate(world)
    world.click(OFFICER, inquiry_id, "reject", on="approval")
    world.submit_modal(OFFICER, REJECT_CALLBACK, "Skriv svaret med andre ord")
    assert world.inquiry(inquiry_id).state is InquiryState.POSTED
