"""Intake that never stops for one bad item and never hangs (issue 13), through the whole
product on loopback: the Graph, LinkedIn and X emulators, fake Slack and the real clients."""

from __future__ import annotations

from sqlmodel import select

from bot.demo.world import SandboxWorld
from bot.models import Inquiry, PollCursor

QUESTION = "Hvornår åbner svømmehallen igen efter renoveringen?"


def stored(world: SandboxWorld, platform: str, external_id: str) -> int:
    with world.store.session() as session:
        return len(session.exec(select(Inquiry).where(
            Inquiry.platform == platform, Inquiry.external_id == external_id)).all())


def cursors(world: SandboxWorld, platform: str) -> dict[str, str]:
    with world.store.session() as session:
        rows = session.exec(select(PollCursor).where(PollCursor.platform == platform)).all()
    return {row.stream: row.position for row in rows}


# -- visitor posts ------------------------------------------------------------------------


def test_a_visitor_post_on_the_page_is_stored_as_an_inquiry(world: SandboxWorld) -> None:
    post = world.graph.add_post("Der ligger glasskår på legepladsen i Byparken",
                                author_id="7001", author_name="Karen")
    world.poll()
    assert world.inquiry_for("facebook", post).kind.value == "post"


def test_a_visitor_post_leaves_messenger_polled(world: SandboxWorld) -> None:
    world.graph.add_post("Hvem tømmer skraldespanden ved søen?", author_id="7002", author_name="Ole")
    _, message = world.citizens.write({"platform": "facebook", "kind": "message", "text": QUESTION})
    world.poll()
    assert stored(world, "facebook", message) == 1
