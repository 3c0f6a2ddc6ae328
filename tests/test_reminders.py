"""The sweep's query: which inquiries it wakes, and that it reads only the next-reminder index.

An installation keeps years of answered inquiries; the sweep runs every minute, so it must
touch only rows with a reminder point due, never scan the open or closed ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, event

from bot.demo.world import SandboxWorld
from bot.models import Inquiry, InquiryKind, InquiryState
from bot.reminders import due_inquiries

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def stored(world: SandboxWorld, number: int, next_reminder_at: datetime | None,
           state: InquiryState = InquiryState.POSTED) -> int:
    """An inquiry row as the workflow leaves it, with the given next reminder point."""
    with world.store.session() as session:
        inquiry = Inquiry(
            platform="facebook", account="page", external_id=f"item-{number}",
            kind=InquiryKind.COMMENT, route="affald", state=state,
            next_reminder_at=next_reminder_at,
        )
        session.add(inquiry)
        session.flush()
        return inquiry.id or 0


@contextmanager
def statements(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Every SQL statement the engine sends while the block runs, with its parameters."""
    seen: list[tuple[str, Any]] = []

    def grab(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", grab)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", grab)


def test_the_sweep_wakes_only_inquiries_whose_next_point_has_come_soonest_first(
    world: SandboxWorld,
) -> None:
    later = stored(world, 1, NOW - timedelta(minutes=1))
    sooner = stored(world, 2, NOW - timedelta(hours=1))
    exactly_now = stored(world, 3, NOW)
    stored(world, 4, NOW + timedelta(seconds=1))
    stored(world, 5, None)
    assert due_inquiries(world.workflow, NOW) == [sooner, later, exactly_now]


def test_an_answered_or_closed_inquiry_has_no_point_and_is_never_woken(world: SandboxWorld) -> None:
    stored(world, 1, None, InquiryState.ANSWERED)
    stored(world, 2, None, InquiryState.CLOSED)
    assert due_inquiries(world.workflow, NOW) == []


def test_the_sweep_query_reads_the_next_reminder_index_not_the_table(world: SandboxWorld) -> None:
    for number in range(50):
        stored(world, number, None if number % 2 else NOW + timedelta(days=1))
    engine = world.store.engine
    with statements(engine) as seen:
        due_inquiries(world.workflow, NOW)
    statement, parameters = next((s, p) for s, p in seen if s.lstrip().upper().startswith("SELECT"))
    with engine.connect() as connection:
        plan = [row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)]
    assert any("INDEX ix_inquiry_next_reminder_at" in step for step in plan), plan
    assert not any("TEMP B-TREE" in step for step in plan), plan
