"""`borgerbot audit INQUIRY`: the append-only event log of one inquiry, oldest first."""

from __future__ import annotations

import json

from sqlmodel import col, select

from bot.errors import BorgerbotError
from bot.models import Event, Inquiry
from bot.store import open_store


def audit_lines(database_url: str, inquiry_id: int) -> list[str]:
    """One line per event: when (UTC), who, what, and the recorded details (never citizen text)."""
    store = open_store(database_url)
    try:
        with store.session() as session:
            inquiry = session.get(Inquiry, inquiry_id)
            if inquiry is None:
                raise BorgerbotError(f"inquiry {inquiry_id} does not exist")
            events = session.exec(
                select(Event).where(Event.inquiry_id == inquiry_id).order_by(col(Event.id))
            ).all()
            header = (f"inquiry {inquiry_id}: {inquiry.platform} {inquiry.kind.value} "
                      f"{inquiry.external_id}, route {inquiry.route}, state {inquiry.state.value}")
    finally:
        store.engine.dispose()
    lines = [header]
    for event in events:
        details = {k: v for k, v in event.detail.items() if k != "snapshot"}
        lines.append(f"{event.at.isoformat(timespec='seconds')}  {event.actor:<20} {event.action:<22} "
                     f"{json.dumps(details, ensure_ascii=False)}")
    return lines
