"""What chat owes a committed change (a card redraw, a note) is stored with the change.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.models

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chatfollowup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("inquiry_id", sa.Integer(), nullable=True),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("thread_ts", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", bot.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", bot.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["inquiry_id"], ["inquiry.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_chatfollowup_inquiry_id", "chatfollowup", ["inquiry_id"])
    op.create_index("ix_chatfollowup_due_at", "chatfollowup", ["due_at"])


def downgrade() -> None:
    op.drop_index("ix_chatfollowup_due_at", table_name="chatfollowup")
    op.drop_index("ix_chatfollowup_inquiry_id", table_name="chatfollowup")
    op.drop_table("chatfollowup")
