"""Who is in the communication unit, as Slack's `usergroups.users.list` says, remembered briefly.

The method is Web API Tier 2 (about 20 calls a minute; docs.slack.dev/reference/methods/
usergroups.users.list), and every click, form and slash command asks it. A short-lived memory
answers repeated questions without calling Slack, and when Slack throttles or fails the last
known answer stands: an officer is never refused because a lookup was throttled. Only when
nothing was ever known does the caller hear `MembershipUnknown` ("prøv igen om lidt").
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from bot.errors import ChatError, MembershipUnknown

log = logging.getLogger(__name__)

FRESH_FOR = 60.0
"""Seconds a looked-up membership is used without asking again; a person removed from the
group keeps the role at most this long."""


class OfficerGroup:
    """Memberships of one Slack user group, looked up at most once per `FRESH_FOR` seconds."""

    def __init__(self, group: str, lookup: Callable[[str], frozenset[str]], *,
                 fresh_for: float = FRESH_FOR, clock: Callable[[], float] = time.monotonic) -> None:
        self.group = group
        self._lookup = lookup
        self._fresh_for = fresh_for
        self._clock = clock
        self._lock = threading.Lock()
        self._members: frozenset[str] | None = None
        self._read_at = 0.0

    def known(self, user: str) -> bool | None:
        """The remembered answer, without calling Slack (for checks that must be instant);
        None when nothing is known yet."""
        with self._lock:
            return None if self._members is None else user in self._members

    def contains(self, user: str) -> bool:
        """Whether `user` is a member: fresh memory, else Slack, else (throttled, down) the
        last known answer."""
        with self._lock:
            members, fresh = self._members, self._clock() - self._read_at < self._fresh_for
        if members is not None and fresh:
            return user in members
        try:
            members = self._lookup(self.group)
        except ChatError as exc:
            if members is None:
                raise MembershipUnknown(f"members of {self.group} unknown: {exc}") from None
            log.warning("officer group %s not re-read (%s); using the last known members", self.group, exc)
            return user in members
        with self._lock:
            self._members, self._read_at = members, self._clock()
        return user in members


class Officers:
    """The officer check the workflow calls: named officers first, then the group."""

    def __init__(self, named: frozenset[str], group: OfficerGroup | None) -> None:
        self.named = named
        self.group = group

    def __call__(self, user: str) -> bool:
        return user in self.named or (self.group is not None and self.group.contains(user))

    def known(self, user: str) -> bool | None:
        """The answer without calling Slack; None when only Slack could tell."""
        if user in self.named:
            return True
        if self.group is None:
            return False
        return self.group.known(user)
