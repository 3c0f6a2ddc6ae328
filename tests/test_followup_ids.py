"""A note is posted once per follow-up id, so ids must never come back: on SQLite a table
without AUTOINCREMENT hands the id of a deleted (posted) row to the next note, and the
outbox then takes that new note for one already posted."""

from __future__ import annotations

from bot import texts
from bot.demo.world import SandboxWorld
from tests.flow_support import comms_history


def test_two_notices_one_after_the_other_both_reach_the_unit(world: SandboxWorld) -> None:
    world.workflow.intake.stop_account("facebook", "1", "token expired")
    world.workflow.intake.stop_account("linkedin", "2", "token expired")
    shown = [m.get("text") for m in comms_history(world)]
    assert texts.account_stopped("facebook", "1") in shown
    assert texts.account_stopped("linkedin", "2") in shown
