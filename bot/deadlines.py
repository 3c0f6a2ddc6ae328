"""Pure deadline policy: when an inquiry is due, and when to remind and escalate.

Non-urgent deadlines count business time in the communication unit's calendar, because
the promise to citizens is an answer within working hours. Urgent inquiries run on the
elapsed clock, around the clock and through holidays, because a crisis does not wait for
Monday. The clock follows urgency, not kind, so a stored deadline and its reminders can
always be recomputed from the received time, the due time and the urgent flag alone.

Every instant in and out is aware UTC; the calendar does the wall-time arithmetic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import NamedTuple

from bot.calendar import BusinessCalendar

KIND_SLOTS: Mapping[str, str] = MappingProxyType(
    {"comment": "comment", "reply": "comment", "message": "message", "mention": "mention",
     "post": "comment"}
)
"""Inquiry kind -> deadline slot; a reply in a comment thread, and a visitor post on a Page (public,
answered in its own comment thread), are answered like a comment."""

SHIPPED_DEADLINES: Mapping[str, timedelta | None] = MappingProxyType(
    {
        "comment": timedelta(hours=4),
        "message": timedelta(hours=8),
        "mention": timedelta(hours=16),
        "no_reply_needed": None,
        "urgent": timedelta(minutes=30),
    }
)
"""domain.md §1 and §9; `None` means the inquiry gets no deadline."""

SLOTS = tuple(SHIPPED_DEADLINES)
ESCALATION = "escalation"


def format_duration(duration: timedelta) -> str:
    """The config spelling of a duration ("1h30m"), also used in stable reminder names."""
    minutes = int(duration.total_seconds()) // 60
    hours, minutes = divmod(minutes, 60)
    return (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes or not hours else "")


@dataclass(frozen=True)
class ReminderPoint:
    """Where a reminder falls in a deadline window: a percentage gone, or a time before the end."""

    percent: float = 0.0
    before: timedelta | None = None

    @property
    def kind(self) -> str:
        """Stable name stored on the `Reminder` row, so each point is sent once per inquiry."""
        if self.before is not None:
            return f"reminder_{format_duration(self.before)}_before"
        return f"reminder_{self.percent:g}"

    def offset_in(self, window: timedelta) -> timedelta | None:
        """Time from the window's start; None when the point would fall before it starts."""
        if self.before is not None:
            offset = window - self.before
            return offset if offset > timedelta(0) else None
        return window * (self.percent / 100)


class ScheduledReminder(NamedTuple):
    kind: str
    at: datetime


@dataclass(frozen=True)
class DeadlinePolicy:
    """Deadlines per slot with platform and route overrides, reminder points and approval nudges.

    Overrides hold only the slots they set; a route override beats a platform override,
    which beats the base deadline. The defaults are the shipped values of domain.md §9.
    """

    calendar: BusinessCalendar = field(default_factory=BusinessCalendar)
    deadlines: Mapping[str, timedelta | None] = field(default_factory=lambda: SHIPPED_DEADLINES)
    by_platform: Mapping[str, Mapping[str, timedelta | None]] = field(default_factory=dict)
    by_route: Mapping[str, Mapping[str, timedelta | None]] = field(default_factory=dict)
    reminder_points: tuple[ReminderPoint, ...] = (ReminderPoint(50), ReminderPoint(80))
    approval_after: timedelta = timedelta(hours=1)
    approval_after_urgent: timedelta = timedelta(minutes=5)
    followup_after_holding_reply: timedelta = timedelta(hours=16)

    def allowed_time(self, slot: str, platform: str, route: str) -> timedelta | None:
        for overrides in (self.by_route.get(route, {}), self.by_platform.get(platform, {})):
            if slot in overrides:
                return overrides[slot]
        return self.deadlines[slot]

    def advance(self, start: datetime, duration: timedelta, urgent: bool) -> datetime:
        """`start` plus `duration` on the clock that urgency selects."""
        if urgent:
            return (start + duration).astimezone(UTC)
        return self.calendar.add_business_time(start, duration)

    def nudge_at(self, start: datetime, wait: timedelta, urgent: bool) -> datetime:
        """Like `advance`, but a reminder that lands on closing time waits for the next
        opening, when someone is there to read it."""
        at = self.advance(start, wait, urgent)
        return at if urgent else self.calendar.next_open(at)

    def span(self, start: datetime, end: datetime, urgent: bool) -> timedelta:
        """Time from `start` to `end` on the clock that urgency selects."""
        if urgent:
            return max(end - start, timedelta(0))
        return self.calendar.business_time_between(start, end)


def due_at(
    policy: DeadlinePolicy,
    received_at: datetime,
    kind: str,
    platform: str,
    route: str,
    urgent: bool,
    no_reply_needed: bool,
) -> datetime | None:
    """When the citizen must have an answer; None when no answer is expected.

    Urgency wins over `no_reply_needed`: a possible danger to people is shown and timed even
    when the text also reads like thanks or praise.
    """
    if kind not in KIND_SLOTS:
        raise ValueError(f"unknown inquiry kind {kind!r} (known: {', '.join(KIND_SLOTS)})")
    if urgent:
        slot = "urgent"
    elif no_reply_needed:
        slot = "no_reply_needed"
    else:
        slot = KIND_SLOTS[kind]
    allowed = policy.allowed_time(slot, platform, route)
    if allowed is None:
        return None
    return policy.advance(received_at, allowed, urgent)


def reminder_schedule(
    policy: DeadlinePolicy, received_at: datetime, due_at: datetime, urgent: bool
) -> list[ScheduledReminder]:
    """Reminders inside the window, then the escalation at the deadline, in time order.

    Points are placed on the window actually given (a moved inquiry keeps its deadline),
    measured on the same clock as the deadline. Points that coincide are sent once.
    """
    window = policy.span(received_at, due_at, urgent)
    schedule: list[ScheduledReminder] = []
    taken = {due_at}
    for point in policy.reminder_points:
        offset = point.offset_in(window)
        if offset is None:
            continue
        at = policy.nudge_at(received_at, offset, urgent)
        if at not in taken and at < due_at:
            taken.add(at)
            schedule.append(ScheduledReminder(point.kind, at))
    schedule.sort(key=lambda reminder: reminder.at)
    schedule.append(ScheduledReminder(ESCALATION, due_at))
    return schedule


def approval_reminder_at(policy: DeadlinePolicy, drafted_at: datetime, urgent: bool) -> datetime:
    """When to remind the communication unit that a draft still awaits approval."""
    wait = policy.approval_after_urgent if urgent else policy.approval_after
    return policy.nudge_at(drafted_at, wait, urgent)


def followup_due_at(policy: DeadlinePolicy, holding_reply_at: datetime) -> datetime:
    """The new deadline opened by an approved holding reply ("vi vender tilbage")."""
    return policy.calendar.add_business_time(holding_reply_at, policy.followup_after_holding_reply)
