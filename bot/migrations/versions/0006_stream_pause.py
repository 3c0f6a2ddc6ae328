"""A throttled stream pauses on its own (X limits each endpoint separately).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.models  # UTCDateTime is referenced below

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pollcursor") as batch:
        batch.add_column(sa.Column("paused_until", bot.models.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pollcursor") as batch:
        batch.drop_column("paused_until")
