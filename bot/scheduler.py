"""APScheduler wiring only: one poll job per account, one sweep job.

Jobs coalesce and never overlap themselves (`max_instances=1`), so a slow platform cannot
pile up polls; the sweep runs once at start so reminders due while the bot was down go out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import Any, Protocol

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from bot.polling import poll_account
from bot.reminders import sweep


class PolledAccount(Protocol):
    platform: str
    account: str


JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 60}


def build_scheduler(
    workflow: Any,
    accounts: Iterable[tuple[PolledAccount, float]],
    sweep_interval: float,
    *,
    jitter: float = 0.1,
    start_now: Callable[[], datetime] | None = None,
) -> BackgroundScheduler:
    """A scheduler with a poll job per (client, interval) and the deadline sweep; not started."""
    scheduler = BackgroundScheduler(
        timezone=timezone.utc,
        executors={"default": ThreadPoolExecutor(max_workers=4)},
        job_defaults=JOB_DEFAULTS,
    )
    first_run = (start_now or (lambda: datetime.now(timezone.utc)))()
    for client, interval in accounts:
        scheduler.add_job(
            _poll,
            "interval",
            seconds=interval,
            jitter=max(0.0, interval * jitter),
            id=f"poll:{client.platform}:{client.account}",
            name=f"poll {client.platform} {client.account}",
            args=(workflow, client),
            next_run_time=first_run,
        )
    scheduler.add_job(
        _sweep,
        "interval",
        seconds=sweep_interval,
        id="sweep",
        name="deadline sweep, reminders and queued replies",
        args=(workflow,),
        next_run_time=first_run,
    )
    return scheduler


def _poll(workflow: Any, client: Any) -> None:
    poll_account(workflow, client, workflow.ctx.now())


def _sweep(workflow: Any) -> None:
    sweep(workflow, workflow.ctx.now())
