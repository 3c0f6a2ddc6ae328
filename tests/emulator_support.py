"""What the connector tests share: one emulator per test module, clients that never wait to
retry, the faults that outlast a client's retries, and the check that a token stays secret."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any, TypeVar

import pytest

from bot.errors import AuthExpired
from bot.platforms.graph import GraphClient
from bot.platforms.http import RetryPolicy
from bot.sandbox.graph import GraphEmulator
from bot.sandbox.linkedin import LinkedInEmulator
from bot.sandbox.server import Emulator
from bot.sandbox.x import XEmulator

AnyEmulator = TypeVar("AnyEmulator", bound=Emulator)
Client = TypeVar("Client", bound=GraphClient)

NO_WAIT = RetryPolicy(attempts=3, base_delay=0.0, max_delay=0.0)
OUTAGES = ("server_error", "slow", "dropped")


def serve(emulator: AnyEmulator) -> Iterator[AnyEmulator]:
    """Started once per module, because a fresh server per test dominates the run time."""
    emulator.start()
    yield emulator
    emulator.stop()


def graph_clients(
    kind: type[Client], account: str, graph: GraphEmulator
) -> Iterator[Callable[..., Client]]:
    """Graph clients with small timeouts and instant retries, closed after the test."""
    made: list[Client] = []

    def build(**options: Any) -> Client:
        made.append(kind(account, graph.token, graph.base_url + "v26.0/", timeout=0.2,
                         retry=NO_WAIT, **options))
        return made[-1]

    yield build
    for client in made:
        client.close()


def ago(graph: GraphEmulator, minutes: float) -> str:
    return (graph.now() - timedelta(minutes=minutes)).isoformat()


def begin_outage(emulator: LinkedInEmulator | XEmulator, fault: str) -> None:
    """Three failures in a row of one of the `OUTAGES`: more than a client retries."""
    if fault == "server_error":
        emulator.server_error_next(503, times=3)
    elif fault == "slow":
        emulator.delay_next(0.5, times=3)
    else:
        emulator.drop_next(times=3)


def assert_token_kept_secret(
    emulator: LinkedInEmulator | XEmulator, poll: Callable[[], object],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A poll that works, then one through a server error into a refused token: the token
    shows up in no log line and in no error, whatever the client logged on the way."""
    caplog.set_level(logging.DEBUG)
    poll()
    emulator.server_error_next(503, times=1)
    emulator.expire_token()
    with pytest.raises(AuthExpired) as caught:
        poll()
    assert caplog.records
    assert emulator.token not in caplog.text
    assert emulator.token not in str(caught.value)
