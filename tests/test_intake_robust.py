"""Intake that never stops for one bad item and never hangs (issue 13), through the whole
product on loopback: the Graph, LinkedIn and X emulators, fake Slack and the real clients."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from sqlmodel import select

from bot.demo.world import SandboxWorld
from bot.errors import PlatformError
from bot.models import Inquiry, PollCursor
from bot.platforms.facebook import FacebookClient
from bot.platforms.http import DEFAULT_LIMITS, Limits
from bot.sandbox.graph import GraphEmulator
from tests.emulator_support import NO_WAIT, serve
from tests.flow_support import comms_history

QUESTION = "Hvornår åbner svømmehallen igen efter renoveringen?"


@pytest.fixture(scope="module")
def running() -> Iterator[GraphEmulator]:
    yield from serve(GraphEmulator())


@pytest.fixture
def graph(running: GraphEmulator) -> GraphEmulator:
    running.reset()
    return running


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


# -- one bad item is set aside, the rest goes on --------------------------------------------


def test_a_comment_of_an_unexpected_shape_is_set_aside_and_the_unit_told(
    world: SandboxWorld, caplog: pytest.LogCaptureFixture,
) -> None:
    post = world.graph.add_post("Ny cykelsti langs åen")
    bad = world.graph.add_comment(post, "Hvornår åbner den?", author_id="7101", author_name="Jens")
    world.graph.malform(bad, "from", "Jens")  # an object in Graph's docs, a string here
    with caplog.at_level(logging.ERROR, logger="bot"):
        world.poll()
    assert any(bad in r.getMessage() and "set aside" in r.getMessage() for r in caplog.records)
    assert any(bad in m["text"] and "kunne ikke modtages" in m["text"] for m in comms_history(world))


def test_the_comments_beside_an_unreadable_one_are_stored(world: SandboxWorld) -> None:
    post = world.graph.add_post("Ny cykelsti langs åen")
    bad = world.graph.add_comment(post, "Hvornår åbner den?", author_id="7101", author_name="Jens")
    good = world.graph.add_comment(post, QUESTION, author_id="7102", author_name="Mette")
    world.graph.malform(bad, "created_time", {"date": "i går"})
    world.poll()
    assert stored(world, "facebook", good) == 1


def test_a_list_answer_of_an_unexpected_form_leaves_the_other_streams_polled(
    world: SandboxWorld,
) -> None:
    world.graph.fail_next(200, {"data": {"not": "a list"}}, route="GET /{id}/feed")
    _, message = world.citizens.write({"platform": "facebook", "kind": "message", "text": QUESTION})
    world.poll()
    assert stored(world, "facebook", message) == 1


# -- paging is bounded ---------------------------------------------------------------------


def test_a_self_referring_graph_next_link_ends_the_walk_with_an_error(
    world: SandboxWorld, caplog: pytest.LogCaptureFixture,
) -> None:
    world.citizens.write({"platform": "facebook", "text": QUESTION})
    world.graph.loop_paging()
    with caplog.at_level(logging.ERROR, logger="bot"):
        world.poll()
    assert world.graph.total_requests() <= 8  # two streams of two accounts, a repeat each
    assert any("repeated a paging cursor" in r.getMessage() for r in caplog.records)


def test_a_self_referring_graph_next_link_leaves_the_other_platforms_polled(
    world: SandboxWorld,
) -> None:
    world.graph.loop_paging()
    on_linkedin = world.citizens.write({"platform": "linkedin", "text": QUESTION})[1]
    world.poll()
    assert stored(world, "linkedin", on_linkedin) == 1


def test_an_x_next_token_loop_ends_the_walk_with_an_error(
    world: SandboxWorld, caplog: pytest.LogCaptureFixture,
) -> None:
    world.citizens.write({"platform": "x", "text": QUESTION})
    world.x.loop_next_token()
    with caplog.at_level(logging.ERROR, logger="bot"):
        world.poll()
    assert world.x.total_requests() <= 6
    assert any("repeated a paging cursor" in r.getMessage() for r in caplog.records)


def test_linkedin_paging_that_never_ends_stops_at_the_poll_limits(world: SandboxWorld) -> None:
    world.citizens.write({"platform": "linkedin", "text": QUESTION})
    world.linkedin.loop_paging()
    world.poll()
    assert world.linkedin.total_requests() <= DEFAULT_LIMITS.max_pages + 5


def test_a_page_past_the_size_limit_is_not_read(
    graph: GraphEmulator, caplog: pytest.LogCaptureFixture,
) -> None:
    graph.add_comment(graph.add_post("Opslag"), QUESTION, author_id="7201", author_name="Ib")
    graph.huge_pages(3)
    client = FacebookClient(graph.world.page_id, graph.token, graph.base_url + "v26.0/",
                            limits=Limits(max_bytes=1024 * 1024), retry=NO_WAIT)
    with pytest.raises(PlatformError, match="limit of 1048576"):
        client.fetch_new("comments", "")
    client.close()


def test_a_page_within_the_size_limit_is_read(graph: GraphEmulator) -> None:
    comment = graph.add_comment(graph.add_post("Opslag"), QUESTION, author_id="7201",
                                author_name="Ib")
    graph.huge_pages(0.5)
    client = FacebookClient(graph.world.page_id, graph.token, graph.base_url + "v26.0/",
                            limits=Limits(max_bytes=1024 * 1024), retry=NO_WAIT)
    assert [i.external_id for i in client.fetch_new("comments", "").items] == [comment]
    client.close()
