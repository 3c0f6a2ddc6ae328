"""The running service's timetable: one poll job per account, the deadline sweep and the
lease keeper that lets two replicas share them.

Inspected on the built scheduler without starting it: what matters is that polls of one
account never overlap or pile up, that the sweep runs at start so reminders due while the
bot was down go out at once, and that a job runs only on the replica holding its lease.
Jobs are run by calling them as the scheduler would, on a stepped lease clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.job import Job
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.demo.world import SandboxWorld
from bot.leases import try_acquire
from bot.retention import RetentionPolicy
from bot.scheduler import JobLeases, build_scheduler
from tests.flow_support import QUESTION

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)


@dataclass
class Account:
    platform: str
    account: str


ACCOUNTS = [(Account("facebook", "1001"), 60.0), (Account("x", "42"), 300.0)]


class SteppedClock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> SteppedClock:
    return SteppedClock()


@pytest.fixture
def jobs(world: SandboxWorld, clock: SteppedClock) -> dict[str, Job]:
    leases = JobLeases(world.store, "replica-a", LEASE.total_seconds(), clock=clock)
    scheduler = build_scheduler(world.workflow, ACCOUNTS, 30.0, leases, retention=RetentionPolicy(),
                                start_now=lambda: START)
    return {job.id: job for job in scheduler.get_jobs()}


@pytest.fixture
def live(world: SandboxWorld, clock: SteppedClock) -> tuple[BackgroundScheduler, JobLeases]:
    """A scheduler over the sandbox's real accounts, as replica-a."""
    leases = JobLeases(world.store, "replica-a", LEASE.total_seconds(), clock=clock)
    return build_scheduler(world.workflow, [(c, 60.0) for c in world.clients.values()], 30.0, leases,
                           start_now=lambda: START), leases


def run(scheduler: BackgroundScheduler, job_id: str) -> None:
    job = scheduler.get_job(job_id)
    job.func(*job.args)


def facebook_job(world: SandboxWorld) -> str:
    return f"poll:facebook:{world.graph.world.page_id}"


def stored(world: SandboxWorld, item: tuple[str, str]) -> bool:
    try:
        world.inquiry_for(*item)
    except LookupError:
        return False
    return True


def test_there_is_a_poll_job_per_account_a_sweep_retention_and_the_lease_keeper(jobs: dict[str, Job]) -> None:
    assert sorted(jobs) == ["leases", "poll:facebook:1001", "poll:x:42", "retention", "sweep"]


def test_personal_data_retention_runs_once_a_day(jobs: dict[str, Job]) -> None:
    trigger = jobs["retention"].trigger
    assert isinstance(trigger, IntervalTrigger)
    assert trigger.interval == timedelta(days=1)


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
    assert {job.next_run_time for job in jobs.values() if job.id != "leases"} == {START}


def test_leases_are_renewed_every_third_of_their_period_from_a_thread_of_their_own(
    jobs: dict[str, Job],
) -> None:
    keeper = jobs["leases"]
    assert isinstance(keeper.trigger, IntervalTrigger)
    assert (keeper.trigger.interval, keeper.executor) == (LEASE / 3, "leases")


def test_a_poll_whose_lease_the_other_replica_holds_stores_nothing(
    world: SandboxWorld, live: tuple[BackgroundScheduler, JobLeases]
) -> None:
    try_acquire(world.store, facebook_job(world), "replica-b", START, LEASE)
    item = world.citizens.write({"text": QUESTION})
    run(live[0], facebook_job(world))
    assert not stored(world, item)


def test_a_poll_takes_over_once_the_other_replicas_lease_has_lapsed(
    world: SandboxWorld, live: tuple[BackgroundScheduler, JobLeases], clock: SteppedClock
) -> None:
    try_acquire(world.store, facebook_job(world), "replica-b", START, LEASE)
    item = world.citizens.write({"text": QUESTION})
    clock.now = START + LEASE
    run(live[0], facebook_job(world))
    assert stored(world, item)


def test_the_keeper_renews_held_leases_so_the_other_replica_stays_out(
    world: SandboxWorld, live: tuple[BackgroundScheduler, JobLeases], clock: SteppedClock
) -> None:
    run(live[0], "sweep")
    clock.now = START + timedelta(seconds=20)
    run(live[0], "leases")
    assert not try_acquire(world.store, "sweep", "replica-b", START + timedelta(seconds=45), LEASE)


def test_the_keeper_runs_a_job_it_takes_over_at_once(
    world: SandboxWorld, live: tuple[BackgroundScheduler, JobLeases], clock: SteppedClock
) -> None:
    scheduler, _ = live
    try_acquire(world.store, "sweep", "replica-b", START, LEASE)
    scheduler.modify_job("sweep", next_run_time=START + timedelta(minutes=5))
    clock.now = START + LEASE
    run(scheduler, "leases")
    assert scheduler.get_job("sweep").next_run_time == START + LEASE


def test_a_clean_shutdown_frees_every_job_for_the_other_replica_at_once(
    world: SandboxWorld, live: tuple[BackgroundScheduler, JobLeases]
) -> None:
    scheduler, leases = live
    run(scheduler, "leases")
    leases.release_all()
    assert all(try_acquire(world.store, job.id, "replica-b", START, LEASE)
               for job in scheduler.get_jobs() if job.id != "leases")
