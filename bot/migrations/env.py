"""Alembic environment: runs against the engine borgerbot hands over, or the URL given."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, Engine, create_engine
from sqlmodel import SQLModel

import bot.models  # noqa: F401  (registers the tables on SQLModel.metadata)

config = context.config
target_metadata = SQLModel.metadata


def _engine() -> Engine:
    engine = config.attributes.get("engine")
    if engine is not None:
        return engine
    return create_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///borgerbot.db")


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()


def run_migrations_online() -> None:
    """On the caller's connection when it holds the migration lock, else on a fresh one."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    with _engine().connect() as fresh:
        _migrate(fresh)


run_migrations_online()
