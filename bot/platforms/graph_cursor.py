"""Incremental reading for Graph streams: a time window plus memory of what it returned.

A stream's cursor starts with the creation time of the newest item seen. Each poll re-reads
`overlap` before it, so items that appear late with an older timestamp (eventual
consistency, clock skew) are still caught.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.platforms.base import FetchResult, IncomingItem, OwnReply, SetAside


def parse_time(value: Any) -> datetime:
    """Graph sends `2026-03-04T09:15:02+0000`; some samples carry Unix seconds instead."""
    if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        return datetime.fromtimestamp(int(value), UTC)
    return datetime.fromisoformat(str(value))



REMEMBERED_IDS = 36  # fits the 500-character cursor column with room to spare


def _digest(item_id: str) -> str:
    return hashlib.sha256(item_id.encode()).hexdigest()[:12]


@dataclass
class Collected:
    """One fetch's harvest, and the cursor that lets the next fetch skip what it returned.

    The cursor is "<newest time> <digest> <digest> ...": the digests name the items inside
    the overlap window that were already returned, so re-reading the window for late
    arrivals does not hand the same items back on every poll. Should the window hold more
    than `REMEMBERED_IDS` items, the oldest may come back once more; the database's unique
    key absorbs that.
    """

    since: datetime
    newest: datetime | None
    known: frozenset[str]
    overlap: timedelta
    items: list[IncomingItem] = field(default_factory=list)
    own: list[OwnReply] = field(default_factory=list)
    observed: dict[str, datetime] = field(default_factory=dict)
    set_aside: list[SetAside] = field(default_factory=list)

    def put_aside(self, raw: Any, problem: Exception) -> None:
        """`raw` could not be read: keep its id (when it has one) and why, and go on."""
        ident = raw.get("id") if isinstance(raw, dict) else None
        reason = f"{type(problem).__name__}: {str(problem)[:120]}"
        self.set_aside.append(SetAside(str(ident) if isinstance(ident, str | int) else "?", reason))

    @classmethod
    def parse(cls, cursor: str, overlap: timedelta, lookback: timedelta) -> Collected:
        if not cursor:
            return cls(datetime.now(UTC) - lookback, None, frozenset(), overlap)
        newest, *digests = cursor.split()
        moment = parse_time(newest)
        return cls(moment - overlap, moment, frozenset(digests), overlap)

    def is_new(self, item_id: str, created: datetime) -> bool:
        """True once per fetch for an item in the window that an earlier fetch did not return."""
        if created <= self.since or item_id in self.observed:
            return False
        self.observed[item_id] = created
        if self.newest is None or created > self.newest:
            self.newest = created
        return _digest(item_id) not in self.known

    def next_cursor(self, previous: str) -> str:
        if self.newest is None:
            return previous
        floor = self.newest - self.overlap
        recent = sorted((t, i) for i, t in self.observed.items() if t > floor)[-REMEMBERED_IDS:]
        return " ".join([self.newest.isoformat(), *(_digest(i) for _, i in recent)])

    def result(self, previous: str) -> FetchResult:
        return FetchResult(items=self.items, own_replies=self.own,
                           next_cursor=self.next_cursor(previous), set_aside=self.set_aside)
