"""Engine, sessions and schema upgrades for SQLite (default) and PostgreSQL (production).

Schema changes go through Alembic only; `open_store` applies pending migrations so every
command that needs the database can simply ask for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, event, insert, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, create_engine, select

from bot.models import Event, Inquiry, utcnow

MIGRATIONS = Path(__file__).parent / "migrations"
LOOKUP_CHUNK = 1000  # ids per IN list: well under SQLite's and PostgreSQL's bound-parameter limits


SQLITE_BUSY_TIMEOUT_SECONDS = 30  # a writer waits this long for another's lock before failing


def make_engine(url: str) -> Engine:
    """An engine tuned for the backend: SQLite gets real transactions, WAL, foreign keys and
    secure delete; PostgreSQL a pool check."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    """Take transaction control away from pysqlite, then set the connection's pragmas.

    pysqlite's legacy mode emits BEGIN only before INSERT/UPDATE/DELETE, never before a
    SAVEPOINT, so a session's first savepoint opened SQLite's transaction itself and its
    RELEASE committed everything before it: a poll that failed later kept half its writes.
    This is SQLAlchemy's documented recipe for every Python version ("Using SQLAlchemy to
    emit BEGIN in lieu of SQLite's transaction control", dialects/sqlite): `isolation_level
    = None` here, our own BEGIN in `_sqlite_begin`. The pragmas run outside any transaction,
    as `journal_mode` must.
    """
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA secure_delete=ON")  # retention's deleted text is overwritten, not freed
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    """Every transaction starts with BEGIN IMMEDIATE: it takes the write lock up front and
    waits the busy timeout for it. A deferred BEGIN would read a snapshot first, and in WAL
    mode a transaction whose snapshot went stale while it waited for the lock fails at once
    with "database is locked" (SQLITE_BUSY_SNAPSHOT, no busy wait), as two officers clicking
    approve together would. Readers outside the bot (sqlite3 CLI, backups) still see WAL
    snapshots; within the bot SQLite writes one transaction at a time anyway."""
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def alembic_config(engine: Engine) -> Config:
    """An Alembic config that needs no alembic.ini: the script location ships in the package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


MIGRATION_LOCK = 0x626F7267  # "borg": one advisory lock id for schema upgrades


def upgrade(engine: Engine) -> None:
    """Apply every pending migration; safe to call on an up-to-date database, and safe when
    two replicas start together: on PostgreSQL an advisory lock lets one migrate at a time."""
    config = alembic_config(engine)
    if engine.dialect.name != "postgresql":
        command.upgrade(config, "head")
        return
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
        try:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
            connection.commit()


class Store:
    """The database of one installation: hands out sessions and does the few guarded writes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits when the block ends cleanly and rolls back otherwise."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def truncate_wal(self) -> bool:
        """Checkpoint SQLite's write-ahead log into the database and empty the file.

        The WAL keeps every page image written since the last checkpoint, and a checkpoint
        alone leaves old frames in the file to be overwritten later: after retention, text
        deleted from the database would still be in those bytes. With `secure_delete` on,
        the pages copied back hold no freed text. True when the WAL is now empty (or the
        database is not SQLite); False when another connection's read kept it from finishing.
        """
        if self.engine.dialect.name != "sqlite":
            return True
        with self.engine.connect() as connection:
            # The driver connection is in autocommit (see `_sqlite_connect`): no BEGIN is
            # emitted, as a checkpoint cannot complete inside a transaction.
            driver = connection.connection.driver_connection
            assert driver is not None
            busy, *_ = driver.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return bool(busy == 0)

    @staticmethod
    def is_stored(session: Session, platform: str, external_id: str) -> bool:
        """Whether the item is already an inquiry: one index lookup, so a poll re-reading its
        overlap window learns an item is a repeat before doing any work on it."""
        return session.exec(
            select(Inquiry.id).where(Inquiry.platform == platform, Inquiry.external_id == external_id)
        ).first() is not None

    @staticmethod
    def stored_among(session: Session, platform: str, external_ids: Sequence[str]) -> set[str]:
        """Which of the items are already inquiries, in one query per thousand ids: a poll
        re-reads its overlap window, so most of a repeat poll's items are repeats."""
        found: set[str] = set()
        for start in range(0, len(external_ids), LOOKUP_CHUNK):
            found.update(session.exec(select(Inquiry.external_id).where(
                Inquiry.platform == platform,
                col(Inquiry.external_id).in_(external_ids[start:start + LOOKUP_CHUNK]))))
        return found

    def insert_inquiry_once(self, session: Session, inquiry: Inquiry) -> Inquiry | None:
        """Insert unless (platform, external id) is already stored; None means it was a repeat.

        A savepoint keeps a duplicate from spoiling the surrounding transaction, so a batch
        of polled items can be stored together with the cursor that covers them.
        """
        if self.is_stored(session, inquiry.platform, inquiry.external_id):
            return None
        return self.insert_new_inquiry(session, inquiry)

    @staticmethod
    def insert_new_inquiry(session: Session, inquiry: Inquiry) -> Inquiry | None:
        """Insert an item the caller found not yet stored; None when another replica stored
        it in the meantime (the unique key refuses it inside a savepoint)."""
        try:
            with session.begin_nested():
                session.add(inquiry)
                session.flush()
        except IntegrityError:
            return None
        return inquiry

    @staticmethod
    def record(
        session: Session,
        action: str,
        *,
        actor: str = "system",
        inquiry_id: int | None = None,
        at: datetime | None = None,
        **detail: Any,
    ) -> None:
        """Append one audit event in the caller's transaction, stamped with the caller's clock;
        a plain INSERT, as every inquiry and every card writes several."""
        session.execute(insert(Event).values(inquiry_id=inquiry_id, actor=actor, action=action,
                                             at=at or utcnow(), detail=detail))

    @staticmethod
    def record_many(session: Session, action: str, *, at: datetime, actor: str = "system",
                    rows: Iterable[tuple[int | None, dict[str, Any]]]) -> None:
        """`record` for a batch (inquiry id, detail) in one executemany: cards are settled in batches."""
        values = [{"inquiry_id": inquiry_id, "actor": actor, "action": action, "at": at, "detail": detail}
                  for inquiry_id, detail in rows]
        if values:
            session.execute(insert(Event), values)


def open_store(url: str) -> Store:
    """Connect, bring the schema up to date and return the store."""
    engine = make_engine(url)
    upgrade(engine)
    return Store(engine)
