"""Rotated OAuth refresh tokens survive a restart (X refresh tokens work once).

Revision ID: 0011
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.models  # UTCDateTime is referenced below

revision = "0011"
down_revision = "0007"
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


def downgrade() -> None:
    op.drop_table("platformtoken")
