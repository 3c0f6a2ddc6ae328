"""APScheduler wiring: one poll job per account, one sweep job, and the leases that make
two replicas on one database behave as one bot.

Jobs coalesce and never overlap themselves (`max_instances=1`), so a slow platform cannot
pile up polls; the sweep runs once at start so reminders due while the bot was down go out.

Across replicas, a job runs only while its replica holds the job's lease (named by the job
id, see `bot.leases`). A keeper job renews held leases every third of the lease period from
its own thread, so a long poll keeps its lease and the other replica never runs the same
job alongside it; the keeper also takes lapsed leases and runs their jobs at once, so a
dead replica's work moves within about one lease period. Correctness does not rest on the
leases alone: ingest is keyed on the platform's id and every outcome is claimed in the
database, so a replica frozen past its lease can waste work but not double it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from bot.leases import release, try_acquire
from bot.polling import poll_account
from bot.reminders import sweep
from bot.retention import RetentionPolicy
from bot.retention import run as run_retention

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
KEEPER = "leases"
RETENTION_INTERVAL = 24 * 60 * 60.0
RETENTION_CHAT_LIMIT = 250
"""Chat messages one daily run redacts: about five minutes at Slack's pace for `chat.update`,
so a stop waits no longer; `borgerbot retention run` redacts the rest at once."""
SWEEP_POSTING_SHARE = 0.8
"""Of each sweep interval, the part a sweep may spend posting a backlog of cards: a burst then
drains at nearly Slack's pace, and each sweep ends before the next is due."""


class PolledAccount(Protocol):
    platform: str
    account: str


JOB_OPTIONS: dict[str, Any] = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 60}
"""Set on each job rather than as scheduler defaults, which APScheduler applies only at start."""


def _wall_clock() -> datetime:
    return datetime.now(UTC)


class JobLeases:
    """This replica's claims on the scheduled jobs, held as lease rows in the shared database.

    Leases run on the wall clock, not the workflow's clock: they are compared across
    processes (keep the replicas' clocks synchronised, as NTP does).
    """

    def __init__(self, store: Any, holder: str, period_seconds: float, *, clock: Clock = _wall_clock) -> None:
        self.store = store
        self.holder = holder
        self.period = timedelta(seconds=period_seconds)
        self.clock = clock
        self._held: set[str] = set()
        self._lock = threading.Lock()

    def holds(self, name: str) -> bool:
        with self._lock:
            return name in self._held

    def claim(self, name: str) -> bool:
        """Take or renew the lease of job `name`; False while another replica holds it."""
        held = try_acquire(self.store, name, self.holder, self.clock(), self.period)
        with self._lock:
            changed = held != (name in self._held)
            if held:
                self._held.add(name)
            else:
                self._held.discard(name)
        if changed:
            log.info("replica %s %s job %s", self.holder, "now runs" if held else "no longer runs", name)
        return held

    def release_all(self) -> None:
        """Hand every job over at a clean shutdown, so the other replica need not wait a period."""
        with self._lock:
            names, self._held = sorted(self._held), set()
        for name in names:
            release(self.store, name, self.holder)
        log.info("replica %s released %d jobs", self.holder, len(names))


def build_scheduler(
    workflow: Any,
    accounts: Iterable[tuple[PolledAccount, float]],
    sweep_interval: float,
    leases: JobLeases,
    *,
    retention: RetentionPolicy | None = None,
    jitter: float = 0.1,
    start_now: Clock | None = None,
) -> BackgroundScheduler:
    """A scheduler with a poll job per (client, interval), the deadline sweep, the daily
    retention run (when given its policy) and the lease keeper; not started."""
    scheduler = BackgroundScheduler(
        timezone=UTC,
        # The keeper has a thread of its own, so busy job workers never delay a renewal.
        executors={"default": ThreadPoolExecutor(max_workers=4), KEEPER: ThreadPoolExecutor(max_workers=1)},
    )
    first_run = (start_now or _wall_clock)()

    def add(job_id: str, name: str, interval: float, spread: float, *args: Any) -> str:
        scheduler.add_job(
            _guarded, "interval", seconds=interval, jitter=spread or None, id=job_id, name=name,
            args=(leases, job_id, *args), next_run_time=first_run, **JOB_OPTIONS,
        )
        return job_id

    job_ids = [
        add(f"poll:{client.platform}:{client.account}", f"poll {client.platform} {client.account}",
            interval, interval * jitter, _poll, workflow, client)
        for client, interval in accounts
    ]
    job_ids.append(add("sweep", "deadline sweep, reminders and queued replies", sweep_interval, 0.0,
                       _sweep, workflow, sweep_interval * SWEEP_POSTING_SHARE))
    if retention is not None:
        job_ids.append(add("retention", "delete personal data past its retention period",
                           RETENTION_INTERVAL, 0.0, _retain, workflow, retention))
    scheduler.add_job(
        _keep, "interval", seconds=leases.period.total_seconds() / 3, id=KEEPER,
        name="renew and take over job leases", executor=KEEPER, args=(scheduler, leases, job_ids),
        **JOB_OPTIONS,
    )
    return scheduler


def _guarded(leases: JobLeases, job_id: str, run: Callable[..., None], *args: Any) -> None:
    """Run the job only while this replica holds its lease; claiming renews it."""
    if leases.claim(job_id):
        run(*args)


def _keep(scheduler: BackgroundScheduler, leases: JobLeases, job_ids: list[str]) -> None:
    """Renew what this replica holds; take what lapsed and run it now, not at its next turn."""
    for job_id in job_ids:
        newly = not leases.holds(job_id)
        if leases.claim(job_id) and newly:
            scheduler.modify_job(job_id, next_run_time=leases.clock())


def _poll(workflow: Any, client: Any) -> None:
    poll_account(workflow, client, workflow.ctx.now())


def _sweep(workflow: Any, posting_budget: float) -> None:
    sweep(workflow, workflow.ctx.now(), posting_budget=posting_budget)


def _retain(workflow: Any, policy: RetentionPolicy) -> None:
    done = run_retention(workflow.ctx.store, workflow.ctx.now(), policy, workflow.ctx.chat,
                         chat_limit=RETENTION_CHAT_LIMIT)
    outcome = done.outcome
    if done.chat is not None and done.chat.left:
        log.warning("retention: %d chat messages still show a citizen; the next run redacts more",
                    done.chat.left)
    if outcome.anonymised:
        log.info("retention: anonymised %d settled inquiries", len(outcome.anonymised))
    if outcome.awaiting_journal:
        log.warning("retention: %d journal-relevant inquiries still have no ESDH case number "
                    "after %d days; see `borgerbot retention run --dry-run`",
                    len(outcome.awaiting_journal), policy.journal_alert_days)
