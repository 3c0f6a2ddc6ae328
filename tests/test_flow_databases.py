"""The whole chat flow on each supported database (PostgreSQL when its URL is set)."""

from __future__ import annotations

from bot.demo.world import OFFICERS, SandboxWorld
from bot.store import Store
from tests.conftest import RULES_FILE
from tests.flow_support import DRAFT, drafted


def test_an_approved_draft_reaches_the_citizen_once_on_every_database(store: Store) -> None:
    world = SandboxWorld(str(store.engine.url), RULES_FILE, store=store)
    try:
        inquiry = drafted(world)
        world.click(OFFICERS[0], inquiry.id or 0, "approve", on="approval")
        world.click(OFFICERS[1], inquiry.id or 0, "approve", on="approval")
        assert world.replies_seen_by_citizen(inquiry.id or 0) == [DRAFT]
    finally:
        world.close()
