"""What the Facebook and Instagram connector tests share: one Graph emulator per test module,
clients that fail fast, and timestamps relative to the emulator's clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any, TypeVar

from bot.platforms.graph import GraphClient
from bot.platforms.http import RetryPolicy
from bot.sandbox.graph import GraphEmulator

Client = TypeVar("Client", bound=GraphClient)

INSTANT_RETRY = RetryPolicy(attempts=3, base_delay=0.0)


def serve(emulator: GraphEmulator) -> Iterator[GraphEmulator]:
    """Started once per module, because a fresh server per test dominates the run time."""
    emulator.start()
    yield emulator
    emulator.stop()


def clients(kind: type[Client], account: str, graph: GraphEmulator) -> Iterator[Callable[..., Client]]:
    """Clients with small timeouts and instant retries, closed after the test."""
    made: list[Client] = []

    def build(**options: Any) -> Client:
        made.append(kind(account, graph.token, graph.base_url + "v26.0/", timeout=0.2,
                         retry=INSTANT_RETRY, **options))
        return made[-1]

    yield build
    for client in made:
        client.close()


def ago(graph: GraphEmulator, minutes: float) -> str:
    return (graph.now() - timedelta(minutes=minutes)).isoformat()
