"""Who is in the communication unit, as Slack's `usergroups.users.list` says, remembered.

The method is Web API Tier 2 (20+ calls a minute; docs.slack.dev/reference/methods/
usergroups.users.list), and every approval, form and slash command asks it. Decisions that
reach a citizen ask Slack afresh, so a person removed from the group loses the role at once;
the answer is remembered, so a throttled or failed lookup uses the last known members (an
officer is never refused because a lookup was throttled), a listener that must answer within
Slack's 3 seconds can ask without calling Slack, and the overview reuses a recent answer.
Only when nothing recent is known does the caller hear `MembershipUnknown` ("prøv igen om
lidt").
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from bot.errors import ChatError, MembershipUnknown

log = logging.getLogger(__name__)

RECENT = 60.0
"""Seconds an answer is reused without asking Slack, where a fresh one is not required."""

STALE_LIMIT = 15 * 60.0
"""Seconds a remembered answer may stand in for Slack while Slack cannot be asked; older,
the person is asked to try again rather than trusted on an old membership."""


class OfficerGroup:
    """Memberships of one Slack user group, with the last answer Slack gave remembered."""

    def __init__(self, group: str, lookup: Callable[[str], frozenset[str]], *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.group = group
        self._lookup = lookup
        self._clock = clock
        self._lock = threading.Lock()
        self._members: frozenset[str] | None = None
        self._read_at = 0.0

    def known(self, user: str) -> bool | None:
        """The remembered answer, without calling Slack (for checks that must be instant);
        None when nothing recent is known."""
        with self._lock:
            if self._members is None or self._clock() - self._read_at > STALE_LIMIT:
                return None
            return user in self._members

    def contains(self, user: str, *, reuse_for: float = 0.0) -> bool:
        """Whether `user` is a member: an answer younger than `reuse_for` seconds, else
        Slack, else (throttled, down) the last answer if it is not too old."""
        with self._lock:
            members, age = self._members, self._clock() - self._read_at
        if members is not None and age < reuse_for:
            return user in members
        try:
            members = self._lookup(self.group)
        except ChatError as exc:
            if members is None or age > STALE_LIMIT:
                raise MembershipUnknown(f"members of {self.group} unknown: {exc}") from None
            log.warning("officer group %s not re-read (%s); using the members known %.0f s ago",
                        self.group, exc, age)
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
        """The answer for a decision: the group is asked afresh (see `OfficerGroup.contains`)."""
        return user in self.named or (self.group is not None and self.group.contains(user))

    def recently(self, user: str) -> bool:
        """The answer for showing things (the overview): a recent lookup is reused."""
        return user in self.named or (self.group is not None and self.group.contains(user, reuse_for=RECENT))

    def known(self, user: str) -> bool | None:
        """The answer without calling Slack; None when only Slack could tell."""
        if user in self.named:
            return True
        if self.group is None:
            return False
        return self.group.known(user)
