"""`borgerbot run` and `borgerbot poll`: the production assembly and its clean shutdown.

One process holds the chat front end, a poll job per account and the deadline sweep; two
or more such processes on one PostgreSQL database share the jobs through leases (see
`bot.scheduler`). On SIGTERM or SIGINT no platform request starts or is read on any more
(`bot.platforms.http.STOPPING`), the jobs in flight get `STOP_GRACE_SECONDS` to finish (each
is a short transaction, so abandoning one loses nothing: its items come again on the next
poll), the leases are released so another replica takes the jobs over at once, and the
process exits within a few seconds even when a platform holds a request open.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from typing import Any

from slack_sdk import WebClient

from bot.accounts import build_clients
from bot.assembly import Configuration, build_workflow, load_configuration, resolve_front_end
from bot.chat.slack import SlackGateway
from bot.platforms.http import STOPPING
from bot.polling import PollOutcome, poll_account
from bot.scheduler import JobLeases, build_scheduler
from bot.settings import Settings
from bot.startup import check_slack
from bot.store import open_store
from bot.workflow import Workflow

log = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 3.0
"""How long a clean stop waits for the jobs in flight before it leaves them behind."""


def assemble(settings: Settings) -> tuple[Configuration, Workflow, WebClient]:
    """The production bot: configuration, database, platform clients, Slack, workflow."""
    config = load_configuration(str(settings.rules_file))
    store = open_store(settings.database_url)
    clients = build_clients(config.accounts, settings, store=store)
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    web = WebClient(token=token, base_url=settings.slack_api_url)
    gateway = SlackGateway(web)
    workflow = build_workflow(config, store, gateway, clients, group_members=gateway.usergroup_members)
    return config, workflow, web


def poll_once(settings: Settings) -> list[tuple[str, str, PollOutcome]]:
    """Poll every configured account once and post what is new; for cron-style operation."""
    _, workflow, _ = assemble(settings)
    now = workflow.ctx.now()
    results = [
        (client.platform, client.account, poll_account(workflow, client, now))
        for client in workflow.ctx.clients.values()
    ]
    workflow.intake.publish_pending()
    return results


def lease_period(takeover_seconds: float) -> float:
    """A dead replica's lease lapses after one period and the survivor's keeper notices within a
    third of one more, so a period of 3/4 of the promised takeover time keeps the promise."""
    return takeover_seconds * 3 / 4


def run(settings: Settings) -> None:
    """Run until SIGTERM or SIGINT."""
    config, workflow, web = assemble(settings)
    check_slack(web, config)
    intervals = {(a.platform, a.account): a.poll_interval for a in config.accounts}
    accounts = [
        (client, intervals.get(key) or settings.poll_interval_seconds)
        for key, client in workflow.ctx.clients.items()
    ]
    leases = JobLeases(workflow.ctx.store, settings.replica_id, lease_period(settings.takeover_seconds))
    scheduler = build_scheduler(
        workflow, accounts, settings.sweep_interval_seconds, leases, retention=config.retention
    )
    app = resolve_front_end(settings.front_end)(settings, workflow, client=web)
    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        log.info("received signal %s, stopping", signum)
        STOPPING.set()
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    scheduler.start()
    log.info("borgerbot running as replica %s: %d accounts, sweep every %ss",
             settings.replica_id, len(accounts), settings.sweep_interval_seconds)
    front_end = _start_front_end(app, settings)
    stop.wait()
    finishing = threading.Thread(target=scheduler.shutdown, kwargs={"wait": True},
                                 name="finish-jobs", daemon=True)
    finishing.start()
    finishing.join(STOP_GRACE_SECONDS)
    leases.release_all()
    close = getattr(front_end, "close", None)
    if callable(close):
        close()
    if finishing.is_alive():
        # A job is stuck in a platform call that ignores the stop (a read that has not timed
        # out yet); its transaction has not committed, so leaving it behind loses nothing.
        log.warning("a job was still running after %.0fs; stopping without it", STOP_GRACE_SECONDS)
        logging.shutdown()
        os._exit(0)
    for client in workflow.ctx.clients.values():
        client.close()
    log.info("borgerbot stopped cleanly")


def _start_front_end(app: Any, settings: Settings) -> Any:
    """Socket Mode connects in the background; HTTP mode serves from a daemon thread."""
    from importlib import import_module

    module = import_module(settings.front_end.partition(":")[0])
    serve = module.serve
    if settings.slack_mode == "socket":
        return serve(app, settings)
    thread = threading.Thread(target=serve, args=(app, settings), name="slack-http", daemon=True)
    thread.start()
    return None
