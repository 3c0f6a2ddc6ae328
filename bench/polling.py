"""Polling cost and delay, measured at the sandbox emulators over real loopback HTTP.

Cost: for each platform, an account with 10, 100 and 1,000 recent posts (each carrying one
month-old comment) is polled once to warm up. Then one poll with nothing new and one after
50 citizens commented (5 on each of the 10 newest posts) are counted at the emulator. The
client watches all N posts where its connector allows it. The naive column is the poller
the budget in platform-apis.md §6 rules out: list the posts (one request per 100), read
every post's comments (one request per post) and read each message inbox once.

Delay: a real poll loop runs every second in a thread while 30 citizens comment at random
moments; the delay is from the comment's creation to the moment the intake stored it.

The last line is one JSON object for tools.

    .venv/bin/python bench/polling.py [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlmodel import col, select

from bot.accounts import base_url_for
from bot.demo.world import SandboxWorld
from bot.models import Inquiry
from bot.platforms import PLATFORMS
from bot.platforms.base import PlatformClient
from bot.polling import poll_account
from bot.sandbox.server import Emulator

RULES_FILE = REPO / "routing_rules.yaml"
SIZES = (10, 100, 1000)
NEW_COMMENTS, COMMENTED_POSTS = 50, 10
INBOXES = {"facebook": 1, "instagram": 1, "linkedin": 0, "x": 1}  # message streams
WINDOW_OPTION = {"facebook": "recent_items", "instagram": "recent_items", "linkedin": "recent_posts"}
QUESTION = "Hvornår åbner svømmehallen igen efter renoveringen?"
POLL_INTERVAL = 1.0
LATENCY_COMMENTS, LATENCY_SPAN = 30, 20.0
# X allows 15 DM reads per 15 minutes, and the X client reads DMs on every poll: a 1-second
# loop gets the whole account paused after 15 cycles, so X sits out the delay measurement.
LATENCY_PLATFORMS = ("facebook", "instagram", "linkedin")


# -- writing into the sandbox as the account and as citizens ------------------------------


def emulator(world: SandboxWorld, platform: str) -> Emulator:
    return {"facebook": world.graph, "instagram": world.graph,
            "linkedin": world.linkedin, "x": world.x}[platform]


def add_post(world: SandboxWorld, platform: str, text: str, when: datetime) -> str:
    """A post by the municipality's own account."""
    if platform == "facebook":
        return world.graph.add_post(text, created_at=when)
    if platform == "instagram":
        return world.graph.add_media(text, created_at=when)
    if platform == "linkedin":
        return world.linkedin.add_post(text, created_at=when)
    return world.x.post(text, created_at=when)


def add_comment(world: SandboxWorld, platform: str, post: str, number: int,
                when: datetime | None = None) -> str:
    """Citizen number `number` comments on `post`; returns the id the connector will report."""
    text = f"{QUESTION} ({number})"
    if platform in ("facebook", "instagram"):
        return world.graph.add_comment(post, text, author_id=str(9_000_000 + number),
                                       author_name=f"Borger {number}", created_at=when)
    if platform == "linkedin":
        return world.linkedin.add_comment(post, text, author=f"urn:li:person:b{number}",
                                          created_at=when)
    citizen = world.x.add_user(f"borger{number}", f"Borger {number}")
    return world.x.post(text, author=citizen, reply_to=post, created_at=when)


def watching(world: SandboxWorld, platform: str, posts: int) -> PlatformClient:
    """A client for the world's account on `platform` that watches its `posts` newest posts."""
    account = next(c.account for c in world.clients.values() if c.platform == platform)
    token = emulator(world, platform).token
    options = {WINDOW_OPTION[platform]: posts} if platform in WINDOW_OPTION else {}
    client: PlatformClient = PLATFORMS[platform](
        account, token, base_url_for(world.settings, platform), **options)
    return client


def new_world(directory: Path, name: str) -> SandboxWorld:
    return SandboxWorld(f"sqlite:///{directory / name}.db", RULES_FILE)


# -- cost: requests per poll cycle ----------------------------------------------------------


def requests_of(world: SandboxWorld, client: PlatformClient) -> tuple[int, int]:
    """(HTTP requests, inquiries stored) of one poll cycle of one account."""
    server = emulator(world, client.platform)
    server.reset_counters()
    outcome = poll_account(world.workflow, client, world.clock())
    return server.total_requests(), outcome.stored


def naive_requests(platform: str, posts: int) -> int:
    return math.ceil(posts / 100) + posts + INBOXES[platform]


def measure_cost(directory: Path, posts: int) -> dict[str, dict[str, int]]:
    """Per platform: idle and busy requests per cycle for an account with `posts` posts."""
    world = new_world(directory, f"cost-{posts}")
    try:
        month_ago = world.clock() - timedelta(days=30)
        found: dict[str, dict[str, int]] = {}
        number = 0
        for platform in PLATFORMS:
            ids = []
            for index in range(posts):
                when = month_ago + timedelta(minutes=index)
                ids.append(add_post(world, platform, f"Nyhed nummer {index}", when))
                number += 1
                add_comment(world, platform, ids[-1], number, when + timedelta(seconds=30))
            client = watching(world, platform, posts)
            requests_of(world, client)  # warm-up: the first poll sets cursors and counts
            idle, _ = requests_of(world, client)
            for index in range(NEW_COMMENTS):
                number += 1
                add_comment(world, platform, ids[-1 - index % COMMENTED_POSTS], number)
            busy, stored = requests_of(world, client)
            client.close()
            if stored != NEW_COMMENTS:
                raise SystemExit(f"{platform} with {posts} posts stored {stored} of {NEW_COMMENTS}")
            found[platform] = {"idle": idle, "new": busy, "naive": naive_requests(platform, posts)}
        return found
    finally:
        world.close()


# -- delay: comment created -> inquiry stored ------------------------------------------------


class PollLoop(threading.Thread):
    """What the scheduler does: poll every account once per interval, at a fixed rate."""

    def __init__(self, world: SandboxWorld, clients: list[PlatformClient]) -> None:
        super().__init__(name="poll-loop", daemon=True)
        self.world, self.clients = world, clients
        self.stopping = threading.Event()

    def run(self) -> None:
        tick = time.monotonic()
        while not self.stopping.is_set():
            for client in self.clients:
                poll_account(self.world.workflow, client, self.world.clock())
            tick += POLL_INTERVAL
            self.stopping.wait(max(0.0, tick - time.monotonic()))


def stored_times(world: SandboxWorld, ids: list[str]) -> dict[str, datetime]:
    with world.store.session() as session:
        rows = session.exec(select(Inquiry).where(col(Inquiry.external_id).in_(ids))).all()
    return {row.external_id: row.received_at.replace(tzinfo=UTC) for row in rows}


def wait_for(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def measure_delay(directory: Path, rng: random.Random) -> tuple[list[float], int]:
    """Delays in ms of the comments that arrived, and how many never did."""
    world = new_world(directory, "delay")
    clients = [watching(world, platform, 100) for platform in LATENCY_PLATFORMS]
    try:
        week_ago = world.clock() - timedelta(days=7)
        posts = {p: [add_post(world, p, f"Nyhed {i}", week_ago + timedelta(hours=i))
                     for i in range(10)] for p in LATENCY_PLATFORMS}
        loop = PollLoop(world, clients)
        loop.start()
        moments = sorted(rng.uniform(0.0, LATENCY_SPAN) for _ in range(LATENCY_COMMENTS))
        start = time.monotonic()
        created: dict[str, datetime] = {}
        for number, moment in enumerate(moments, start=1):
            time.sleep(max(0.0, start + moment - time.monotonic()))
            platform = LATENCY_PLATFORMS[number % len(LATENCY_PLATFORMS)]
            when = datetime.now(UTC)
            created[add_comment(world, platform, rng.choice(posts[platform]), number)] = when
        ids = list(created)
        wait_for(lambda: len(stored_times(world, ids)) == len(ids), timeout=3 * POLL_INTERVAL)
        loop.stopping.set()
        loop.join()
        stored = stored_times(world, ids)
        delays = [(stored[i] - created[i]).total_seconds() * 1000 for i in ids if i in stored]
        return delays, len(ids) - len(stored)
    finally:
        for client in clients:
            client.close()
        world.close()


# -- report -----------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile: the smallest value with at least `share` of all at or below."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    figures: dict[str, float | int] = {}
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-polling-") as scratch:
        directory = Path(scratch)
        print("HTTP requests per poll cycle (idle: nothing new; new: 50 new comments)")
        print(f"{'platform':<10} {'posts':>6} {'idle':>6} {'new':>6} {'naive':>7}")
        for posts in SIZES:
            for platform, counts in measure_cost(directory, posts).items():
                print(f"{platform:<10} {posts:>6} {counts['idle']:>6} {counts['new']:>6} "
                      f"{counts['naive']:>7}")
                for key, value in counts.items():
                    figures[f"{platform}_{key}_requests_{posts}_posts"] = value
        print("(LinkedIn's connector watches at most the 100 newest posts; X reads timelines, "
              "so its cost does not grow with posts)")
        delays, missing = measure_delay(directory, random.Random(args.seed))
    figures["latency_p50_ms"] = round(statistics.median(delays)) if delays else -1
    figures["latency_p95_ms"] = round(percentile(delays, 0.95)) if delays else -1
    figures["latency_comments"], figures["latency_missing"] = len(delays), missing
    print(f"\nComment created -> inquiry stored, poll every {POLL_INTERVAL:.0f} s, "
          f"{len(delays)} comments on {', '.join(LATENCY_PLATFORMS)}: "
          f"median {figures['latency_p50_ms']} ms, p95 {figures['latency_p95_ms']} ms, "
          f"{missing} never arrived")
    print(f"(whole bench {time.monotonic() - began:.1f} s)")
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
