"""A database that is briefly unavailable, for real: a SQLite file another connection holds
locked, or PostgreSQL behind a loopback proxy that refuses and cuts connections."""

from __future__ import annotations

import socket
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url


class Outage(Protocol):
    def __call__(self) -> AbstractContextManager[None]:
        """While the context lasts, the bot's database cannot be written."""


def short_busy_wait(engine: Engine, milliseconds: int = 200) -> None:
    """SQLite waits 30 s for a lock in production; a test waits a fifth of a second. Runs after
    the store's own connect pragmas, so the engine is otherwise the production one."""

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA busy_timeout={milliseconds}")

    event.listen(engine, "connect", on_connect)


@contextmanager
def sqlite_locked(path: Path) -> Iterator[None]:
    """Another process's connection holds the write lock (as a backup tool or a stuck
    writer would): every write of the bot fails with "database is locked"."""
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        yield
        holder.execute("ROLLBACK")
    finally:
        holder.close()


class PostgresProxy:
    """A TCP relay in front of PostgreSQL; `down()` cuts every connection and refuses new
    ones (PostgreSQL restarting), `up()` listens again on the same port."""

    def __init__(self, url: str) -> None:
        target = make_url(url)
        self._target = (target.host or "127.0.0.1", target.port or 5432)
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self.port = 0
        self.up()

    def url(self, url: str) -> str:
        """`url` (with its query, e.g. a search_path) through the proxy."""
        return make_url(url).set(host="127.0.0.1", port=self.port).render_as_string(hide_password=False)

    def up(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        with self._lock:
            doomed, self._sockets = [self._listener, *self._sockets], []
            self._listener = None
        for sock in doomed:
            if sock is not None:
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed by down()
            server = socket.create_connection(self._target)
            with self._lock:
                self._sockets += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=_relay, args=(source, sink), daemon=True).start()


def _relay(source: socket.socket, sink: socket.socket) -> None:
    with suppress(OSError):
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    with suppress(OSError):
        sink.shutdown(socket.SHUT_WR)
