"""Load: a burst of citizens through the whole sandboxed pipeline, then the deadline sweep
over a database that has been in use for a long time.

Pipeline: 10,000 comments under one Facebook post and 2,000 items spread over every route
and platform are written into the emulators; the real bot polls them into SQLite (one
transaction per stream and poll) and sweeps them into the fake Slack. The fake refuses a
second post in a channel within 1/rate seconds with a 429, as Slack does at about one a
second; the rate is scaled up so the run stays short, and the gateway paces itself to the
same rate. The busiest channel's message count divided by the rate is therefore a floor
on the time until the last card is in chat; the drain ratio says how close we get to it.

Baseline: some of the burst's items stored with one transaction per item, the shape of a
poller that commits as it goes, against the same items in one transaction as our poll
stores them; each into a fresh database, fetching excluded.

Sweep: 100,000 inquiries bulk-inserted into a fresh SQLite file, most of them long
closed, the open ones with the reminder bookkeeping the bot would have written, so only
a handful are due at each instant the sweep runs.

    python bench/load.py [--burst 10000] [--spread 2000] [--rate 100] [--rows 100000]

Everything runs in one process (emulators and fake Slack included), so the peak memory
is an upper bound for the bot's own. The last line is one JSON object for tools.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import resource
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert
from sqlmodel import SQLModel, col, select

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot import deadlines
from bot.assembly import build_workflow
from bot.demo.world import SandboxWorld
from bot.models import Inquiry, InquiryKind, InquiryState, utcnow
from bot.platforms.base import IncomingItem
from bot.reminders import due_inquiries, sweep
from bot.store import Store, open_store
from bot.workflow import Workflow

DEV_SET = REPO.parent / "shared" / "data" / "routing-dev.jsonl"
BURST_POST = ("Vejarbejde på Roskildevej: fra mandag er vejen spærret ved rundkørslen i to uger. "
              "Busserne kører omkring ad Vallensbækvej.")
TABLES = SQLModel.metadata.tables
GOALS = {"ingest_per_s": 500, "drain_ratio": 1.1, "peak_mb": 200, "sweep_ms": 50}


def dev_records() -> list[dict[str, Any]]:
    return [json.loads(line) for line in DEV_SET.read_text(encoding="utf-8").splitlines() if line]


def spread(records: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """`count` items taking each labelled route in turn, on the platform and kind they had."""
    by_route: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_route.setdefault(record["route"], []).append(record)
    turns = itertools.cycle(itertools.cycle(group) for group in by_route.values())
    return [next(next(turns)) for _ in range(count)]


def write_burst(world: SandboxWorld, records: list[dict[str, Any]], burst: int, others: int) -> None:
    """The burst under one post, with the spread items written in between, as they arrive."""
    post = world.graph.add_post(BURST_POST)
    texts = itertools.cycle(record["text"] for record in records)
    mixed = spread(records, others)
    every = max(1, burst // max(1, others))
    for number in range(burst):
        world.graph.add_comment(post, next(texts), author_id=str(7_000_000 + number),
                                author_name=f"Borger B{number}")
        if number % every == 0 and mixed:
            world.citizens.write(mixed.pop())
    for record in mixed:
        world.citizens.write(record)


def ingest(world: SandboxWorld) -> tuple[int, float, float]:
    """Poll every account until a poll brings nothing new; returns (stored, seconds until the
    last inquiry was stored, seconds of the final poll that only met repeats)."""
    stored, start = 0, time.perf_counter()
    while True:
        began = time.perf_counter()
        new = sum(outcome.stored for outcome in world.poll())
        if not new:
            return stored, began - start, time.perf_counter() - began
        stored += new


def transactions_compared(world: SandboxWorld, folder: Path, count: int) -> tuple[float, float]:
    """The baseline: `count` of the burst's items stored into two fresh databases, in one
    transaction as a poll does, and committing each item as a naive poller would; returns
    (batched, one by one) in inquiries per second, fetching excluded from both."""
    items: list[IncomingItem] = world.clients[("facebook", world.graph.world.page_id)].fetch_new(
        "comments", "").items[:count]
    rates = []
    for name, batched in (("batched", True), ("one-by-one", False)):
        store = open_store(f"sqlite:///{folder / name}.sqlite")
        workflow = build_workflow(world.config, store, world.gateway, world.clients,
                                  group_members=world.gateway.usergroup_members)
        start = time.perf_counter()
        if batched:
            with store.session() as session:
                for item in items:
                    workflow.intake.ingest(session, item)
        else:
            for item in items:
                with store.session() as session:
                    workflow.intake.ingest(session, item)
        rates.append(len(items) / (time.perf_counter() - start))
        store.engine.dispose()
    return rates[0], rates[1]


def waiting_for_chat(world: SandboxWorld) -> int:
    with world.store.session() as session:
        return session.exec(select(func.count()).select_from(Inquiry)
                            .where(Inquiry.state == InquiryState.RECEIVED)).one()


def drain(world: SandboxWorld, give_up_after: float) -> tuple[float, int]:
    """Run the sweep back to back until every stored inquiry has its card in chat, or until
    `give_up_after` seconds; returns (seconds, inquiries still waiting)."""
    start = time.perf_counter()
    while (waiting := waiting_for_chat(world)) and time.perf_counter() - start < give_up_after:
        world.sweep()
    return time.perf_counter() - start, waiting


def posts_per_channel(world: SandboxWorld) -> Counter[str]:
    """Messages that reached each channel (cards and urgent alerts alike)."""
    return Counter({channel: len(world.slack.history(channel))
                    for channel in world.slack.workspace.channels})


def peak_mb() -> float:
    """The process's resident-set high-water mark (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass(frozen=True)
class SweepTimings:
    sweep_ms: float
    due_ms: float
    reminders: int
    runs: int
    open_rows: int


def old_database(world: SandboxWorld, path: Path, rows: int, open_rows: int) -> Workflow:
    """`rows` inquiries as months of use leave them: the newest `open_rows` still open, with
    their passed reminder points recorded as sent and the next one in `next_reminder_at`."""
    store = open_store(f"sqlite:///{path}")
    with world.store.session() as session:
        cards = session.exec(select(Inquiry.chat_channel, Inquiry.chat_ts)
                             .where(col(Inquiry.chat_ts).is_not(None))).all()
    texts = [record["text"] for record in dev_records()]
    routes, policy, now = world.config.rules.route_ids, world.config.policy, utcnow()
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
    return build_workflow(world.config, store, world.gateway, world.clients,
                          group_members=world.gateway.usergroup_members)


def median_ms(action: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def sweep_timings(world: SandboxWorld, path: Path, rows: int, runs: int = 9) -> SweepTimings:
    """The sweep every five minutes of fake time over the old database; medians of the runs."""
    open_rows = min(rows, max(1, rows // 40))
    workflow = old_database(world, path, rows, open_rows)
    start, sent, samples = utcnow(), 0, []
    for step in range(1, runs + 1):
        at = start + timedelta(minutes=5 * step)
        began = time.perf_counter()
        sent += sweep(workflow, at).reminders
        samples.append((time.perf_counter() - began) * 1000)
    due_ms = median_ms(lambda: due_inquiries(workflow, start + timedelta(minutes=5 * runs)), 25)
    store: Store = workflow.ctx.store
    store.engine.dispose()
    return SweepTimings(statistics.median(samples), due_ms, sent, runs, open_rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--burst", type=int, default=10_000, help="comments under one post")
    parser.add_argument("--spread", type=int, default=2_000, help="items over all routes and platforms")
    parser.add_argument("--rate", type=float, default=100.0, help="posts per second per channel")
    parser.add_argument("--rows", type=int, default=100_000, help="inquiries in the sweep's database")
    parser.add_argument("--drain-limit", type=float, default=120.0, help="seconds before the drain gives up")
    parser.add_argument("--baseline-items", type=int, default=2_000, help="items in the transaction baseline")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="borgerbot-load-"))
    world = SandboxWorld(f"sqlite:///{folder / 'bot.sqlite'}", REPO / "routing_rules.yaml",
                         slack_messages_per_second=args.rate)
    world.slack.limit_posts_per_channel(args.rate)
    try:
        records = dev_records()
        write_burst(world, records, args.burst, args.spread)
        stored, ingest_s, repoll_s = ingest(world)
        ingest_rate = stored / ingest_s
        print(f"ingest: {stored:,} inquiries stored in {ingest_s:.1f} s = {ingest_rate:,.0f} inquiries/s; "
              f"the next poll, re-reading the overlap window, found nothing new in {repoll_s:.1f} s")
        batched_rate, base_rate = transactions_compared(world, folder, args.baseline_items)
        print(f"baseline, {args.baseline_items:,} items committed one by one: {base_rate:,.0f} inquiries/s; "
              f"in one transaction as a poll stores them: {batched_rate:,.0f}/s "
              f"({batched_rate / base_rate:.2f}x)")
        calls_before = len(world.slack.calls_to("chat.postMessage"))
        drain_s, stuck = drain(world, give_up_after=args.drain_limit)
        memory = peak_mb()
        per_channel = posts_per_channel(world)
        busiest, most = per_channel.most_common(1)[0]
        floor = (most + stuck) / args.rate
        if stuck:
            print(f"drain: {stuck:,} inquiries not yet in chat; they count towards the busiest "
                  "channel, so the ratio below is a lower bound")
        refused = len(world.slack.calls_to("chat.postMessage")) - calls_before - sum(per_channel.values())
        print(f"drain: {'gave up' if stuck else 'every card in chat'} after {drain_s:.1f} s; "
              f"pacing floor {floor:.1f} s "
              f"({most:,} messages in {world.slack.workspace.channels[busiest].name} at "
              f"{args.rate:g}/s); ratio {drain_s / floor:.3f}; 429s from the fake: {refused}")
        print("messages per channel: " + ", ".join(
            f"{world.slack.workspace.channels[c].name}={n}" for c, n in per_channel.most_common() if n))
        print(f"peak memory (max RSS, whole process): {memory:.0f} MB")
        sweep = sweep_timings(world, folder / "sweep.sqlite", args.rows)
        print(f"sweep over {args.rows:,} inquiries ({sweep.open_rows:,} open): median "
              f"{sweep.sweep_ms:.1f} ms per sweep, {sweep.reminders} reminders sent over "
              f"{sweep.runs} sweeps; the due query alone {sweep.due_ms:.2f} ms")
    finally:
        world.close()
    figures = {
        "ingest_per_s": round(ingest_rate), "drain_ratio": round(drain_s / floor, 3),
        "peak_mb": round(memory, 1), "sweep_ms": round(sweep.sweep_ms, 2),
        "due_query_ms": round(sweep.due_ms, 3), "baseline_store_per_s": round(base_rate),
        "batched_store_per_s": round(batched_rate), "batched_vs_baseline": round(batched_rate / base_rate, 2), "stored": stored,
        "repoll_s": round(repoll_s, 2), "drain_s": round(drain_s, 2), "drain_floor_s": round(floor, 2), "slack_429s": refused, "drain_complete": not stuck,
        "rate_per_channel": args.rate, "sweep_rows": args.rows,
    }
    missed = [key for key, goal in GOALS.items()
              if (figures[key] < goal if key == "ingest_per_s" else figures[key] > goal)]
    print("goals " + ("met" if not missed else "missed: " + ", ".join(missed)))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
