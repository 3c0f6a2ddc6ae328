"""Read the `business_hours`, `deadlines` and `reminders` sections into a DeadlinePolicy.

The rules loader hands over plain data plus a way to find the line of a key path, so
every wrong value is reported with file, line and key, and every unknown key with the
known ones: IT staff fix the file without reading code. Whatever a section leaves out
keeps the shipped default; lists replace the default list. Other top-level keys belong
to the rules loader and are not looked at here.

Durations are written "30m", "4h" or "1h30m". There is no day unit: a working day is
eight hours Monday to Thursday but five on Friday, so business time is written in hours.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import replace
from datetime import date, time, timedelta
from typing import Any, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.calendar import BusinessCalendar, DayRule, OpeningHours
from bot.deadlines import SLOTS, DeadlinePolicy, ReminderPoint
from bot.errors import ConfigError

SECTIONS = ("business_hours", "deadlines", "reminders")
"""The top-level keys of routing_rules.yaml read here; the rules loader owns all others."""
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOLIDAY_CALENDARS = ("DK",)
_CALENDAR_KEYS = (*WEEKDAYS, "timezone", "holidays", "closed_days", "closed_from_noon")
_DEADLINE_KEYS = (*SLOTS, "followup_after_holding_reply", "platforms", "routes")
_REMINDER_KEYS = ("points", "approval_after", "approval_after_urgent")
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
} | {"maj": 5, "okt": 10}
_DURATION = re.compile(r"(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?")
_HOURS = re.compile(r"(\d{1,2})(?:[:.](\d{2}))?\s*[-–]\s*(\d{1,2})(?:[:.](\d{2}))?")
_YEARLY = re.compile(r"(\d{1,2})\.?\s*([a-zæøå]+)\.?")
_EASTER = re.compile(r"easter\s*(?:([+-])\s*(\d+))?")
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*%")

Path = tuple[str, ...]
LineOf = Callable[[Path], int | None]


class _Reader:
    """Validates values at key paths and raises ConfigError pointing at their line."""

    def __init__(self, line_of: LineOf | None, file: str | None) -> None:
        self._line_of = line_of
        self._file = file

    def fail(self, path: Path, problem: str, hint: str | None = None) -> NoReturn:
        raise ConfigError(problem, file=self._file, line=self._line(path), key=".".join(path),
                          hint=hint)

    def _line(self, path: Path) -> int | None:
        """The key's own line, else its nearest ancestor's, since a loader may not mark leaves."""
        while path and self._line_of is not None:
            line = self._line_of(path)
            if line is not None:
                return line
            path = path[:-1]
        return None

    def section(self, value: Any, path: Path, known: Collection[str]) -> Mapping[str, Any]:
        """A mapping whose keys must all be known; absent or empty means "keep the defaults"."""
        mapping = self.mapping(value, path)
        for key in mapping:
            if key not in known:
                reply = key == "reply" and "comment" in known
                note = "; a reply counts as a comment" if reply else ""
                self.fail((*path, str(key)), f"unknown key {key!r} in {'.'.join(path)}",
                          f"known: {', '.join(known)}{note}")
        return mapping

    def mapping(self, value: Any, path: Path) -> Mapping[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.fail(path, f"{'.'.join(path)} must be a mapping of keys to values")
        return value

    def items(self, value: Any, path: Path) -> list[tuple[Path, Any]]:
        if not isinstance(value, list):
            self.fail(path, f"{'.'.join(path)} must be a list", 'for example ["24 Dec"]')
        return [((*path, str(index)), item) for index, item in enumerate(value)]

    def duration(self, value: Any, path: Path) -> timedelta:
        match = _DURATION.fullmatch(value.strip().lower()) if isinstance(value, str) else None
        if not match or not any(match.groups()):
            self.fail(path, f"{'.'.join(path)}: {value!r} is not a duration",
                      'write minutes or hours such as "30m", "4h" or "1h30m"; '
                      'a working day is "8h"')
        hours, minutes = (int(part or 0) for part in match.groups())
        if not hours and not minutes:
            self.fail(path, f"{'.'.join(path)} must be longer than zero")
        return timedelta(hours=hours, minutes=minutes)

    def deadline(self, value: Any, path: Path) -> timedelta | None:
        return None if _switched_off(value) else self.duration(value, path)


def policy_from_config(
    data: Mapping[str, Any],
    line_of: LineOf | None = None,
    file: str | None = None,
    *,
    platforms: Collection[str] | None = None,
    routes: Collection[str] | None = None,
) -> DeadlinePolicy:
    """Build the policy; `platforms` and `routes`, when given, are the names overrides may use."""
    reader = _Reader(line_of, file)
    shipped = DeadlinePolicy()
    hours = reader.section(data.get("business_hours"), ("business_hours",), _CALENDAR_KEYS)
    limits = reader.section(data.get("deadlines"), ("deadlines",), _DEADLINE_KEYS)
    nudges = reader.section(data.get("reminders"), ("reminders",), _REMINDER_KEYS)
    return replace(
        shipped,
        calendar=_calendar(reader, hours, shipped.calendar),
        deadlines={**shipped.deadlines, **_slots(reader, limits, ("deadlines",), SLOTS)},
        by_platform=_overrides(reader, limits.get("platforms"), "platforms", platforms),
        by_route=_overrides(reader, limits.get("routes"), "routes", routes),
        **_durations(reader, limits, "deadlines", ("followup_after_holding_reply",)),
        **_durations(reader, nudges, "reminders", ("approval_after", "approval_after_urgent")),
        **_points(reader, nudges),
    )


def _slots(reader: _Reader, data: Mapping[str, Any], path: Path,
           slots: Collection[str]) -> dict[str, timedelta | None]:
    return {slot: reader.deadline(data[slot], (*path, slot)) for slot in slots if slot in data}


def _durations(reader: _Reader, data: Mapping[str, Any], section: str,
               keys: Collection[str]) -> dict[str, Any]:
    """Keyword overrides for `replace(policy, **...)`; valued Any because mypy checks a `**`
    dict's value type against every field of the policy, not only the keys it holds."""
    return {key: reader.duration(data[key], (section, key)) for key in keys if key in data}


def _overrides(reader: _Reader, value: Any, key: str,
               known: Collection[str] | None) -> dict[str, dict[str, timedelta | None]]:
    path = ("deadlines", key)
    overrides: dict[str, dict[str, timedelta | None]] = {}
    for name, slots in reader.mapping(value, path).items():
        name_path = (*path, str(name))
        if known is not None and name not in known:
            reader.fail(name_path, f"unknown name {name!r} in {'.'.join(path)}",
                        f"known: {', '.join(sorted(known))}")
        overrides[str(name)] = _slots(reader, reader.section(slots, name_path, SLOTS),
                                      name_path, SLOTS)
    return overrides


def _points(reader: _Reader, data: Mapping[str, Any]) -> dict[str, Any]:
    """A keyword override for `replace(policy, **...)`, valued Any for the reason above."""
    if "points" not in data:
        return {}
    return {"reminder_points": tuple(_point(reader, value, path)
                                     for path, value in reader.items(data["points"],
                                                                     ("reminders", "points")))}


def _point(reader: _Reader, value: Any, path: Path) -> ReminderPoint:
    text = value.strip().lower() if isinstance(value, str) else ""
    percent = _PERCENT.fullmatch(text)
    if percent and 0 < float(percent.group(1)) < 100:
        return ReminderPoint(percent=float(percent.group(1)))
    if isinstance(value, float) and 0 < value < 1:
        return ReminderPoint(percent=round(value * 100, 6))
    if text.endswith(" before"):
        return ReminderPoint(before=reader.duration(text.removesuffix(" before"), path))
    reader.fail(path, f"{'.'.join(path)}: {value!r} is not a reminder point",
                'write a share of the window above 0 and below 100 percent, such as "50%", '
                'or a time before the deadline, such as "1h before"')


def _calendar(reader: _Reader, data: Mapping[str, Any],
              shipped: BusinessCalendar) -> BusinessCalendar:
    path = ("business_hours",)
    week = tuple(_opening(reader, data[day], (*path, day)) if day in data else span
                 for day, span in zip(WEEKDAYS, shipped.hours))
    if all(span is None for span in week):
        reader.fail(path, "business_hours closes every weekday, so no deadline could ever fall",
                    'open at least one day, e.g. mon: "08:00-16:00"')
    changes: dict[str, Any] = {"hours": week}
    if "timezone" in data:
        changes["timezone"] = _zone(reader, data["timezone"], (*path, "timezone"))
    if "holidays" in data:
        changes["public_holidays"] = _holidays(reader, data["holidays"], (*path, "holidays"))
    for key in ("closed_days", "closed_from_noon"):
        if key in data:
            changes[key] = tuple(_day_rule(reader, value, item_path)
                                 for item_path, value in reader.items(data[key], (*path, key)))
    return replace(shipped, **changes)


def _opening(reader: _Reader, value: Any, path: Path) -> OpeningHours | None:
    if _switched_off(value):
        return None
    match = _HOURS.fullmatch(value.strip()) if isinstance(value, str) else None
    hint = 'write "08:00-16:00" in quotes, or closed'
    if not match:
        reader.fail(path, f"{'.'.join(path)}: {value!r} is not opening hours", hint)
    h1, m1, h2, m2 = (int(part or 0) for part in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59 or (h1, m1) >= (h2, m2):
        reader.fail(path, f"{'.'.join(path)}: {value!r} must open before it closes, "
                          "within one day", hint)
    return time(h1, m1), time(h2, m2)


def _zone(reader: _Reader, value: Any, path: Path) -> ZoneInfo:
    try:
        return ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        reader.fail(path, f"unknown time zone {value!r}", "for example Europe/Copenhagen")


def _holidays(reader: _Reader, value: Any, path: Path) -> str | None:
    if _switched_off(value):
        return None
    if str(value).upper() not in HOLIDAY_CALENDARS:
        reader.fail(path, f"unknown holiday calendar {value!r}",
                    f"known: {', '.join(HOLIDAY_CALENDARS)}, none")
    return str(value).upper()


def _day_rule(reader: _Reader, value: Any, path: Path) -> DayRule:
    if isinstance(value, date):
        return DayRule(once=value)
    text = value.strip().lower() if isinstance(value, str) else ""
    if easter := _EASTER.fullmatch(text):
        sign, days = easter.groups()
        return DayRule(easter_offset=int(days or 0) * (-1 if sign == "-" else 1))
    if (yearly := _YEARLY.fullmatch(text)) and yearly.group(2)[:3] in _MONTHS:
        month, day = _MONTHS[yearly.group(2)[:3]], int(yearly.group(1))
        if _exists(2000, month, day):
            return DayRule(month=month, day=day)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) and _exists(*map(int, text.split("-"))):
        return DayRule(once=date.fromisoformat(text))
    reader.fail(path, f"{'.'.join(path)}: {value!r} is not a day",
                'write a yearly day "24 Dec", a day relative to Easter "easter+40" '
                '(the day after Kristi himmelfartsdag) or one date "2026-12-30"')


def _exists(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _switched_off(value: Any) -> bool:
    """YAML's empty value, false, "none" or "closed": no deadline, or no opening that day."""
    if isinstance(value, str):
        return value.strip().lower() in ("none", "closed")
    return value is None or value is False
