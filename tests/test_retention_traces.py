"""After a retention run no word a citizen or an officer typed survives in the database:
not in a column, not in an event, not in a queued note, and on SQLite not in the file's
freed space or its write-ahead log either."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import String, cast, column, inspect, select, table

from bot.demo.clock import SteppedClock
from bot.demo.world import SandboxWorld
from bot.models import InquiryState
from bot.retention import RetentionPolicy, run
from bot.store import Store
from tests.conftest import RULES_FILE
from tests.retention_support import Marked, marked_history

AFTER_THE_MODERATION_LOG = timedelta(days=400)


@pytest.fixture
def marked_world(store: Store, tmp_path: Path, stepped_clock: SteppedClock) -> Iterator[SandboxWorld]:
    sandbox = SandboxWorld(f"sqlite:///{tmp_path / 'unused.db'}", RULES_FILE, clock=stepped_clock, store=store)
    yield sandbox
    sandbox.close()


def _retain(world: SandboxWorld, clock: SteppedClock) -> Marked:
    marked = marked_history(world, clock)
    assert world.inquiry(marked.inquiry_id).state is InquiryState.ANSWERED
    outcome = run(world.store, clock.advance(AFTER_THE_MODERATION_LOG), RetentionPolicy(), world.gateway,
                  pause=lambda _seconds: None)
    assert outcome.outcome.anonymised == (marked.inquiry_id,)
    return marked


def _columns_holding(store: Store, word: str) -> list[str]:
    """Every column of every table, read as text, that still contains `word`."""
    inspector = inspect(store.engine)
    columns = [(name, info["name"]) for name in inspector.get_table_names()
               for info in inspector.get_columns(name)]
    found = []
    with store.engine.connect() as connection:
        for name, field_name in columns:
            field = column(field_name)
            query = select(field).select_from(table(name)).where(cast(field, String).contains(word))
            if connection.execute(query).first() is not None:
                found.append(f"{name}.{field_name}")
    return found


def test_no_typed_word_survives_in_any_column_of_any_table(
    marked_world: SandboxWorld, stepped_clock: SteppedClock
) -> None:
    marked = _retain(marked_world, stepped_clock)
    survivors = {path: _columns_holding(marked_world.store, word) for path, word in marked.markers.items()}
    assert {path: where for path, where in survivors.items() if where} == {}


def test_the_words_were_stored_before_retention_ran(
    marked_world: SandboxWorld, stepped_clock: SteppedClock
) -> None:
    marked = marked_history(marked_world, stepped_clock)
    missing = [path for path, word in marked.markers.items() if not _columns_holding(marked_world.store, word)]
    assert missing == []


def _database_bytes(store: Store) -> bytes:
    """The SQLite database file with its -wal and -journal files, as they lie on disk."""
    database = Path(str(store.engine.url.database))
    return b"".join(path.read_bytes() for path in sorted(database.parent.glob(database.name + "*")))


def test_no_typed_word_survives_in_the_sqlite_files_or_their_log(
    sqlite_store: Store, tmp_path: Path, stepped_clock: SteppedClock
) -> None:
    world = SandboxWorld(f"sqlite:///{tmp_path / 'unused.db'}", RULES_FILE, clock=stepped_clock, store=sqlite_store)
    try:
        marked = _retain(world, stepped_clock)
        raw = _database_bytes(world.store)
    finally:
        world.close()
    assert [path for path, word in marked.markers.items() if word.encode() in raw] == []
