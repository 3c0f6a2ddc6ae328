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

The emulators and the fake Slack run in a second process (bench/load_sandbox.py), so the
peak memory is the bot process's own: its resident-set high-water mark through ingest and
drain (the sweep's bulk-built database is bench scaffolding and comes after). The sweep is
timed twice: at an instant with nothing due, the pure scan the goal is about, and every five
minutes of fake time with the handful of reminders then due, their chat posts included
(time spent waiting for Slack's per-channel pacing is shown apart). The last line is one
JSON object for tools.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import resource
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from slack_sdk import WebClient
from sqlalchemy import func
from sqlmodel import select

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from load_sandbox import Sandbox
from load_sweep import sweep_timings

from bot.accounts import build_clients
from bot.assembly import Configuration, build_workflow, load_configuration
from bot.chat.slack import SlackGateway
from bot.demo.world import BOT_TOKEN, OFFICERS, SandboxWorld
from bot.models import Inquiry, InquiryState, utcnow
from bot.platforms.base import IncomingItem, PlatformClient
from bot.polling import poll_account
from bot.reminders import sweep
from bot.store import Store, open_store
from bot.workflow import Workflow

DEV_SET = REPO.parent / "shared" / "data" / "routing-dev.jsonl"
BURST_POST = ("Vejarbejde på Roskildevej: fra mandag er vejen spærret ved rundkørslen i to uger. "
              "Busserne kører omkring ad Vallensbækvej.")
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


def write_burst(records: list[dict[str, Any]], burst: int, others: int, world: SandboxWorld) -> None:
    """The burst under one post, with the spread items written in between, as they arrive
    (runs in the sandbox process)."""
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


class PacingMeter:
    """The gateway's sleep, counting the seconds spent waiting for a channel's posting slot."""

    def __init__(self) -> None:
        self.slept = 0.0
        self._guard = threading.Lock()

    def __call__(self, seconds: float) -> None:
        with self._guard:
            self.slept += seconds
        time.sleep(seconds)


@dataclass
class Bot:
    """The bot's side, in this process: the real clients, gateway and workflow."""

    config: Configuration
    store: Store
    gateway: SlackGateway
    clients: Mapping[tuple[str, str], PlatformClient]
    pacing: PacingMeter

    @classmethod
    def start(cls, sandbox: Sandbox, database_url: str, rate: float) -> Bot:
        endpoints = sandbox.endpoints
        config = load_configuration(str(REPO / "routing_rules.yaml"))
        config = replace(config, setup=replace(config.setup, officers=frozenset(OFFICERS)))
        pacing = PacingMeter()
        gateway = SlackGateway(WebClient(token=BOT_TOKEN, base_url=endpoints.settings.slack_api_url),
                               messages_per_second=rate, sleep=pacing)
        clients = build_clients(endpoints.accounts, endpoints.settings, endpoints.tokens)
        return cls(config, open_store(database_url), gateway, clients, pacing)

    def workflow(self, store: Store) -> Workflow:
        return build_workflow(self.config, store, self.gateway, self.clients,
                              group_members=self.gateway.usergroup_members)

    def close(self) -> None:
        for client in self.clients.values():
            client.close()
        self.store.engine.dispose()


def ingest(workflow: Workflow) -> tuple[int, float, float]:
    """Poll every account until a poll brings nothing new; returns (stored, seconds until the
    last inquiry was stored, seconds of the final poll that only met repeats)."""
    stored, start = 0, time.perf_counter()
    while True:
        began = time.perf_counter()
        new = sum(poll_account(workflow, client, utcnow()).stored for client in workflow.ctx.clients.values())
        if not new:
            return stored, began - start, time.perf_counter() - began
        stored += new


def transactions_compared(bot: Bot, folder: Path, count: int) -> tuple[float, float]:
    """The baseline: `count` of the burst's items stored into two fresh databases, in one
    transaction as a poll does, and committing each item as a naive poller would; returns
    (batched, one by one) in inquiries per second, fetching excluded from both."""
    page = next(client for (platform, _), client in bot.clients.items() if platform == "facebook")
    items: list[IncomingItem] = page.fetch_new("comments", "").items[:count]
    rates = []
    for name, batched in (("batched", True), ("one-by-one", False)):
        store = open_store(f"sqlite:///{folder / name}.sqlite")
        workflow = bot.workflow(store)
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


def waiting_for_chat(store: Store) -> int:
    with store.session() as session:
        return session.exec(select(func.count()).select_from(Inquiry)
                            .where(Inquiry.state == InquiryState.RECEIVED)).one()


def drain(workflow: Workflow, give_up_after: float) -> tuple[float, int]:
    """Run the sweep back to back until every stored inquiry has its card in chat, or until
    `give_up_after` seconds; returns (seconds, inquiries still waiting)."""
    start = time.perf_counter()
    while (waiting := waiting_for_chat(workflow.ctx.store)) and time.perf_counter() - start < give_up_after:
        sweep(workflow, utcnow())
    return time.perf_counter() - start, waiting


def peak_mb() -> float:
    """This (the bot's) process's resident-set high-water mark; Linux reports kilobytes."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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
    sandbox = Sandbox(REPO / "routing_rules.yaml", args.rate,
                      functools.partial(write_burst, dev_records(), args.burst, args.spread))
    bot = Bot.start(sandbox, f"sqlite:///{folder / 'bot.sqlite'}", args.rate)
    workflow = bot.workflow(bot.store)
    try:
        stored, ingest_s, repoll_s = ingest(workflow)
        ingest_rate = stored / ingest_s
        print(f"ingest: {stored:,} inquiries stored in {ingest_s:.1f} s = {ingest_rate:,.0f} inquiries/s; "
              f"the next poll, re-reading the overlap window, found nothing new in {repoll_s:.1f} s")
        batched_rate, base_rate = transactions_compared(bot, folder, args.baseline_items)
        print(f"baseline, {args.baseline_items:,} items committed one by one: {base_rate:,.0f} inquiries/s; "
              f"in one transaction as a poll stores them: {batched_rate:,.0f}/s "
              f"({batched_rate / base_rate:.2f}x)")
        calls_before = sandbox.post_calls()
        drain_s, stuck = drain(workflow, give_up_after=args.drain_limit)
        memory = peak_mb()
        per_channel = sandbox.posts_per_channel()
        busiest, most = per_channel.most_common(1)[0]
        floor = (most + stuck) / args.rate
        if stuck:
            print(f"drain: {stuck:,} inquiries not yet in chat; they count towards the busiest "
                  "channel, so the ratio below is a lower bound")
        refused = sandbox.post_calls() - calls_before - sum(per_channel.values())
        print(f"drain: {'gave up' if stuck else 'every card in chat'} after {drain_s:.1f} s; "
              f"pacing floor {floor:.1f} s ({most:,} messages in {busiest} at {args.rate:g}/s); "
              f"ratio {drain_s / floor:.3f}; 429s from the fake: {refused}")
        print("messages per channel: " + ", ".join(f"{c}={n}" for c, n in per_channel.most_common() if n))
        print(f"peak memory of the bot process (max RSS through ingest and drain; emulators and "
              f"fake Slack run apart): {memory:.0f} MB")
        timings = sweep_timings(bot, folder / "sweep.sqlite", args.rows,
                                [record["text"] for record in dev_records()])
        print(f"sweep over {args.rows:,} inquiries ({timings.open_rows:,} open): nothing due "
              f"{timings.idle_ms:.1f} ms (median); every 5 minutes of fake time {timings.due_ms:.1f} ms "
              f"(median, of which {timings.paced_ms:.1f} ms waiting for channel pacing), "
              f"{timings.reminders} reminders sent over {timings.runs} sweeps; "
              f"the due query alone {timings.query_ms:.2f} ms")
    finally:
        bot.close()
        sandbox.close()
    figures = {
        "ingest_per_s": round(ingest_rate), "drain_ratio": round(drain_s / floor, 3),
        "peak_mb": round(memory, 1), "sweep_ms": round(timings.idle_ms, 2),
        "sweep_due_ms": round(timings.due_ms, 2), "sweep_due_paced_ms": round(timings.paced_ms, 2),
        "due_query_ms": round(timings.query_ms, 3), "reminders_sent": timings.reminders,
        "baseline_store_per_s": round(base_rate), "batched_store_per_s": round(batched_rate),
        "batched_vs_baseline": round(batched_rate / base_rate, 2), "stored": stored,
        "repoll_s": round(repoll_s, 2), "drain_s": round(drain_s, 2), "drain_floor_s": round(floor, 2),
        "slack_429s": refused, "drain_complete": not stuck, "rate_per_channel": args.rate,
        "sweep_rows": args.rows,
    }
    missed = [key for key, goal in GOALS.items()
              if (figures[key] < goal if key == "ingest_per_s" else figures[key] > goal)]
    print("goals " + ("met" if not missed else "missed: " + ", ".join(missed)))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
