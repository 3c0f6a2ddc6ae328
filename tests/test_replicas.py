"""Two real `borgerbot run` processes on one PostgreSQL database behave as one bot.

The platform emulators and the fake Slack run in this process; the two replicas are child
processes in HTTP mode, each on its own port, polling the emulators every half second with
a 3-second lease. One scenario runs once per module (it takes about 13 s) and each test
asserts one thing a user or operator would notice about it:

1. citizens write on every platform while both replicas run;
2. a specialist's draft reaches one replica, the officer's approval click lands on both;
3. the replica that polls Facebook is killed with SIGKILL and citizens keep writing;
4. the survivor is stopped with SIGTERM.

Which replica polled which account is read from each replica's own log of the HTTP requests
it made (httpx logs each request at INFO): an account polled by both at once would show
their requests interleaved.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
import yaml
from sqlalchemy import text
from sqlmodel import col, select

from bot.demo.world import BOT_TOKEN, OFFICERS, SIGNING_SECRET, SandboxWorld, specialist_for
from bot.leases import LAPSED
from bot.models import Inquiry, Lease
from bot.store import Store, make_engine, upgrade
from tests.conftest import POSTGRES_URL, REQUIRE_POSTGRES, RULES_FILE

pytestmark = pytest.mark.postgres

TAKEOVER_SECONDS = 4.0
LEASE_SECONDS = TAKEOVER_SECONDS * 3 / 4
POLL_SECONDS = 0.5
X_POLL_SECONDS = 2.0  # X allows 15 direct-message reads per 15 minutes
OFFICER = OFFICERS[0]
QUESTION = "Hvornår bliver mit storskrald hentet? Sofaen står stadig ude ved fortovet (nr. {})."
DRAFT = "Hej, vi henter storskraldet på torsdag. Venlig hilsen Affald og genbrug"
PLATFORMS = ("facebook", "linkedin", "x")
TOKEN_ENV = {"facebook": "SANDBOX_GRAPH_TOKEN", "linkedin": "SANDBOX_LINKEDIN_TOKEN", "x": "SANDBOX_X_TOKEN"}
REQUEST_LINE = re.compile(r"^(\S+ \S+) INFO httpx: HTTP Request: GET http://127\.0\.0\.1:(\d+)/")
CARDS_TIMEOUT = 20.0  # the bot posts about one message per second per channel, as Slack allows
T = TypeVar("T")


def wait_for(condition: Callable[[], T], what: str, timeout: float = 10.0) -> T:
    """Poll `condition` until it returns something truthy; fail with `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


@dataclass
class Replica:
    """One `python -m bot run` child and the file its log goes to."""

    name: str
    port: int
    log: Path
    process: subprocess.Popen[bytes]

    def post(self, body: str, headers: dict[str, str]) -> int:
        """Deliver a signed Slack request the way Slack does in HTTP mode."""
        answer = httpx.post(f"http://127.0.0.1:{self.port}/slack/events", content=body.encode(),
                            headers=headers, timeout=2.0)
        return answer.status_code

    def listening(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
        except OSError:
            assert self.process.poll() is None, f"{self.name} exited:\n{self.log.read_text()}"
            return False
        return True

    def polls(self) -> list[tuple[datetime, int]]:
        """(time, emulator port) of every platform read this replica made."""
        found = (REQUEST_LINE.match(line) for line in self.log.read_text().splitlines())
        return [(datetime.strptime(m[1], "%Y-%m-%d %H:%M:%S,%f"), int(m[2])) for m in found if m]


@dataclass
class Scenario:
    """What the two-replica run did, recorded for the tests to judge."""

    world: SandboxWorld
    replicas: dict[str, Replica]
    items: list[tuple[str, str]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    approved: int = 0
    killed: str = ""
    killed_at: datetime = datetime.min
    takeover_seconds: float = 0.0
    exit_code: int | None = None
    leases_after_stop: list[Lease] = field(default_factory=list)

    @property
    def survivor(self) -> str:
        return next(name for name in self.replicas if name != self.killed)

    def inquiries(self) -> list[Inquiry]:
        with self.world.store.session() as session:
            return list(session.exec(select(Inquiry)).all())

    def write(self, platform: str) -> None:
        self.items.append(self.world.citizens.write(
            {"platform": platform, "kind": "comment", "text": QUESTION.format(len(self.items) + 1)}))

    def all_in_chat(self) -> bool:
        posted = {(i.platform, i.external_id) for i in self.inquiries() if i.chat_ts}
        return posted >= set(self.items)

    def holders(self) -> dict[str, str]:
        with self.world.store.session() as session:
            return {lease.name: lease.holder for lease in session.exec(select(Lease)).all()}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def schema_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL schema, named in the URL's search_path for the children."""
    if not POSTGRES_URL:
        if REQUIRE_POSTGRES:
            pytest.fail("BORGERBOT_REQUIRE_POSTGRES=1 but BORGERBOT_TEST_POSTGRES_URL is not set")
        pytest.skip("two replicas need PostgreSQL: set BORGERBOT_TEST_POSTGRES_URL to run them")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    url = f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    engine = make_engine(url)
    upgrade(engine)  # as `borgerbot db upgrade` before the replicas start
    engine.dispose()
    try:
        yield url
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def rules_file(world: SandboxWorld, folder: Path) -> Path:
    """The repository's rules with the sandbox accounts and the world's officers filled in
    (Instagram is left out so each emulator serves one account and a read names its job)."""
    data = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))
    data["chat"]["officers"] = list(OFFICERS)
    data["accounts"] = [
        {"platform": platform, "account": account, "token_env": TOKEN_ENV[platform],
         "poll_interval": X_POLL_SECONDS if platform == "x" else POLL_SECONDS}
        for platform, account in world.clients if platform in PLATFORMS
    ]
    path = folder / "rules.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def launch(name: str, world: SandboxWorld, url: str, folder: Path, *, http_timeout: str = "2") -> Replica:
    env = {key: value for key, value in os.environ.items() if not key.startswith("BORGERBOT_")}
    port = free_port()
    env |= {
        "PYTHONPATH": str(RULES_FILE.parent),
        "BORGERBOT_DATABASE_URL": url,
        "BORGERBOT_RULES_FILE": str(rules_file(world, folder)),
        "BORGERBOT_SLACK_MODE": "http",
        "BORGERBOT_HTTP_PORT": str(port),
        "BORGERBOT_SLACK_API_URL": world.slack.base_url,
        "BORGERBOT_SLACK_BOT_TOKEN": BOT_TOKEN,
        "BORGERBOT_SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "BORGERBOT_FACEBOOK_API_URL": world.graph.base_url + "v25.0/",
        "BORGERBOT_LINKEDIN_API_URL": world.linkedin.base_url,
        "BORGERBOT_X_API_URL": world.x.base_url,
                "BORGERBOT_SWEEP_INTERVAL_SECONDS": str(POLL_SECONDS),
        "BORGERBOT_TAKEOVER_SECONDS": str(TAKEOVER_SECONDS),
        "BORGERBOT_REPLICA_ID": name,
        "BORGERBOT_HTTP_TIMEOUT_SECONDS": http_timeout,
        "SANDBOX_GRAPH_TOKEN": world.graph.token,
        "SANDBOX_LINKEDIN_TOKEN": world.linkedin.token,
        "SANDBOX_X_TOKEN": world.x.token,
    }
    log = folder / f"{name}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen([sys.executable, "-m", "bot", "run"], env=env, cwd=folder,
                                   stdout=sink, stderr=subprocess.STDOUT)
    return Replica(name, port, log, process)


def approve_on_both(scenario: Scenario) -> None:
    """A draft arrives through one replica; the officer's click reaches both (a double click
    that a load balancer spread over the two)."""
    world, (first, second) = scenario.world, scenario.replicas.values()
    inquiry = world.inquiry_for(*scenario.items[0])
    inquiry_id = inquiry.id or 0
    channel, ts = world.message_of(inquiry_id)
    draft = world.requests.message_event(world.slack.say(channel, specialist_for("affald"), DRAFT, thread_ts=ts))
    scenario.statuses.append(first.post(draft.body, draft.headers))
    wait_for(lambda: world.inquiry(inquiry_id).approval_ts, "the approval request")
    channel, ts = world.message_of(inquiry_id, "approval")
    click = world.requests.block_action(
        user=OFFICER, action={"action_id": "approve", "value": str(inquiry_id)},
        message=world.slack.message(channel, ts), channel=channel,
        trigger_id=world.slack.new_trigger_id(), response_url=world.slack.new_response_url())
    scenario.statuses += [second.post(click.body, click.headers), first.post(click.body, click.headers)]
    wait_for(lambda: world.replies_seen_by_citizen(inquiry_id), "the approved reply on Facebook")
    wait_for(lambda: [e for e in world.slack.ephemerals if e["user"] == OFFICER], "the second click's answer")
    scenario.approved = inquiry_id


def kill_the_facebook_poller(scenario: Scenario) -> None:
    """SIGKILL whoever polls Facebook, then time how long until the other holds its lease."""
    facebook = f"poll:facebook:{scenario.world.graph.world.page_id}"
    scenario.killed = scenario.holders()[facebook]
    victim = scenario.replicas[scenario.killed]
    victim.process.send_signal(signal.SIGKILL)
    victim.process.wait(timeout=5)
    scenario.killed_at = datetime.now()
    started = time.monotonic()
    for platform in PLATFORMS:
        scenario.write(platform)
    wait_for(lambda: scenario.holders()[facebook] == scenario.survivor, "the takeover", timeout=3 * LEASE_SECONDS)
    scenario.takeover_seconds = time.monotonic() - started
    wait_for(scenario.all_in_chat, "the items written after the kill", timeout=CARDS_TIMEOUT)


def stop_the_survivor(scenario: Scenario) -> None:
    process = scenario.replicas[scenario.survivor].process
    process.send_signal(signal.SIGTERM)
    scenario.exit_code = process.wait(timeout=10)
    with scenario.world.store.session() as session:
        scenario.leases_after_stop = list(session.exec(select(Lease).where(col(Lease.holder) == scenario.survivor)))


@pytest.fixture(scope="module")
def scenario(schema_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    folder = tmp_path_factory.mktemp("replicas")
    engine = make_engine(schema_url)
    world = SandboxWorld(schema_url, RULES_FILE, store=Store(engine))
    replicas = {name: launch(name, world, schema_url, folder) for name in ("replica-a", "replica-b")}
    run = Scenario(world, replicas)
    try:
        for replica in replicas.values():
            wait_for(replica.listening, f"{replica.name} to listen", timeout=20)
        for platform in PLATFORMS:
            run.write(platform)
        wait_for(run.all_in_chat, "the first items in chat", timeout=CARDS_TIMEOUT)
        approve_on_both(run)
        kill_the_facebook_poller(run)
        stop_the_survivor(run)
        yield run
    finally:
        for replica in replicas.values():
            if replica.process.poll() is None:
                replica.process.kill()
                replica.process.wait()
        world.close()


def test_every_citizen_item_becomes_exactly_one_inquiry(scenario: Scenario) -> None:
    stored = sorted((i.platform, i.external_id) for i in scenario.inquiries())
    assert stored == sorted(scenario.items)


def test_every_inquiry_has_exactly_one_card_in_its_channel(scenario: Scenario) -> None:
    world = scenario.world
    inquiries = scenario.inquiries()
    [channel] = {i.chat_channel for i in inquiries}
    assert sorted(m["ts"] for m in world.slack.history(channel or "")) == sorted(i.chat_ts or "" for i in inquiries)


def test_each_account_is_polled_by_one_replica_at_a_time(scenario: Scenario) -> None:
    reads = sorted((at, port, name) for name, replica in scenario.replicas.items() for at, port in replica.polls())
    turns: dict[int, list[str]] = {}  # per emulator, who read from it in turn: [a, b] is one handover
    for _, port, name in reads:
        names = turns.setdefault(port, [])
        if names[-1:] != [name]:
            names.append(name)
    allowed = ([scenario.survivor], [scenario.killed], [scenario.killed, scenario.survivor])
    assert len(turns) == len(PLATFORMS)
    assert all(names in allowed for names in turns.values()), turns


def test_the_survivor_polled_the_killed_replicas_accounts_only_after_the_kill(scenario: Scenario) -> None:
    survivor = scenario.replicas[scenario.survivor].polls()
    killed_ports = {port for _, port in scenario.replicas[scenario.killed].polls()}
    assert min(at for at, port in survivor if port in killed_ports) > scenario.killed_at


def test_a_slack_request_is_accepted_by_either_replica(scenario: Scenario) -> None:
    assert scenario.statuses == [200, 200, 200]


def test_an_approval_clicked_on_both_replicas_reaches_the_citizen_once(scenario: Scenario) -> None:
    assert scenario.world.replies_seen_by_citizen(scenario.approved) == [DRAFT]


def test_a_killed_replicas_jobs_move_within_the_lease_period_and_a_renewal_step(scenario: Scenario) -> None:
    assert scenario.takeover_seconds <= TAKEOVER_SECONDS + POLL_SECONDS


def test_sigterm_stops_a_replica_cleanly(scenario: Scenario) -> None:
    assert scenario.exit_code == 0


def test_a_stopped_replica_hands_its_jobs_over_at_once(scenario: Scenario) -> None:
    assert scenario.leases_after_stop
    assert {lease.expires_at for lease in scenario.leases_after_stop} == {LAPSED}

