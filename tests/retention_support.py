"""One inquiry taken through every path that stores free text, each with a word of its own,
for the retention tests that then look for those words in the database and in chat."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from bot.chat import slack_blocks as sb
from bot.demo.clock import SteppedClock
from bot.demo.world import OFFICERS, SandboxWorld, specialist_for

OFFICER = OFFICERS[0]
STEP = timedelta(minutes=1)


@dataclass(frozen=True)
class Marked:
    inquiry_id: int
    markers: dict[str, str]
    """Where each word was written -> the word (ASCII: JSON columns escape other letters)."""


def _words() -> dict[str, str]:
    run = uuid.uuid4().hex[:8]
    paths = ("name", "text", "post", "draft", "thread_edit", "rejection_posted", "rejection_queued",
             "move_reason", "hide_note", "modal_draft", "approved_edit")
    return {path: f"qz{path.replace('_', '')}{run}" for path in paths}


def marked_history(world: SandboxWorld, clock: SteppedClock) -> Marked:
    """A comment drafted, edited, rejected twice (the first note refused by Slack, so it
    waits in the database), moved with a reason, hidden with a note, drafted in the form
    and approved with an edit: answered, and with something typed at every step."""
    words = _words()
    post = world.graph.add_post(f"Nyt om storskrald {words['post']}")
    comment = world.graph.add_comment(post, f"Hvornår henter I storskrald? {words['text']}",
                                      author_id="9100001", author_name=f"Borger {words['name']}")
    world.poll()
    world.sweep()
    inquiry_id = world.inquiry_for("facebook", comment).id or 0
    first = specialist_for("affald")

    def later() -> None:
        clock.advance(STEP)

    world.reply_in_thread(first, inquiry_id, f"Udkast om storskrald {words['draft']}")
    later()
    world.edit_in_thread(first, inquiry_id, f"Rettet udkast {words['thread_edit']}")
    later()
    world.slack.fail_next("chat.postMessage", "fatal_error")  # the note waits as a follow-up
    _reject(world, inquiry_id, f"Husk hilsen {words['rejection_queued']}")
    later()
    world.reply_in_thread(first, inquiry_id, f"Nyt udkast {words['draft']}")
    later()
    _reject(world, inquiry_id, f"Stadig ikke godt {words['rejection_posted']}")
    later()
    world.click(first, inquiry_id, "move", option="borgerservice")
    world.submit_modal(first, "move_modal", f"Handler om pas {words['move_reason']}")
    later()
    world.click(OFFICER, inquiry_id, "hide")
    world.fill_in(OFFICER, sb.HIDE_CALLBACK, {
        sb.HIDE_REASON_BLOCK: {sb.HIDE_REASON_INPUT: "personal_data"},
        sb.COMMENT_BLOCK: {sb.COMMENT_INPUT: f"Skjult pga navn {words['hide_note']}"},
    })
    later()
    second = specialist_for("borgerservice")
    world.click(second, inquiry_id, "draft")
    world.submit_modal(second, "draft_modal", f"Svar fra formularen {words['modal_draft']}")
    later()
    world.click(OFFICER, inquiry_id, "edit", on="approval")
    world.submit_modal(OFFICER, "edit_modal", f"Hej, vi svarer her {words['approved_edit']}")
    return Marked(inquiry_id, words)


def _reject(world: SandboxWorld, inquiry_id: int, comment: str) -> None:
    world.click(OFFICER, inquiry_id, "reject", on="approval")
    world.submit_modal(OFFICER, "reject_modal", comment)
