"""The load bench's sweep: 100,000 inquiries as months of use leave them, bulk-inserted into
a fresh SQLite file, and the deadline sweep timed over them."""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert
from sqlmodel import SQLModel, col, select

from bot import deadlines
from bot.models import Inquiry, InquiryKind, InquiryState, utcnow
from bot.reminders import due_inquiries, sweep
from bot.store import open_store
from bot.workflow import Workflow

if TYPE_CHECKING:
    from load import Bot

TABLES = SQLModel.metadata.tables


@dataclass(frozen=True)
class SweepTimings:
    idle_ms: float
    due_ms: float
    paced_ms: float
    query_ms: float
    reminders: int
    runs: int
    open_rows: int


def old_database(bot: Bot, path: Path, rows: int, open_rows: int, texts: list[str]) -> tuple[Workflow, datetime]:
    """`rows` inquiries as months of use leave them: the newest `open_rows` still open, with
    their passed reminder points recorded as sent and the next one in `next_reminder_at`;
    returns the workflow over them and the instant they were written for."""
    store = open_store(f"sqlite:///{path}")
    with bot.store.session() as session:
        cards = session.exec(select(Inquiry.chat_channel, Inquiry.chat_ts)
                             .where(col(Inquiry.chat_ts).is_not(None))).all()
    routes, policy, now = bot.config.rules.route_ids, bot.config.policy, utcnow()
    rng = random.Random(7)
    inquiries: list[dict[str, Any]] = []
    reminders: list[dict[str, Any]] = []
    for number in range(1, rows + 1):
        is_open = number > rows - open_rows
        received = now - (timedelta(days=4) * rng.random() if is_open else timedelta(days=4 + 700 * rng.random()))
        urgent = rng.random() < 0.03
        route = rng.choice(routes)
        deadline = deadlines.due_at(policy, received, "comment", "facebook", route, urgent, False) \
            if is_open else received + timedelta(days=1)
        upcoming: list[Any] = []
        if is_open and deadline is not None:
            for point in deadlines.reminder_schedule(policy, received, deadline, urgent):
                if point.at > now:
                    upcoming.append(point.at)
                else:
                    reminders.append({"inquiry_id": number, "kind": point.kind, "due_at": point.at,
                                      "sent_at": point.at})
        channel, ts = cards[number % len(cards)]
        inquiries.append({
            "id": number, "platform": "facebook", "account": "1000000001",
            "external_id": f"load-{number}", "kind": InquiryKind.COMMENT, "author_name": f"Borger {number}",
            "author_id": str(number), "text": texts[number % len(texts)], "reply_target": {},
            "created_at": received, "received_at": received, "route": route, "urgent": urgent,
            "no_reply_needed": False, "journal_required": False, "routing_reasons": [],
            "deadline_at": deadline, "next_reminder_at": min(upcoming, default=None),
            "state": InquiryState.POSTED if is_open else rng.choice([InquiryState.ANSWERED, InquiryState.CLOSED]),
            "chat_channel": channel, "chat_ts": ts, "updated_at": received,
        })
    with store.engine.begin() as connection:
        for chunk in range(0, len(inquiries), 5_000):
            connection.execute(insert(TABLES["inquiry"]), inquiries[chunk:chunk + 5_000])
        if reminders:
            connection.execute(insert(TABLES["reminder"]), reminders)
    return bot.workflow(store), now


def median_ms(action: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def sweep_timings(bot: Bot, path: Path, rows: int, texts: list[str], runs: int = 9) -> SweepTimings:
    """The sweep over the old database: at the instant it was written for (nothing due), then
    every five minutes of fake time (a handful due); medians of the runs."""
    open_rows = min(rows, max(1, rows // 40))
    workflow, start = old_database(bot, path, rows, open_rows, texts)
    idle_ms = median_ms(lambda: sweep(workflow, start), runs)
    sent, samples, paced = 0, [], []
    for step in range(1, runs + 1):
        slept, began = bot.pacing.slept, time.perf_counter()
        sent += sweep(workflow, start + timedelta(minutes=5 * step)).reminders
        samples.append((time.perf_counter() - began) * 1000)
        paced.append((bot.pacing.slept - slept) * 1000)
    query_ms = median_ms(lambda: due_inquiries(workflow, start + timedelta(minutes=5 * runs)), 25)
    workflow.ctx.store.engine.dispose()
    return SweepTimings(idle_ms, statistics.median(samples), statistics.median(paced), query_ms,
                        sent, runs, open_rows)
