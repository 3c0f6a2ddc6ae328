"""The running service's timetable: one poll job per account and the deadline sweep.

Inspected on the built scheduler without starting it: what matters is that polls of one
account never overlap or pile up, and that the sweep runs at start so reminders due while
the bot was down go out at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.job import Job
from apscheduler.triggers.interval import IntervalTrigger

from bot.demo.world import SandboxWorld
from bot.scheduler import build_scheduler

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@dataclass
class Account:
    platform: str
    account: str


ACCOUNTS = [(Account("facebook", "1001"), 60.0), (Account("x", "42"), 300.0)]


@pytest.fixture
def jobs(world: SandboxWorld) -> dict[str, Job]:
    scheduler = build_scheduler(world.workflow, ACCOUNTS, 30.0, start_now=lambda: START)
    return {job.id: job for job in scheduler.get_jobs()}


def test_there_is_one_poll_job_per_account_and_one_sweep(jobs: dict[str, Job]) -> None:
    assert sorted(jobs) == ["poll:facebook:1001", "poll:x:42", "sweep"]


def test_each_account_is_polled_at_its_own_interval_with_some_jitter(jobs: dict[str, Job]) -> None:
    facebook, x = jobs["poll:facebook:1001"].trigger, jobs["poll:x:42"].trigger
    assert isinstance(facebook, IntervalTrigger) and isinstance(x, IntervalTrigger)
    assert (facebook.interval, x.interval) == (timedelta(seconds=60), timedelta(seconds=300))
    assert facebook.jitter and 0 < facebook.jitter < 60


def test_the_sweep_runs_at_its_interval(jobs: dict[str, Job]) -> None:
    trigger = jobs["sweep"].trigger
    assert isinstance(trigger, IntervalTrigger)
    assert trigger.interval == timedelta(seconds=30)


def test_no_job_overlaps_itself_or_piles_up_missed_runs(jobs: dict[str, Job]) -> None:
    assert {(job.coalesce, job.max_instances) for job in jobs.values()} == {(True, 1)}


def test_every_job_runs_as_soon_as_the_service_starts(jobs: dict[str, Job]) -> None:
    assert {job.next_run_time for job in jobs.values()} == {START}
