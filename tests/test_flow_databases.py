"""The whole chat flow on each supported database (PostgreSQL when its URL is set)."""

from __future__ import annotations

from bot import texts
from bot.chat.slack_blocks import REJECT_CALLBACK
from bot.demo.world import OFFICERS, SandboxWorld
from bot.store import Store
from tests.conftest import RULES_FILE
from tests.flow_support import DRAFT, QUESTION, drafted, thread_notes

COMMENT = "Skriv venligst, hvornår borgeren kan forvente svar."


def test_an_approved_draft_reaches_the_citizen_once_on_every_database(store: Store) -> None:
    world = SandboxWorld(str(store.engine.url), RULES_FILE, store=store)
    try:
        inquiry = drafted(world)
        world.click(OFFICERS[0], inquiry.id or 0, "approve", on="approval")
        world.click(OFFICERS[1], inquiry.id or 0, "approve", on="approval")
        assert world.replies_seen_by_citizen(inquiry.id or 0) == [DRAFT]
    finally:
        world.close()


def test_three_rejections_in_a_row_each_reach_their_thread_on_every_database(store: Store) -> None:
    """A note is keyed by something never handed out again: SQLite reuses the id of a deleted
    row, so a key made of the follow-up's id was skipped as "already posted" for the 2nd note."""
    world = SandboxWorld(str(store.engine.url), RULES_FILE, store=store)
    try:
        inquiries = [drafted(world, text=f"{QUESTION} ({number})") for number in range(3)]
        for inquiry in inquiries:
            world.click(OFFICERS[0], inquiry.id or 0, "reject", on="approval")
            world.submit_modal(OFFICERS[0], REJECT_CALLBACK, COMMENT)
        expected = texts.rejected_in_thread(f"<@{OFFICERS[0]}>", COMMENT)
        assert [thread_notes(world, inquiry.id or 0) for inquiry in inquiries] == [[expected]] * 3
    finally:
        world.close()
