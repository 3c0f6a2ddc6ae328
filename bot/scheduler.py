"""APScheduler wiring only: one poll job per account, one sweep job.

Jobs coalesce and never overlap themselves (`max_instances=1`), so a slow platform cannot
pile up polls; the sweep runs once at start so reminders due while the bot was down go out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Protocol

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from bot.polling import poll_account
from bot.reminders import sweep


class PolledAccount(Protocol):
    platform: str
    account: str


JOB_OPTIONS: dict[str, Any] = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 60}
"""Set on each job rather than as scheduler defaults, which APScheduler applies only at start."""


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
        timezone=UTC,
        executors={"default": ThreadPoolExecutor(max_workers=4)},
    )
    first_run = (start_now or (lambda: datetime.now(UTC)))()
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
            **JOB_OPTIONS,
        )
    scheduler.add_job(
        _sweep,
        "interval",
        seconds=sweep_interval,
        id="sweep",
        name="deadline sweep, reminders and queued replies",
        args=(workflow,),
        next_run_time=first_run,
        **JOB_OPTIONS,
    )
    return scheduler


def _poll(workflow: Any, client: Any) -> None:
    poll_account(workflow, client, workflow.ctx.now())


def _sweep(workflow: Any) -> None:
    sweep(workflow, workflow.ctx.now())
