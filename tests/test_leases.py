"""Leases: one holder at a time per job, taken over once the holder stops renewing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.leases import release, try_acquire
from bot.store import Store

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
PERIOD = timedelta(seconds=30)


def test_the_first_replica_gets_the_job(store: Store) -> None:
    assert try_acquire(store, "poll:facebook:1", "replica-a", NOW, PERIOD)


def test_a_second_replica_is_refused_while_the_lease_runs(store: Store) -> None:
    try_acquire(store, "poll:facebook:1", "replica-a", NOW, PERIOD)
    assert not try_acquire(store, "poll:facebook:1", "replica-b", NOW + timedelta(seconds=29), PERIOD)


def test_the_holder_renews_its_own_lease(store: Store) -> None:
    try_acquire(store, "sweep", "replica-a", NOW, PERIOD)
    assert try_acquire(store, "sweep", "replica-a", NOW + timedelta(seconds=20), PERIOD)
    assert not try_acquire(store, "sweep", "replica-b", NOW + timedelta(seconds=45), PERIOD)


def test_a_dead_holders_lease_is_taken_over_after_one_period(store: Store) -> None:
    try_acquire(store, "sweep", "replica-a", NOW, PERIOD)
    assert try_acquire(store, "sweep", "replica-b", NOW + PERIOD, PERIOD)
    assert not try_acquire(store, "sweep", "replica-a", NOW + PERIOD + timedelta(seconds=1), PERIOD)


def test_a_released_lease_is_free_at_once(store: Store) -> None:
    try_acquire(store, "sweep", "replica-a", NOW, PERIOD)
    release(store, "sweep", "replica-a")
    assert try_acquire(store, "sweep", "replica-b", NOW + timedelta(seconds=1), PERIOD)


def test_leases_of_different_jobs_are_independent(store: Store) -> None:
    try_acquire(store, "poll:x:1", "replica-a", NOW, PERIOD)
    assert try_acquire(store, "poll:linkedin:2", "replica-b", NOW, PERIOD)
