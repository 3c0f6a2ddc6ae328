"""Leases in the database, so two replicas on one PostgreSQL behave as one bot.

Each scheduled job (a poll of one account, the sweep) runs only while its replica holds
the job's lease. A lease is taken by compare-and-set on its row and lapses by itself, so
when the active replica dies the other takes the job over within one lease period.
Works the same on SQLite, where a single process simply always wins.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from bot.models import Lease
from bot.store import Store

LAPSED = datetime(1970, 1, 1, tzinfo=UTC)


def try_acquire(store: Store, name: str, holder: str, now: datetime, period: timedelta) -> bool:
    """Take or renew the lease; False while another holder's lease has not lapsed."""
    until = now + period
    with store.session() as session:
        taken = session.execute(
            update(Lease)
            .where(col(Lease.name) == name, or_(col(Lease.holder) == holder, col(Lease.expires_at) <= now))
            .values(holder=holder, expires_at=until)
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            return True
    try:
        with store.session() as session:
            session.add(Lease(name=name, holder=holder, expires_at=until))
        return True
    except IntegrityError:
        return False


def release(store: Store, name: str, holder: str) -> None:
    """Give the lease up at a clean shutdown, so the other replica need not wait it out."""
    with store.session() as session:
        session.execute(
            update(Lease)
            .where(col(Lease.name) == name, col(Lease.holder) == holder)
            .values(expires_at=LAPSED)
        )
