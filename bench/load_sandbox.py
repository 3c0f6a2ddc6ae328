"""The load bench's other process: the platform emulators and the fake Slack.

They are plain HTTP servers on loopback, so the bot reaches them exactly as in one process;
apart, their CPU (the fake Slack keeps a deep copy of every call) and memory stay out of
the bot's figures. The bench drives this process over a pipe: a few named requests, each
answered with plain data.
"""

from __future__ import annotations

import multiprocessing
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bot.accounts import AccountConfig
from bot.demo.world import SandboxWorld
from bot.settings import Settings

SLACK_BURST = 3
"""Posts a channel may take back to back, as Slack tolerates short bursts."""


@dataclass(frozen=True)
class Endpoints:
    """What the bot needs to reach the sandbox: URLs and tokens, accounts to poll."""

    settings: Settings
    accounts: Sequence[AccountConfig]
    tokens: dict[str, str]


def _serve(connection: Connection, rules: Path, rate: float,
           write: Callable[[SandboxWorld], None]) -> None:
    folder = Path(tempfile.mkdtemp(prefix="borgerbot-sandbox-"))
    world = SandboxWorld(f"sqlite:///{folder / 'unused.sqlite'}", rules, slack_messages_per_second=rate)
    world.slack.limit_posts_per_channel(rate, burst=SLACK_BURST)
    try:
        write(world)
        # The world's own account list and tokens, so the bot polls what the demo polls.
        connection.send(Endpoints(world.settings, world._accounts(), world._tokens()))
        answers: dict[str, Callable[[], Any]] = {
            "posts_per_channel": lambda: Counter({
                channel.name: len(world.slack.history(channel_id))
                for channel_id, channel in world.slack.workspace.channels.items()}),
            "post_calls": lambda: len(world.slack.calls_to("chat.postMessage")),
        }
        while (request := connection.recv()) != "stop":
            connection.send(answers[request]())
    finally:
        world.close()


class Sandbox:
    """The emulators and fake Slack in a child process, filled by `write` before the bot starts."""

    def __init__(self, rules: Path, rate: float, write: Callable[[SandboxWorld], None]) -> None:
        context = multiprocessing.get_context("spawn")
        self._pipe, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, rules, rate, write), daemon=True)
        self._process.start()
        self.endpoints: Endpoints = self._pipe.recv()

    def posts_per_channel(self) -> Counter[str]:
        """Messages that reached each channel (cards and urgent alerts alike), by name."""
        self._pipe.send("posts_per_channel")
        found: Counter[str] = self._pipe.recv()
        return found

    def post_calls(self) -> int:
        """Every `chat.postMessage` the fake received, refused ones included."""
        self._pipe.send("post_calls")
        return int(self._pipe.recv())

    def close(self) -> None:
        self._pipe.send("stop")
        self._process.join(timeout=10)
