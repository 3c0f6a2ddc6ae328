"""The chat outbox: each bot message is posted once, even across a crash mid-post.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.models

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chatpost",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("thread_ts", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column("ts", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column("attempted_at", bot.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", bot.models.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("chatpost")
