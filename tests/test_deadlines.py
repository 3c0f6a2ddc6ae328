"""Deadlines, reminders and escalation under the shipped policy and configured overrides."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.deadline_config import policy_from_config
from bot.deadlines import (
    DeadlinePolicy,
    ReminderPoint,
    approval_reminder_at,
    due_at,
    followup_due_at,
    reminder_schedule,
)

CPH = ZoneInfo("Europe/Copenhagen")
POLICY = DeadlinePolicy()


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CPH).astimezone(UTC)


def due(
    received: datetime,
    kind: str = "comment",
    *,
    policy: DeadlinePolicy = POLICY,
    platform: str = "facebook",
    route: str = "affald",
    urgent: bool = False,
    no_reply_needed: bool = False,
) -> datetime | None:
    return due_at(policy, received, kind, platform, route, urgent, no_reply_needed)


def test_comment_before_ascension_is_due_monday_at_eleven() -> None:
    assert due(local(2026, 5, 13, 15)) == local(2026, 5, 18, 11)


def test_reply_in_a_comment_thread_has_the_comment_deadline() -> None:
    assert due(local(2026, 5, 13, 15), "reply") == local(2026, 5, 18, 11)


def test_message_before_christmas_is_due_monday_at_two() -> None:
    assert due(local(2026, 12, 23, 14), "message") == datetime(2026, 12, 28, 13, tzinfo=UTC)


def test_mention_gets_two_working_days() -> None:
    assert due(local(2026, 9, 7, 8), "mention") == local(2026, 9, 8, 16)


def test_urgent_runs_across_the_spring_forward_hour() -> None:
    received = datetime(2027, 3, 28, 1, 50, tzinfo=CPH)
    assert due(received.astimezone(UTC), "message", urgent=True) == datetime(
        2027, 3, 28, 3, 20, tzinfo=CPH
    )


def test_urgent_runs_through_christmas_eve_night() -> None:
    assert due(local(2026, 12, 24, 22), urgent=True) == local(2026, 12, 24, 22, 30)


def test_deadlines_come_back_in_utc_whatever_zone_they_came_in() -> None:
    deadline = due(datetime(2026, 9, 9, 10, tzinfo=CPH), urgent=True)
    assert deadline is not None and deadline.tzinfo is UTC


def test_no_reply_needed_gets_no_deadline() -> None:
    assert due(local(2026, 9, 9, 10), no_reply_needed=True) is None


def test_urgent_wins_over_no_reply_needed() -> None:
    assert due(local(2026, 9, 9, 10), urgent=True, no_reply_needed=True) == local(
        2026, 9, 9, 10, 30
    )


def test_comment_in_the_evening_is_due_next_midday() -> None:
    assert due(local(2026, 9, 8, 20)) == local(2026, 9, 9, 12)


def test_comment_on_saturday_is_due_monday_midday() -> None:
    assert due(local(2026, 9, 12, 11)) == local(2026, 9, 14, 12)


def test_comment_after_friday_closing_is_due_monday_midday() -> None:
    assert due(local(2026, 9, 11, 14)) == local(2026, 9, 14, 12)


def test_comment_before_easter_waits_until_the_tuesday_after() -> None:
    assert due(local(2026, 4, 1, 15)) == local(2026, 4, 7, 11)


def test_comment_on_grundlovsdag_morning_runs_into_the_next_day() -> None:
    assert due(local(2029, 6, 5, 10)) == local(2029, 6, 6, 10)


def test_message_before_new_year_waits_for_the_first_monday() -> None:
    assert due(local(2026, 12, 30, 12), "message") == local(2027, 1, 4, 12)


def test_comment_over_the_spring_forward_weekend_is_due_at_eleven_summer_time() -> None:
    assert due(local(2026, 3, 27, 12)) == datetime(2026, 3, 30, 9, tzinfo=UTC)


def test_comment_over_the_fall_back_weekend_is_due_at_eleven_winter_time() -> None:
    assert due(local(2026, 10, 23, 12)) == datetime(2026, 10, 26, 10, tzinfo=UTC)


def test_unknown_inquiry_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="known: comment, reply, message, mention"):
        due(local(2026, 9, 9, 10), "story")


OVERRIDES = policy_from_config(
    {
        "deadlines": {
            "platforms": {"x": {"comment": "2h"}},
            "routes": {"borgerservice": {"comment": "1h"}, "kultur_fritid": {"mention": "none"}},
        }
    }
)


def test_platform_override_shortens_that_platforms_deadline() -> None:
    assert due(local(2026, 9, 9, 9), policy=OVERRIDES, platform="x") == local(2026, 9, 9, 11)


def test_platform_override_leaves_other_platforms_alone() -> None:
    assert due(local(2026, 9, 9, 9), policy=OVERRIDES, platform="linkedin") == local(2026, 9, 9, 13)


def test_route_override_beats_platform_override() -> None:
    received = local(2026, 9, 9, 9)
    assert due(received, policy=OVERRIDES, platform="x", route="borgerservice") == local(
        2026, 9, 9, 10
    )


def test_route_override_can_switch_a_deadline_off() -> None:
    assert due(local(2026, 9, 9, 9), "mention", policy=OVERRIDES, route="kultur_fritid") is None


def test_route_override_leaves_its_other_kinds_alone() -> None:
    received = local(2026, 9, 9, 8)
    due_time = due(received, "message", policy=OVERRIDES, route="borgerservice")
    assert due_time == local(2026, 9, 9, 16)


def test_reminders_come_at_half_and_four_fifths_then_escalation_at_the_deadline() -> None:
    received = local(2026, 9, 7, 8)
    assert reminder_schedule(POLICY, received, local(2026, 9, 7, 12), False) == [
        ("reminder_50", local(2026, 9, 7, 10)),
        ("reminder_80", local(2026, 9, 7, 11, 12)),
        ("escalation", local(2026, 9, 7, 12)),
    ]


def test_reminder_falling_on_closing_time_waits_for_the_next_morning() -> None:
    schedule = reminder_schedule(POLICY, local(2026, 9, 8, 14), local(2026, 9, 9, 10), False)
    assert schedule[0] == ("reminder_50", local(2026, 9, 9, 8))


def test_reminders_skip_the_closed_weekend() -> None:
    schedule = reminder_schedule(POLICY, local(2026, 9, 11, 12), local(2026, 9, 14, 11), False)
    assert [at for _, at in schedule] == [
        local(2026, 9, 14, 9),
        local(2026, 9, 14, 10, 12),
        local(2026, 9, 14, 11),
    ]


def test_urgent_reminders_run_on_the_elapsed_clock() -> None:
    received = local(2026, 9, 13, 3)
    assert reminder_schedule(POLICY, received, local(2026, 9, 13, 3, 30), True) == [
        ("reminder_50", local(2026, 9, 13, 3, 15)),
        ("reminder_80", local(2026, 9, 13, 3, 24)),
        ("escalation", local(2026, 9, 13, 3, 30)),
    ]


def test_reminders_follow_the_deadline_given_not_a_recomputed_one() -> None:
    schedule = reminder_schedule(POLICY, local(2026, 9, 7, 8), local(2026, 9, 7, 16), False)
    assert schedule[0] == ("reminder_50", local(2026, 9, 7, 12))


def test_reminder_an_hour_before_the_deadline() -> None:
    policy = DeadlinePolicy(reminder_points=(ReminderPoint(before=timedelta(hours=1)),))
    assert reminder_schedule(policy, local(2026, 9, 7, 8), local(2026, 9, 7, 16), False)[0] == (
        "reminder_1h_before",
        local(2026, 9, 7, 15),
    )


def test_reminder_an_hour_before_counts_business_time_back_over_the_night() -> None:
    policy = DeadlinePolicy(reminder_points=(ReminderPoint(before=timedelta(hours=1)),))
    schedule = reminder_schedule(policy, local(2026, 9, 8, 13), local(2026, 9, 9, 8, 30), False)
    assert schedule[0] == ("reminder_1h_before", local(2026, 9, 8, 15, 30))


def test_reminder_before_a_window_shorter_than_its_offset_is_skipped() -> None:
    policy = DeadlinePolicy(reminder_points=(ReminderPoint(before=timedelta(hours=1)),))
    received = local(2026, 9, 9, 10)
    assert reminder_schedule(policy, received, received + timedelta(minutes=30), True) == [
        ("escalation", received + timedelta(minutes=30))
    ]


def test_reminder_points_at_the_same_moment_are_sent_once() -> None:
    policy = DeadlinePolicy(
        reminder_points=(ReminderPoint(50), ReminderPoint(before=timedelta(hours=2)))
    )
    schedule = reminder_schedule(policy, local(2026, 9, 7, 8), local(2026, 9, 7, 12), False)
    assert [kind for kind, _ in schedule] == ["reminder_50", "escalation"]


def test_a_window_without_business_time_only_escalates() -> None:
    received = local(2026, 9, 12, 10)
    assert reminder_schedule(POLICY, received, local(2026, 9, 13, 10), False) == [
        ("escalation", local(2026, 9, 13, 10))
    ]


def test_approval_reminder_comes_after_one_business_hour() -> None:
    assert approval_reminder_at(POLICY, local(2026, 9, 11, 12, 30), False) == local(
        2026, 9, 14, 8, 30
    )


def test_approval_reminder_for_a_draft_finished_an_hour_before_closing_comes_next_morning() -> None:
    assert approval_reminder_at(POLICY, local(2026, 9, 9, 15), False) == local(2026, 9, 10, 8)


def test_urgent_approval_reminder_comes_after_five_minutes_at_night() -> None:
    assert approval_reminder_at(POLICY, local(2026, 9, 12, 23, 58), True) == local(
        2026, 9, 13, 0, 3
    )


def test_holding_reply_opens_a_follow_up_of_two_working_days() -> None:
    assert followup_due_at(POLICY, local(2026, 9, 10, 10)) == local(2026, 9, 14, 13)
