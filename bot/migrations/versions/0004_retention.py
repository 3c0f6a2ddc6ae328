"""ESDH case number, journalised and anonymised times on the inquiry, for journal export and retention.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.models

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inquiry") as batch:
        batch.add_column(sa.Column("case_number", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
        batch.add_column(sa.Column("journalised_at", bot.models.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("anonymised_at", bot.models.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inquiry") as batch:
        batch.drop_column("anonymised_at")
        batch.drop_column("journalised_at")
        batch.drop_column("case_number")
