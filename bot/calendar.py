"""The communication unit's business calendar: when the office is open, and business-time sums.

Deadlines promise citizens an answer within working hours, so time is counted only while the
office is open. The arithmetic runs in local wall time (`zoneinfo`), because opening hours
are wall-clock facts: "08:00-16:00" stays eight hours on the days the clocks change, and a
window never spans the 02:00-03:00 switch. Instants go in and come out as aware UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from dateutil.easter import easter

OpeningHours = tuple[time, time]
"""Opening and closing time of one weekday; the office is open from the first up to the second."""

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
NOON = time(12)
_SEARCH_DAYS = 3660  # ten years: no real calendar is closed that long; a broken one must not hang


@dataclass(frozen=True)
class DayRule:
    """A day the office keeps closed: each year on a date, relative to Easter, or once.

    Exactly one form is set: `month` and `day` (24 Dec every year), `easter_offset`
    (+40 is the day after Kristi himmelfartsdag) or `once` (a single date).
    """

    month: int | None = None
    day: int | None = None
    easter_offset: int | None = None
    once: date | None = None

    def falls_on(self, day: date) -> bool:
        if self.once is not None:
            return day == self.once
        if self.easter_offset is not None:
            easter_sunday: date = easter(day.year)
            return day == easter_sunday + timedelta(days=self.easter_offset)
        return (day.month, day.day) == (self.month, self.day)


@lru_cache(maxsize=64)
def _public_holidays(country: str, year: int) -> frozenset[date]:
    """Holidays per year, cached because every business-time walk asks about each day."""
    return frozenset(holidays.country_holidays(country, years=year, language="da"))


WORKING_WEEK: tuple[OpeningHours | None, ...] = (
    (time(8), time(16)),
    (time(8), time(16)),
    (time(8), time(16)),
    (time(8), time(16)),
    (time(8), time(13)),
    None,
    None,
)


@dataclass(frozen=True)
class BusinessCalendar:
    """Opening hours per weekday (Monday first), public holidays and customary closing days.

    The field defaults are the shipped calendar of domain.md §2-§3: Mon-Thu 08-16, Fri 08-13,
    Danish public holidays, closed 24 Dec, 31 Dec and the day after Kristi himmelfartsdag,
    and closed from noon on Grundlovsdag. 1 May is a working day.
    """

    timezone: ZoneInfo = COPENHAGEN
    hours: tuple[OpeningHours | None, ...] = WORKING_WEEK
    public_holidays: str | None = "DK"
    closed_days: tuple[DayRule, ...] = (
        DayRule(month=12, day=24),
        DayRule(month=12, day=31),
        DayRule(easter_offset=40),
    )
    closed_from_noon: tuple[DayRule, ...] = (DayRule(month=6, day=5),)

    def __post_init__(self) -> None:
        if len(self.hours) != 7:
            raise ValueError("hours needs one entry per weekday, Monday first")
        if all(span is None for span in self.hours):
            raise ValueError("the office must be open on at least one weekday")

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        """The day's open period in naive local wall time, or None when closed all day."""
        span = self.hours[day.weekday()]
        if span is None or self._closed_all_day(day):
            return None
        opens, closes = span
        if any(rule.falls_on(day) for rule in self.closed_from_noon):
            closes = min(closes, NOON)
        if closes <= opens:
            return None
        return datetime.combine(day, opens), datetime.combine(day, closes)

    def is_open(self, instant: datetime) -> bool:
        local = self._wall(instant)
        window = self.window(local.date())
        return window is not None and window[0] <= local < window[1]

    def next_open(self, instant: datetime) -> datetime:
        """The instant itself when the office is open, else the moment it next opens."""
        return self.add_business_time(instant, timedelta(0))

    def add_business_time(self, start: datetime, duration: timedelta) -> datetime:
        """The instant by which `duration` of open office time has passed since `start`.

        Counting starts at `start` or at the next opening, so a zero duration gives the
        next open moment. A result may be a closing time: 4 h from 12:00 is 16:00 the same
        day, not 08:00 the next.
        """
        if duration < timedelta(0):
            raise ValueError("business time can only be added forwards")
        cursor = self._wall(start)
        remaining = duration
        for opens, closes in self._windows_from(cursor.date()):
            begin = max(cursor, opens)
            if begin >= closes:
                continue
            if remaining <= closes - begin:
                return self._utc(begin + remaining)
            remaining -= closes - begin
        raise ValueError(f"no business hours within {_SEARCH_DAYS} days of {start.isoformat()}")

    def business_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Open office time inside [start, end); zero when end is not after start."""
        first, last = self._wall(start), self._wall(end)
        total = timedelta(0)
        day = first.date()
        while day <= last.date():
            window = self.window(day)
            if window is not None:
                overlap = min(last, window[1]) - max(first, window[0])
                total += max(overlap, timedelta(0))
            day += timedelta(days=1)
        return total

    def _closed_all_day(self, day: date) -> bool:
        if self.public_holidays and day in _public_holidays(self.public_holidays, day.year):
            return True
        return any(rule.falls_on(day) for rule in self.closed_days)

    def _windows_from(self, first: date) -> Iterator[tuple[datetime, datetime]]:
        for offset in range(_SEARCH_DAYS):
            window = self.window(first + timedelta(days=offset))
            if window is not None:
                yield window

    def _wall(self, instant: datetime) -> datetime:
        if instant.tzinfo is None:
            raise ValueError("naive datetime given to the calendar; use an aware UTC datetime")
        return instant.astimezone(self.timezone).replace(tzinfo=None)

    def _utc(self, wall: datetime) -> datetime:
        return wall.replace(tzinfo=self.timezone).astimezone(UTC)
