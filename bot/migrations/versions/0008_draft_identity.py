"""A draft knows the Slack message (and delivery) it came from, uniquely, and when it was
withdrawn by deleting that message.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.models

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("draft") as batch:
        batch.add_column(sa.Column("chat_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
        batch.add_column(sa.Column("event_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
        batch.add_column(sa.Column("withdrawn_at", bot.models.UTCDateTime(timezone=True), nullable=True))
        batch.create_unique_constraint("uq_draft_chat_key", ["chat_key"])
        batch.create_unique_constraint("uq_draft_event_id", ["event_id"])


def downgrade() -> None:
    with op.batch_alter_table("draft") as batch:
        batch.drop_constraint("uq_draft_event_id", type_="unique")
        batch.drop_constraint("uq_draft_chat_key", type_="unique")
        batch.drop_column("withdrawn_at")
        batch.drop_column("event_id")
        batch.drop_column("chat_key")
