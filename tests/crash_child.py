"""The bot under test as a real child process: started, SIGKILLed and restarted on demand."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


class ChildBot:
    """`borgerbot run` forked from a warmed zygote (see `tests.crash_zygote`)."""

    def __init__(self, env: Mapping[str, str], workdir: Path) -> None:
        self.log = workdir / "bot.log"
        self._zygote = subprocess.Popen(
            [sys.executable, "-m", "tests.crash_zygote", str(self.log)],
            cwd=workdir, env={**env, "PYTHONPATH": str(REPO)}, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )
        self._lock = threading.Lock()
        self.pid: int | None = None
        self.kills = 0

    def start(self) -> None:
        assert self._zygote.stdin and self._zygote.stdout
        with self._lock:
            if self.pid is None:
                self._zygote.stdin.write("start\n")
                self._zygote.stdin.flush()
                self.pid = int(self._zygote.stdout.readline())

    @property
    def alive(self) -> bool:
        with self._lock:
            return self.pid is not None

    def kill(self) -> bool:
        """SIGKILL the running bot and wait until it is gone; False when none was running."""
        with self._lock:
            if self.pid is None:
                return False
            os.kill(self.pid, signal.SIGKILL)
            _wait_gone(self.pid)
            self.pid = None
            self.kills += 1
            return True

    def stop(self) -> None:
        """A clean stop (SIGTERM), as an operator would, before the books are checked."""
        with self._lock:
            if self.pid is not None:
                os.kill(self.pid, signal.SIGTERM)
                _wait_gone(self.pid, timeout=20)
                self.pid = None

    def close(self) -> None:
        self.stop()
        self._zygote.kill()
        self._zygote.communicate()  # reaps it and closes both pipes


def _wait_gone(pid: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.005)
    raise TimeoutError(f"bot process {pid} did not end")
