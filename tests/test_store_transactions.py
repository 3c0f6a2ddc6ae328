"""A transaction is all or nothing on SQLite as on PostgreSQL, savepoints included.

pysqlite's legacy transaction control emits no BEGIN before a SAVEPOINT, so the first
savepoint of a session opened SQLite's transaction itself and its RELEASE committed it:
a poll that failed after storing one item left that inquiry committed and its audit event
rolled back. These tests hold the poll, the store and the connection settings to the promise.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from bot.demo.world import SandboxWorld
from bot.models import Event, Inquiry, InquiryKind, PollCursor
from bot.polling import poll_account
from bot.store import Store, make_engine
from tests.conftest import RULES_FILE

QUESTION = "Hvornår bliver der tømt skraldespand på Bækkegårdsvej?"


def _inquiry(external_id: str) -> Inquiry:
    return Inquiry(platform="facebook", account="page-1", external_id=external_id,
                   kind=InquiryKind.COMMENT, text=QUESTION, route="affald")


def _counts(store: Store) -> tuple[int, int, int]:
    """(inquiries, events, cursors): what a poll writes."""
    with store.session() as session:
        return (len(session.exec(select(Inquiry)).all()), len(session.exec(select(Event)).all()),
                len(session.exec(select(PollCursor)).all()))


def _refuse_cursor_writes(engine: Engine) -> None:
    """The database fails the poll's last write (as a full disk would), after its items and events."""
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            for verb in ("INSERT", "UPDATE"):
                connection.execute(text(
                    f"CREATE TRIGGER refuse_cursor_{verb.lower()} BEFORE {verb} ON pollcursor "
                    "BEGIN SELECT RAISE(ABORT, 'simulated: database or disk is full'); END"))
            return
        connection.execute(text(
            "CREATE FUNCTION refuse_cursor() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'simulated: could not extend file'; END $$"))
        connection.execute(text(
            "CREATE TRIGGER refuse_cursor BEFORE INSERT OR UPDATE ON pollcursor "
            "FOR EACH ROW EXECUTE FUNCTION refuse_cursor()"))


@pytest.fixture
def store_world(store: Store, tmp_path: Path) -> Iterator[SandboxWorld]:
    """The product on loopback over the parametrised store (SQLite, then PostgreSQL)."""
    sandbox = SandboxWorld(f"sqlite:///{tmp_path / 'unused.db'}", RULES_FILE, store=store)
    yield sandbox
    sandbox.close()


def test_a_poll_whose_store_step_fails_leaves_no_inquiry_no_event_and_no_cursor(
    store_world: SandboxWorld,
) -> None:
    for n in range(3):
        store_world.citizens.write({"platform": "facebook", "text": f"{QUESTION} ({n})"})
    _refuse_cursor_writes(store_world.store.engine)
    facebook = next(c for c in store_world.clients.values() if c.platform == "facebook")
    with pytest.raises(DBAPIError):
        poll_account(store_world.workflow, facebook, store_world.clock())
    assert _counts(store_world.store) == (0, 0, 0)


def test_a_rolled_back_session_takes_its_released_savepoints_with_it(store: Store) -> None:
    with pytest.raises(RuntimeError), store.session() as session:
        store.insert_inquiry_once(session, _inquiry("a"))
        store.record(session, "received", inquiry_id=1)
        raise RuntimeError("the poll fails after its first item")
    assert _counts(store) == (0, 0, 0)


def test_a_savepoint_rolled_back_inside_a_session_keeps_what_came_before_it(store: Store) -> None:
    with store.session() as session:
        first = store.insert_inquiry_once(session, _inquiry("a"))
        assert first is not None
        store.record(session, "received", inquiry_id=first.id)
        with pytest.raises(RuntimeError), session.begin_nested():
            store.record(session, "noted", inquiry_id=first.id)
            raise RuntimeError("only this step fails")
        store.insert_inquiry_once(session, _inquiry("b"))
    with store.session() as session:
        assert sorted(i.external_id for i in session.exec(select(Inquiry))) == ["a", "b"]
        assert [e.action for e in session.exec(select(Event))] == ["received"]


def test_a_duplicate_refused_by_the_unique_key_spoils_nothing_around_it(store: Store) -> None:
    with store.session() as session:
        store.insert_inquiry_once(session, _inquiry("a"))
    with store.session() as session:
        store.record(session, "before")
        assert store.insert_new_inquiry(session, _inquiry("a")) is None  # refused in its savepoint
        store.record(session, "after")
    with store.session() as session:
        assert [e.action for e in session.exec(select(Event))] == ["before", "after"]


def test_sqlite_connections_keep_wal_foreign_keys_a_busy_timeout_and_secure_delete(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'borgerbot.db'}")
    with engine.connect() as connection:
        settings = {name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                    for name in ("journal_mode", "foreign_keys", "busy_timeout", "secure_delete")}
    engine.dispose()
    assert settings == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 30000, "secure_delete": 1}
