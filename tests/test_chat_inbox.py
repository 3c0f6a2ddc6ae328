"""A specialist's thread reply is not lost when the database is briefly unavailable: the
sweep reads it back from the thread (see `bot.workflow.chat_inbox`), exactly once, and an
edit of a reply the database never took becomes the draft."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import text
from sqlmodel import col, select

from bot.demo.clock import SteppedClock
from bot.demo.world import BOT_TOKEN, SandboxWorld, specialist_for
from bot.models import Draft, Inquiry
from bot.store import Store, make_engine, upgrade
from bot.workflow.chat_inbox import GRACE
from tests.conftest import POSTGRES_URL, REQUIRE_POSTGRES, RULES_FILE
from tests.flow_support import DRAFT, QUESTION, message, shown_text
from tests.outage_support import PostgresProxy, short_busy_wait, sqlite_locked

SPECIALIST = specialist_for("affald")
FIXED = DRAFT + " Husk at stille sofaen ved skel."
LATER = GRACE + timedelta(minutes=1)  # the sweep's clock, once the listener had its chance

Outage = Callable[[], AbstractContextManager[None]]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def outage_world(request: pytest.FixtureRequest, tmp_path: Path,
                 stepped_clock: SteppedClock) -> Iterator[tuple[SandboxWorld, Outage]]:
    """The product on a stepped clock, and a switch that makes its database unavailable:
    SQLite locked by another connection, or PostgreSQL refusing and cutting connections."""
    if request.param == "sqlite":
        path = tmp_path / "world.db"
        engine = make_engine(f"sqlite:///{path}")
        short_busy_wait(engine)
        upgrade(engine)
        world = SandboxWorld(f"sqlite:///{path}", RULES_FILE, clock=stepped_clock, store=Store(engine))
        yield world, lambda: sqlite_locked(path)
        world.close()
        engine.dispose()
        return
    yield from _postgres_outage_world(stepped_clock)


def _postgres_outage_world(clock: SteppedClock) -> Iterator[tuple[SandboxWorld, Outage]]:
    if not POSTGRES_URL:
        if REQUIRE_POSTGRES:
            pytest.fail("BORGERBOT_REQUIRE_POSTGRES=1 but BORGERBOT_TEST_POSTGRES_URL is not set")
        pytest.skip("PostgreSQL half skipped: set BORGERBOT_TEST_POSTGRES_URL to run it")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    proxy = PostgresProxy(POSTGRES_URL)
    separator = "&" if "?" in POSTGRES_URL else "?"
    url = proxy.url(f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}")
    engine = make_engine(url)
    upgrade(engine)

    @contextmanager
    def restarting() -> Iterator[None]:
        proxy.down()
        yield
        proxy.up()

    world = SandboxWorld(url, RULES_FILE, clock=clock, store=Store(engine))
    try:
        yield world, restarting
    finally:
        world.close()
        engine.dispose()
        proxy.down()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def drafts(world: SandboxWorld, inquiry_id: int) -> list[str]:
    with world.store.session() as session:
        return list(session.exec(select(Draft.text).where(Draft.inquiry_id == inquiry_id)
                                 .order_by(col(Draft.id))).all())


def approval_requests(world: SandboxWorld, inquiry_id: int) -> int:
    """How many approval requests for the inquiry the communication unit has been shown."""
    return sum(1 for channel in world.slack.workspace.channels.values()
               for m in channel.messages.values()
               if (m.get("metadata") or {}).get("event_payload", {}).get("key") == f"approval:{inquiry_id}")


def lost_reply(world: SandboxWorld, inquiry: Inquiry, outage: Outage, reply: str = DRAFT) -> dict[str, Any]:
    """The specialist replies in the thread and Slack delivers the event while the database
    is unavailable; returns the message as Slack holds it."""
    channel, ts = world.message_of(inquiry.id or 0)
    with outage():
        said = world.slack.say(channel, SPECIALIST, reply, thread_ts=ts)
        world.dispatch(world.requests.message_event(said))
    return said


def test_a_reply_lost_to_an_unavailable_database_becomes_the_draft_after_one_sweep(
        outage_world: tuple[SandboxWorld, Outage], stepped_clock: SteppedClock) -> None:
    world, outage = outage_world
    inquiry = world.citizen_writes({"text": QUESTION})
    lost_reply(world, inquiry, outage)
    stepped_clock.advance(LATER)
    world.sweep()
    world.sweep()
    assert drafts(world, inquiry.id or 0) == [DRAFT]
    assert approval_requests(world, inquiry.id or 0) == 1
    assert DRAFT in shown_text(message(world, inquiry.id or 0, "approval"))


def test_an_edit_of_a_reply_the_database_never_took_becomes_the_draft(
        outage_world: tuple[SandboxWorld, Outage], stepped_clock: SteppedClock) -> None:
    world, outage = outage_world
    inquiry = world.citizen_writes({"text": QUESTION})
    lost_reply(world, inquiry, outage)
    world.edit_in_thread(SPECIALIST, inquiry.id or 0, FIXED)
    stepped_clock.advance(LATER)
    world.sweep()
    assert drafts(world, inquiry.id or 0) == [FIXED]
    assert FIXED in shown_text(message(world, inquiry.id or 0, "approval"))


def test_a_reply_edited_while_both_its_events_were_lost_comes_back_as_edited(
        outage_world: tuple[SandboxWorld, Outage], stepped_clock: SteppedClock) -> None:
    world, outage = outage_world
    inquiry = world.citizen_writes({"text": QUESTION})
    said = lost_reply(world, inquiry, outage)
    with outage():
        edited = world.slack.edit(said["channel"], said["ts"], SPECIALIST, FIXED)
        world.dispatch(world.requests.message_event(edited))
    stepped_clock.advance(LATER)
    world.sweep()
    assert drafts(world, inquiry.id or 0) == [FIXED]


def test_a_newer_reply_lost_after_a_draft_replaces_it_and_the_older_stays_put(
        outage_world: tuple[SandboxWorld, Outage], stepped_clock: SteppedClock) -> None:
    world, outage = outage_world
    inquiry = world.citizen_writes({"text": QUESTION})
    world.reply_in_thread(SPECIALIST, inquiry.id or 0, DRAFT)
    lost_reply(world, inquiry, outage, FIXED)
    stepped_clock.advance(LATER)
    world.sweep()
    world.sweep()
    assert drafts(world, inquiry.id or 0) == [DRAFT, FIXED]


def test_the_newest_of_many_undelivered_replies_is_found_past_the_first_page(
        clocked_world: SandboxWorld, stepped_clock: SteppedClock) -> None:
    world = clocked_world
    inquiry = world.citizen_writes({"text": QUESTION})
    channel, ts = world.message_of(inquiry.id or 0)
    for number in range(250):  # Slack never delivered these (Socket Mode was down)
        world.slack.say(channel, SPECIALIST, f"Note {number}", thread_ts=ts)
    world.slack.say(channel, SPECIALIST, DRAFT, thread_ts=ts)
    stepped_clock.advance(LATER)
    world.sweep()
    assert drafts(world, inquiry.id or 0) == [DRAFT]
    assert len(world.slack.calls_to("conversations.replies")) >= 2


def test_a_fresh_reply_is_left_to_the_listener_for_a_grace_period(clocked_world: SandboxWorld) -> None:
    world = clocked_world
    inquiry = world.citizen_writes({"text": QUESTION})
    channel, ts = world.message_of(inquiry.id or 0)
    world.slack.say(channel, SPECIALIST, DRAFT, thread_ts=ts)
    world.sweep()
    assert drafts(world, inquiry.id or 0) == []


def test_fake_slack_replies_window_excludes_its_bounds_and_keeps_the_parent_first(
        world: SandboxWorld) -> None:
    channel = next(iter(world.slack.workspace.channels))
    parent = world.slack.say(channel, SPECIALIST, "Emne")
    first, second = (world.slack.say(channel, SPECIALIST, t, thread_ts=parent["ts"]) for t in ("a", "b"))
    client = WebClient(token=BOT_TOKEN, base_url=world.slack.base_url)
    after = client.conversations_replies(channel=channel, ts=parent["ts"], oldest=first["ts"])
    assert [m["text"] for m in after["messages"]] == ["Emne", "b"]
    both = client.conversations_replies(channel=channel, ts=parent["ts"], oldest=first["ts"], inclusive=True)
    assert [m["text"] for m in both["messages"]] == ["Emne", "a", "b"]
    assert second["ts"] > first["ts"]
