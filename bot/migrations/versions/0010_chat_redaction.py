"""Which chat messages of anonymised inquiries still show the citizen, so retention redacts them once.

Revision ID: 0010
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.models

revision = "0010"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chatredaction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inquiry_id", sa.Integer(), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("ts", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("done_at", bot.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.ForeignKeyConstraint(["inquiry_id"], ["inquiry.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "ts", name="uq_chatredaction_message"),
    )
    op.create_index("ix_chatredaction_inquiry_id", "chatredaction", ["inquiry_id"])
    op.create_index("ix_chatredaction_done_at", "chatredaction", ["done_at"])


def downgrade() -> None:
    op.drop_index("ix_chatredaction_done_at", table_name="chatredaction")
    op.drop_index("ix_chatredaction_inquiry_id", table_name="chatredaction")
    op.drop_table("chatredaction")
