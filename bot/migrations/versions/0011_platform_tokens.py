"""Rotated OAuth refresh tokens survive a restart (X refresh tokens work once), an account
paused by a usage cap remembers that the unit was told, and chat follow-up ids are never
reused on SQLite (a reused id made the outbox take a new note for one already posted).

Revision ID: 0011
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.models  # UTCDateTime is referenced below

revision = "0011"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "platformtoken",
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("account", sa.String(length=100), nullable=False),
        sa.Column("refresh_token", sa.String(length=2000), nullable=False),
        sa.Column("seed", sa.String(length=64), nullable=False),
        sa.Column("updated_at", bot.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "account"),
    )
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("chatfollowup", recreate="always",
                                  table_kwargs={"sqlite_autoincrement": True}):
            pass
    with op.batch_alter_table("accountstatus") as batch:
        batch.add_column(sa.Column("pause_notice", sa.String(length=30), nullable=False,
                                   server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("accountstatus") as batch:
        batch.drop_column("pause_notice")
    op.drop_table("platformtoken")
