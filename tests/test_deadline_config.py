"""The deadline sections of routing_rules.yaml: defaults, overrides, errors at their line."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from textwrap import dedent
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from bot.deadline_config import policy_from_config
from bot.deadlines import DeadlinePolicy, ReminderPoint, due_at, reminder_schedule
from bot.errors import ConfigError

CPH = ZoneInfo("Europe/Copenhagen")
Path = tuple[str, ...]


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CPH).astimezone(UTC)


def load(text: str) -> tuple[Any, Callable[[Path], int | None]]:
    """The YAML as plain data plus each key's line, the way the rules loader hands them over."""
    lines: dict[Path, int] = {}

    def walk(node: yaml.Node, path: Path) -> None:
        if isinstance(node, yaml.MappingNode):
            children = [(str(key.value), key, value) for key, value in node.value]
        elif isinstance(node, yaml.SequenceNode):
            children = [(str(index), item, item) for index, item in enumerate(node.value)]
        else:
            return
        for name, marked, child in children:
            lines[(*path, name)] = marked.start_mark.line + 1
            walk(child, (*path, name))

    text = dedent(text)
    walk(yaml.compose(text), ())
    return yaml.safe_load(text), lines.get


def policy(text: str) -> DeadlinePolicy:
    data, line_of = load(text)
    return policy_from_config(data, line_of, "routing_rules.yaml")


def test_empty_config_ships_the_documented_defaults() -> None:
    shipped = policy_from_config({})
    assert shipped.deadlines["comment"] == timedelta(hours=4)
    assert shipped.deadlines["message"] == timedelta(hours=8)
    assert shipped.deadlines["mention"] == timedelta(hours=16)
    assert shipped.deadlines["urgent"] == timedelta(minutes=30)
    assert shipped.deadlines["no_reply_needed"] is None
    assert shipped.reminder_points == (ReminderPoint(50), ReminderPoint(80))
    assert shipped.approval_after == timedelta(hours=1)
    assert shipped.approval_after_urgent == timedelta(minutes=5)


def test_empty_config_keeps_the_danish_closing_days() -> None:
    shipped = policy_from_config({}).calendar
    assert not shipped.is_open(local(2026, 12, 24, 10))
    assert not shipped.is_open(local(2026, 5, 15, 10))


def test_other_top_level_sections_belong_to_the_rules_loader() -> None:
    assert policy("routes: {affald: {}}\nflags: [urgent]\n") == DeadlinePolicy()


def test_hours_and_minutes_combine() -> None:
    assert policy("deadlines: {comment: 1h30m}").deadlines["comment"] == timedelta(minutes=90)


def test_a_deadline_can_be_switched_off() -> None:
    assert policy("deadlines: {mention: none}").deadlines["mention"] is None


def test_a_section_keeps_the_defaults_it_does_not_mention() -> None:
    assert policy("deadlines: {comment: 2h}").deadlines["message"] == timedelta(hours=8)


def test_reminder_points_mix_shares_and_times_before() -> None:
    points = policy('reminders: {points: ["25%", 0.5, "1h before"]}').reminder_points
    assert [point.kind for point in points] == ["reminder_25", "reminder_50", "reminder_1h_before"]


def test_an_empty_reminder_list_leaves_only_the_escalation() -> None:
    received = local(2026, 9, 7, 8)
    quiet = policy("reminders: {points: []}")
    assert reminder_schedule(quiet, received, local(2026, 9, 7, 12), False) == [
        ("escalation", local(2026, 9, 7, 12))
    ]


def test_saturday_opening_hours_are_counted() -> None:
    calendar = policy('business_hours: {sat: "10:00-14:00"}').calendar
    assert calendar.is_open(local(2026, 9, 12, 11))


def test_danish_time_notation_with_a_dot_is_understood() -> None:
    calendar = policy('business_hours: {fri: "8.30-15.00"}').calendar
    assert calendar.is_open(local(2026, 9, 11, 14, 30))
    assert not calendar.is_open(local(2026, 9, 11, 8, 15))


def test_a_weekday_can_be_closed() -> None:
    assert not policy("business_hours: {mon: closed}").calendar.is_open(local(2026, 9, 7, 10))


def test_closed_days_replace_the_shipped_list() -> None:
    calendar = policy('business_hours: {closed_days: ["2 Jan"]}').calendar
    assert calendar.is_open(local(2026, 12, 24, 10))
    assert not calendar.is_open(local(2026, 1, 2, 10))


def test_danish_month_names_are_understood() -> None:
    calendar = policy('business_hours: {closed_from_noon: ["1. maj"]}').calendar
    assert calendar.is_open(local(2026, 5, 1, 11))
    assert not calendar.is_open(local(2026, 5, 1, 12))


def test_a_day_relative_to_easter_is_closed() -> None:
    calendar = policy('business_hours: {closed_days: ["easter-4"]}').calendar
    assert not calendar.is_open(local(2026, 4, 1, 10))


def test_a_single_date_is_closed() -> None:
    calendar = policy("business_hours: {closed_days: [2026-09-09]}").calendar
    assert not calendar.is_open(local(2026, 9, 9, 10))
    assert calendar.is_open(local(2027, 9, 9, 10))


def test_public_holidays_can_be_switched_off() -> None:
    calendar = policy("business_hours: {holidays: none}").calendar
    assert calendar.is_open(local(2026, 5, 14, 10))


def test_the_time_zone_moves_the_office_day() -> None:
    calendar = policy("business_hours: {timezone: Europe/London}").calendar
    assert calendar.is_open(datetime(2026, 9, 7, 14, 30, tzinfo=UTC))  # 16:30 in Copenhagen


def test_route_override_from_the_file_sets_that_routes_deadline() -> None:
    routed = policy("deadlines: {routes: {borgerservice: {message: 4h}}}")
    received = local(2026, 9, 7, 8)
    assert due_at(routed, received, "message", "x", "borgerservice", False, False) == local(
        2026, 9, 7, 12
    )


BAD = [
    ("unknown_key", "deadlines:\n  comment: 4h\n  coment: 2h\n", 3, "deadlines.coment",
     "known: comment, message"),
    ("reply_key", "deadlines:\n  routes:\n    affald:\n      reply: 2h\n", 4,
     "deadlines.routes.affald.reply", "a reply counts as a comment"),
    ("number_without_unit", "deadlines:\n  comment: 4\n", 2, "deadlines.comment", '"4h"'),
    ("day_unit", "deadlines:\n\n  message: 1d\n", 3, "deadlines.message", '"8h"'),
    ("zero", "reminders:\n  approval_after: 0m\n", 2, "reminders.approval_after",
     "longer than zero"),
    ("bad_followup", "deadlines:\n  followup_after_holding_reply: soon\n", 2,
     "deadlines.followup_after_holding_reply", "not a duration"),
    ("share_over_100", 'reminders:\n  points:\n    - "50%"\n    - "150%"\n', 4,
     "reminders.points.1", '"1h before"'),
    ("points_not_a_list", 'reminders:\n  points: "50%"\n', 2, "reminders.points",
     "must be a list"),
    ("closing_before_opening", 'business_hours:\n  fri: "13:00-08:00"\n', 2,
     "business_hours.fri", "open before it closes"),
    ("hours_as_number", "business_hours:\n  fri: 13\n", 2, "business_hours.fri",
     '"08:00-16:00"'),
    ("every_day_closed",
     ("business_hours:\n  mon: closed\n  tue: closed\n  wed: closed\n  thu: closed\n"
      "  fri: closed\n"), 1, "business_hours", "open at least one day"),
    ("impossible_day", 'business_hours:\n  closed_days:\n    - "31 Feb"\n', 3,
     "business_hours.closed_days.0", '"easter+40"'),
    ("unknown_holidays", "business_hours:\n  holidays: SE\n", 2, "business_hours.holidays",
     "known: DK, none"),
    ("unknown_zone", "business_hours:\n  timezone: Europe/Albertslund\n", 2,
     "business_hours.timezone", "Europe/Copenhagen"),
    ("section_not_a_mapping", "deadlines: 4h\n", 1, "deadlines", "mapping"),
    ("override_not_a_mapping", "deadlines:\n  platforms:\n    x: 2h\n", 3,
     "deadlines.platforms.x", "mapping"),
]


@pytest.mark.parametrize(("text", "line", "key", "hint"), [case[1:] for case in BAD],
                         ids=[case[0] for case in BAD])
def test_a_wrong_value_is_reported_at_its_line_and_key(
    text: str, line: int, key: str, hint: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        policy(text)
    assert (caught.value.file, caught.value.line, caught.value.key) == (
        "routing_rules.yaml", line, key
    )
    assert hint in str(caught.value)


def test_an_unknown_route_is_reported_with_the_known_routes() -> None:
    data, line_of = load("deadlines:\n  routes:\n    afald: {comment: 2h}\n")
    with pytest.raises(ConfigError) as caught:
        policy_from_config(data, line_of, "routing_rules.yaml", routes=["affald", "kommunikation"])
    assert str(caught.value) == (
        "routing_rules.yaml:3: unknown name 'afald' in deadlines.routes "
        "(known: affald, kommunikation)"
    )


def test_an_unknown_platform_is_reported_with_the_known_platforms() -> None:
    data, line_of = load("deadlines:\n  platforms:\n    tiktok: {comment: 2h}\n")
    with pytest.raises(ConfigError, match=r"known: facebook, x\)$"):
        policy_from_config(data, line_of, "routing_rules.yaml", platforms=["x", "facebook"])


def test_an_error_without_a_line_for_its_key_points_at_the_nearest_parent() -> None:
    data, _ = load("deadlines:\n  comment: soon\n")
    with pytest.raises(ConfigError) as caught:
        policy_from_config(data, {("deadlines",): 1}.get, "routing_rules.yaml")
    assert caught.value.line == 1


def test_an_error_without_line_information_names_the_file_and_key() -> None:
    with pytest.raises(ConfigError) as caught:
        policy_from_config({"deadlines": {"comment": "soon"}}, file="routing_rules.yaml")
    assert str(caught.value).startswith("routing_rules.yaml: deadlines.comment:")
