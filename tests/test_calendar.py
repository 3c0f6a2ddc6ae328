"""The shipped business calendar: opening hours, Danish holidays, closing days, DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.calendar import WORKING_WEEK, BusinessCalendar, DayRule

CPH = ZoneInfo("Europe/Copenhagen")
CALENDAR = BusinessCalendar()


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Copenhagen wall-clock moment as the aware UTC instant the policy works with."""
    return datetime(year, month, day, hour, minute, tzinfo=CPH).astimezone(UTC)


def test_office_is_open_on_a_weekday_morning() -> None:
    assert CALENDAR.is_open(local(2026, 9, 9, 9))


def test_office_is_closed_from_four_in_the_afternoon() -> None:
    assert not CALENDAR.is_open(local(2026, 9, 9, 16))


def test_office_closes_at_one_on_friday() -> None:
    assert CALENDAR.is_open(local(2026, 9, 11, 12, 59))
    assert not CALENDAR.is_open(local(2026, 9, 11, 13))


def test_office_is_closed_at_the_weekend() -> None:
    assert not CALENDAR.is_open(local(2026, 9, 12, 10))
    assert not CALENDAR.is_open(local(2026, 9, 13, 10))


def test_a_normal_week_has_37_business_hours() -> None:
    week = CALENDAR.business_time_between(local(2026, 9, 7), local(2026, 9, 14))
    assert week == timedelta(hours=37)


@pytest.mark.parametrize(
    "day",
    [date(2026, 4, 2), date(2026, 4, 3), date(2026, 4, 6)],
    ids=["skaertorsdag", "langfredag", "2-paaskedag"],
)
def test_easter_holidays_are_closed(day: date) -> None:
    assert not CALENDAR.is_open(local(day.year, day.month, day.day, 10))


def test_office_reopens_the_tuesday_after_easter() -> None:
    assert CALENDAR.next_open(local(2026, 4, 1, 16)) == local(2026, 4, 7, 8)


def test_first_of_may_2026_is_a_working_day() -> None:
    assert CALENDAR.is_open(local(2026, 5, 1, 10))


def test_store_bededag_is_a_working_day_from_2024() -> None:
    assert CALENDAR.is_open(local(2027, 4, 23, 10))


def test_store_bededag_was_closed_in_2023() -> None:
    assert not CALENDAR.is_open(local(2023, 5, 5, 10))


def test_day_after_kristi_himmelfartsdag_is_closed() -> None:
    assert not CALENDAR.is_open(local(2026, 5, 15, 10))


def test_grundlovsdag_is_open_in_the_morning() -> None:
    assert CALENDAR.is_open(local(2029, 6, 5, 11, 59))


def test_grundlovsdag_is_closed_from_noon() -> None:
    assert not CALENDAR.is_open(local(2029, 6, 5, 12))


def test_grundlovsdag_on_2_pinsedag_is_closed_all_day() -> None:
    assert not CALENDAR.is_open(local(2028, 6, 5, 9))


def test_christmas_2026_has_no_business_hour_from_24_to_27_december() -> None:
    assert CALENDAR.business_time_between(local(2026, 12, 24), local(2026, 12, 28)) == timedelta(0)


def test_new_years_eve_is_closed() -> None:
    assert not CALENDAR.is_open(local(2026, 12, 31, 10))


def test_business_time_runs_to_the_hour_that_closes_the_window() -> None:
    assert CALENDAR.add_business_time(local(2026, 9, 9, 12), timedelta(hours=4)) == local(
        2026, 9, 9, 16
    )


def test_business_time_pauses_overnight() -> None:
    assert CALENDAR.add_business_time(local(2026, 9, 8, 15), timedelta(hours=2)) == local(
        2026, 9, 9, 9
    )


def test_business_time_from_an_evening_starts_next_morning() -> None:
    assert CALENDAR.add_business_time(local(2026, 9, 8, 20), timedelta(hours=1)) == local(
        2026, 9, 9, 9
    )


def test_business_time_skips_the_weekend() -> None:
    assert CALENDAR.add_business_time(local(2026, 9, 11, 12), timedelta(hours=2)) == local(
        2026, 9, 14, 9
    )


def test_next_open_is_now_when_the_office_is_open() -> None:
    assert CALENDAR.next_open(local(2026, 9, 9, 10, 30)) == local(2026, 9, 9, 10, 30)


def test_next_open_from_saturday_is_monday_morning() -> None:
    assert CALENDAR.next_open(local(2026, 9, 12, 10)) == local(2026, 9, 14, 8)


def test_spring_forward_keeps_opening_at_eight_local_time() -> None:
    due = CALENDAR.add_business_time(local(2026, 3, 27, 12), timedelta(hours=4))
    assert due == datetime(2026, 3, 30, 9, tzinfo=UTC)  # 11:00 CEST


def test_fall_back_keeps_opening_at_eight_local_time() -> None:
    due = CALENDAR.add_business_time(local(2026, 10, 23, 12), timedelta(hours=4))
    assert due == datetime(2026, 10, 26, 10, tzinfo=UTC)  # 11:00 CET


def test_the_lost_hour_of_spring_forward_is_not_business_time() -> None:
    span = CALENDAR.business_time_between(local(2026, 3, 27, 8), local(2026, 3, 30, 16))
    assert span == timedelta(hours=13)


def test_business_time_between_reversed_instants_is_zero() -> None:
    span = CALENDAR.business_time_between(local(2026, 9, 9, 12), local(2026, 9, 9, 9))
    assert span == timedelta(0)


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        CALENDAR.is_open(datetime(2026, 9, 9, 10))


def test_business_time_cannot_be_added_backwards() -> None:
    with pytest.raises(ValueError, match="forwards"):
        CALENDAR.add_business_time(local(2026, 9, 9, 10), timedelta(hours=-1))


def test_a_calendar_closed_every_weekday_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one weekday"):
        BusinessCalendar(hours=(None,) * 7)


def test_saturday_hours_count_when_configured() -> None:
    calendar = BusinessCalendar(hours=(*WORKING_WEEK[:5], (time(10), time(14)), None))
    assert calendar.add_business_time(local(2026, 9, 11, 12), timedelta(hours=2)) == local(
        2026, 9, 12, 11
    )


def test_a_one_off_closing_day_is_closed_only_that_year() -> None:
    calendar = BusinessCalendar(closed_days=(DayRule(once=date(2026, 9, 9)),))
    assert not calendar.is_open(local(2026, 9, 9, 10))
    assert calendar.is_open(local(2027, 9, 9, 10))


def test_without_public_holidays_kristi_himmelfartsdag_is_open() -> None:
    assert BusinessCalendar(public_holidays=None).is_open(local(2026, 5, 14, 10))


@given(
    start=st.datetimes(datetime(2024, 1, 1), datetime(2030, 12, 31), timezones=st.just(UTC)),
    minutes=st.integers(min_value=1, max_value=60 * 40),
)
def test_business_time_added_is_the_business_time_measured_back(
    start: datetime, minutes: int
) -> None:
    end = CALENDAR.add_business_time(start, timedelta(minutes=minutes))
    assert CALENDAR.business_time_between(start, end) == timedelta(minutes=minutes)
