"""A real `borgerbot run` process stops on SIGTERM within a few seconds, wherever its poll is,
and hands its leases over (issue 13): here the poll waits on a Graph answer held back."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlmodel import col, select

from bot.demo.world import SandboxWorld
from bot.leases import LAPSED
from bot.models import Lease
from tests.conftest import RULES_FILE
from tests.test_replicas import launch, wait_for

FEED = "GET /{id}/feed"


@dataclass
class Stopped:
    seconds: float
    exit_code: int | None
    leases: list[Lease]


@pytest.fixture(scope="module")
def stopped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stopped]:
    folder = tmp_path_factory.mktemp("stop")
    world = SandboxWorld(f"sqlite:///{folder / 'bot.db'}", RULES_FILE)
    world.graph.delay_next(60.0, route=FEED)  # longer than the replica's 30 s read timeout
    replica = launch("stopping", world, f"sqlite:///{folder / 'bot.db'}", folder,
                     http_timeout="30")
    try:
        wait_for(lambda: world.graph.request_counts().get(FEED), "the poll to ask for the feed",
                 timeout=30)
        time.sleep(0.3)  # the request is now held open by the emulator
        started = time.monotonic()
        replica.process.send_signal(signal.SIGTERM)
        try:
            code: int | None = replica.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            code = None
        seconds = time.monotonic() - started
        with world.store.session() as session:
            leases = list(session.exec(select(Lease).where(col(Lease.holder) == "stopping")))
        yield Stopped(seconds, code, leases)
    finally:
        if replica.process.poll() is None:
            replica.process.kill()
            replica.process.wait()
        world.close()


def test_sigterm_ends_a_poll_waiting_on_a_platform_within_a_few_seconds(stopped: Stopped) -> None:
    assert stopped.exit_code == 0 and stopped.seconds < 6


def test_sigterm_during_a_poll_releases_the_leases(stopped: Stopped) -> None:
    assert stopped.leases and {lease.expires_at for lease in stopped.leases} == {LAPSED}


