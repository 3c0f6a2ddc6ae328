"""Outbox keys unique for ever, and the back-off of a message Slack refused for good.

A note was posted under `note:{follow-up id}` and its row deleted once posted; SQLite hands
the same id to the next note, which the outbox then skipped as already posted. Follow-ups
now carry a random key of their own. A message Slack refuses for good (too long, invalid
blocks, no such channel) records the refusal on its outbox row, so it is backed off and the
messages queued behind it go on.

Revision ID: 0009
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.models

revision = "0009"
down_revision = "0010"
branch_labels = None
depends_on = None

_ID = "CAST(chatfollowup.id AS VARCHAR(20))"


def upgrade() -> None:
    op.add_column("chatfollowup", sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True))
    # A note already tried under its old key keeps it, so a crashed attempt is still found in
    # chat rather than posted twice; every other note gets a key no later note can have.
    op.execute(
        f"UPDATE chatfollowup SET key = CASE WHEN EXISTS (SELECT 1 FROM chatpost WHERE "
        f"chatpost.key = 'note:' || {_ID} AND chatpost.ts IS NULL) THEN 'note:' || {_ID} "
        f"ELSE 'note:' || {_ID} || '/0009' END"
    )
    with op.batch_alter_table("chatfollowup") as batch:
        batch.alter_column("key", existing_type=sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False)
    op.create_index("ix_chatfollowup_key", "chatfollowup", ["key"], unique=True)
    op.add_column("chatpost", sa.Column("refused", sqlmodel.sql.sqltypes.AutoString(length=50),
                                        nullable=False, server_default=""))
    op.add_column("chatpost", sa.Column("refusals", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("chatpost", sa.Column("retry_at", bot.models.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("chatpost") as batch:
        batch.drop_column("retry_at")
        batch.drop_column("refusals")
        batch.drop_column("refused")
    op.drop_index("ix_chatfollowup_key", table_name="chatfollowup")
    with op.batch_alter_table("chatfollowup") as batch:
        batch.drop_column("key")
