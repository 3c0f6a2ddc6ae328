"""The demo's accelerated clock: simulated time that the script moves forward in steps."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta


class SteppedClock:
    """Stands still until told to move, so a demo day passes in seconds and reads the same each run."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the demo clock needs an aware start time")
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, step: timedelta) -> datetime:
        with self._lock:
            self._now += step
            return self._now
