"""Retention reaches chat: the bot's cards, approval request and thread notes of an
anonymised inquiry are replaced by a short Danish notice, at Slack's pace, and a run that
Slack interrupts resumes at the next without redacting anything twice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from bot import texts
from bot.cli import app
from bot.demo.clock import SteppedClock
from bot.demo.world import BOT_TOKEN, SandboxWorld
from bot.models import ChatPost, utcnow
from bot.retention import RetentionPolicy, RetentionRun, run
from bot.retention_chat import UPDATE_INTERVAL
from bot.store import Store
from tests.conftest import RULES_FILE
from tests.flow_support import shown_text
from tests.history_support import settled_inquiry
from tests.retention_support import Marked, marked_history

LATER = timedelta(days=400)


@pytest.fixture
def world(sqlite_store: Store, tmp_path: Path, stepped_clock: SteppedClock) -> Iterator[SandboxWorld]:
    sandbox = SandboxWorld(f"sqlite:///{tmp_path / 'unused.db'}", RULES_FILE, clock=stepped_clock,
                           store=sqlite_store)
    yield sandbox
    sandbox.close()


def _bot_messages(world: SandboxWorld) -> list[tuple[str, str]]:
    """(channel, ts) of every message the bot posted that Slack still has."""
    with world.store.session() as session:
        posts = session.exec(select(ChatPost)).all()
    return [(p.channel, p.ts) for p in posts if p.ts is not None]


def _shown(world: SandboxWorld, ref: tuple[str, str]) -> str:
    return shown_text(world.slack.message(*ref))


def _retain(world: SandboxWorld, clock: SteppedClock, **options: object) -> RetentionRun:
    return run(world.store, clock(), RetentionPolicy(), world.gateway, pause=lambda _s: None, **options)  # type: ignore[arg-type]


def _history(world: SandboxWorld, clock: SteppedClock) -> Marked:
    marked = marked_history(world, clock)
    clock.advance(LATER)
    return marked


def test_every_card_and_note_that_showed_the_citizen_reads_anonymised(
    world: SandboxWorld, stepped_clock: SteppedClock
) -> None:
    marked = _history(world, stepped_clock)
    _retain(world, stepped_clock)
    shown = "\n".join(_shown(world, ref) for ref in _bot_messages(world))
    assert [path for path, word in marked.markers.items() if word in shown] == []


def test_the_department_card_says_when_it_was_anonymised(world: SandboxWorld, stepped_clock: SteppedClock) -> None:
    marked = _history(world, stepped_clock)
    _retain(world, stepped_clock)
    card = world.slack.message(*world.message_of(marked.inquiry_id))
    assert (card["text"], card["blocks"]) == (texts.chat_anonymised(LATER.days), [])


def test_the_old_card_of_a_move_and_the_rejection_note_in_its_thread_are_redacted(
    world: SandboxWorld, stepped_clock: SteppedClock
) -> None:
    marked = _history(world, stepped_clock)
    before = {ref: _shown(world, ref) for ref in _bot_messages(world)}
    _retain(world, stepped_clock)
    showed_citizen = [ref for ref, text in before.items()
                      if marked.markers["text"] in text or marked.markers["rejection_posted"] in text]
    assert len(showed_citizen) >= 4  # first card, moved card, approval request, rejection note
    assert {_shown(world, ref) for ref in showed_citizen} == {texts.chat_anonymised(LATER.days)}


def test_redactions_are_paced_for_slacks_update_limit(world: SandboxWorld, stepped_clock: SteppedClock) -> None:
    _history(world, stepped_clock)
    pauses: list[float] = []
    done = run(world.store, stepped_clock(), RetentionPolicy(), world.gateway, pause=pauses.append)
    assert done.chat is not None
    assert pauses == [UPDATE_INTERVAL] * (done.chat.redacted - 1)


def _notices(world: SandboxWorld) -> int:
    """How many times Slack stored the anonymised notice, over every version of every message."""
    return sum(1 for ref in _bot_messages(world) for version in world.slack.versions(*ref)
               if version.get("text", "").startswith("🗑️"))


def test_a_slack_outage_halfway_resumes_at_the_next_run_and_redacts_nothing_twice(
    world: SandboxWorld, stepped_clock: SteppedClock
) -> None:
    _history(world, stepped_clock)
    first = _retain(world, stepped_clock, chat_limit=2)  # the run a crash or a stop cut short
    world.slack.fail_next("chat.update", "service_unavailable", status=503)
    interrupted = _retain(world, stepped_clock)
    finished = _retain(world, stepped_clock)
    assert first.chat is not None and interrupted.chat is not None and finished.chat is not None
    assert (first.chat.redacted, interrupted.chat.redacted, interrupted.chat.interrupted) == (
        2, 0, "service_unavailable")
    assert finished.chat.left == 0
    assert _notices(world) == first.chat.redacted + finished.chat.redacted


def test_a_message_someone_deleted_in_slack_counts_as_redacted(
    world: SandboxWorld, stepped_clock: SteppedClock
) -> None:
    _history(world, stepped_clock)
    world.slack.fail_next("chat.update", "message_not_found")
    done = _retain(world, stepped_clock)
    assert done.chat is not None
    assert (done.chat.left, done.chat.failing) == (0, ())


def test_the_retention_command_redacts_chat_and_says_so(sqlite_store: Store, tmp_path: Path) -> None:
    clock = SteppedClock(utcnow() - LATER)
    world = SandboxWorld("sqlite://", RULES_FILE, clock=clock, store=sqlite_store)
    try:
        marked = marked_history(world, clock)
        env = {"BORGERBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'borgerbot.db'}",
               "BORGERBOT_RULES_FILE": str(RULES_FILE), "BORGERBOT_SLACK_BOT_TOKEN": BOT_TOKEN,
               "BORGERBOT_SLACK_API_URL": world.slack.base_url}
        result = CliRunner().invoke(app, ["retention", "run"], env=env)
        redacted = len(world.slack.calls_to("chat.update"))
        card = world.slack.message(*world.message_of(marked.inquiry_id))
    finally:
        world.close()
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == f"inquiries anonymised: 1 ({marked.inquiry_id})"
    assert result.output.splitlines()[-1].startswith("chat messages redacted: ")
    assert result.output.splitlines()[-1].endswith(", still to redact: 0")
    assert redacted > 0 and card["text"].startswith("🗑️")


def test_the_retention_command_without_a_slack_token_says_the_cards_wait(
    sqlite_store: Store, tmp_path: Path
) -> None:
    settled_inquiry(sqlite_store, received=utcnow() - timedelta(days=200))
    env = {"BORGERBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'borgerbot.db'}",
           "BORGERBOT_RULES_FILE": str(RULES_FILE), "BORGERBOT_SLACK_BOT_TOKEN": ""}
    result = CliRunner().invoke(app, ["retention", "run"], env=env)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == (
        "chat messages not redacted: no BORGERBOT_SLACK_BOT_TOKEN; they wait for a run with it")
