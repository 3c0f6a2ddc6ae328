"""The fake Slack for tests that talk to it directly, loaded for every test module through
`pytest_plugins` in conftest: one server per module, emptied and on a fake clock per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.sandbox.slack import FakeSlack


class FakeClock:
    """Fake monotonic time shared by the code under test and the fake Slack; sleeping moves
    it, so pacing and rate limits are tested without waiting."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += seconds


@pytest.fixture(scope="module")
def slack_server() -> Iterator[FakeSlack]:
    """Started once per module, because a fresh server per test dominates the run time."""
    with FakeSlack().running() as fake:
        yield fake


@pytest.fixture
def slack_clock(slack_server: FakeSlack) -> FakeClock:
    slack_server.clock = clock = FakeClock()
    return clock


@pytest.fixture
def slack(slack_server: FakeSlack, slack_clock: FakeClock) -> FakeSlack:
    """An empty workspace (reset after the clock is set, so it runs on that clock) with
    #teknik, whose member is U1."""
    slack_server.reset()
    slack_server.add_channel("C1", "teknik", members=("U1",))
    return slack_server
