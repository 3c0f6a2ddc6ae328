"""One poll of one account: read each stream's cursor, fetch, store, and move the cursor.

The items and the cursor that covers them are written in one transaction, so a crash at any
point either stores both or neither: the next poll fetches the same items again and the
unique (platform, external id) key turns the repeats into nothing.

One item that cannot be stored never stops its stream: should the batch's transaction fail,
the items are stored again under a savepoint each, in one transaction with the cursor: the
one that fails is rolled back alone and set aside (an ERROR line and a Danish notice to the
communication unit) and the cursor moves past it. Items the
connector could not read at all arrive as `FetchResult.set_aside` and are reported the same
way. A stream that fails for a reason nobody foresaw is logged at ERROR and the account's
other streams are still polled.
"""

from __future__ import annotations

import logging
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import InterfaceError, OperationalError

from bot.errors import (
    AuthExpired,
    ObjectGone,
    PlatformError,
    PlatformUnavailable,
    RateLimited,
    UsageCapped,
)
from bot.models import AccountStatus, PollCursor
from bot.platforms.base import FetchResult, IncomingItem, PlatformClient, SetAside
from bot.store import Store
from bot.workflow import Workflow

log = logging.getLogger(__name__)

DATABASE_TROUBLE = (OperationalError, InterfaceError)
"""The database itself failed (locked, gone, restarting): no item is to blame for that."""


@dataclass
class PollOutcome:
    """What one poll of one account did, for logs, the CLI and benchmarks."""

    stored: int = 0
    repeats: int = 0
    own_replies: int = 0
    skipped_reason: str = ""


def poll_account(workflow: Workflow, client: PlatformClient, now: datetime) -> PollOutcome:
    """Poll every stream of one account unless it is paused or stopped."""
    outcome = PollOutcome()
    store = workflow.ctx.store
    with store.session() as session:
        status = session.get(AccountStatus, (client.platform, client.account))
        if status is not None and status.stopped_reason:
            outcome.skipped_reason = "stopped"
            return outcome
        if status is not None and status.paused_until and status.paused_until > now:
            outcome.skipped_reason = "paused"
            return outcome
    for stream in client.streams():
        if not _poll_stream(workflow, client, stream, now, outcome):
            break
    return outcome


def _pause_stream(store: Store, client: PlatformClient, stream: str, until: datetime) -> None:
    """Only this endpoint is throttled (e.g. X's 15 DM reads per 15 minutes): the account's
    other streams go on."""
    with store.session() as session:
        cursor = session.get(PollCursor, (client.platform, client.account, stream)) or PollCursor(
            platform=client.platform, account=client.account, stream=stream
        )
        cursor.paused_until = until
        session.add(cursor)
    log.warning("%s/%s %s throttled; paused until %s", client.platform, client.account, stream,
                until.isoformat())


def _poll_stream(
    workflow: Workflow, client: PlatformClient, stream: str, now: datetime, outcome: PollOutcome
) -> bool:
    """Fetch and store one stream; False when the account must not be polled further now."""
    store = workflow.ctx.store
    with store.session() as session:
        cursor = session.get(PollCursor, (client.platform, client.account, stream))
        position = cursor.position if cursor else ""
        if cursor is not None and cursor.paused_until and cursor.paused_until > now:
            return True
    try:
        result = client.fetch_new(stream, position)
    except RateLimited as exc:
        until = now + timedelta(seconds=exc.retry_after)
        if exc.per_stream:
            _pause_stream(store, client, stream, until)
            return True
        workflow.intake.pause_account(client.platform, client.account, until,
                                      capped=isinstance(exc, UsageCapped))
        outcome.skipped_reason = "throttled"
        return False
    except AuthExpired as exc:
        workflow.intake.stop_account(client.platform, client.account, str(exc))
        outcome.skipped_reason = "stopped"
        return False
    except PlatformUnavailable as exc:
        log.warning("%s/%s %s unavailable, next poll retries: %s", client.platform, client.account, stream, exc)
        outcome.skipped_reason = "unavailable"
        return False
    except ObjectGone as exc:
        log.warning("%s/%s %s: object gone, skipped: %s", client.platform, client.account, stream, exc)
        return True
    except PlatformError as exc:
        # A refusal nobody classified (a bad parameter, an API change, a paging loop): the
        # next poll tries again, and the other streams and accounts are still polled.
        log.error("%s/%s %s refused, next poll retries: %s", client.platform, client.account, stream, exc)
        outcome.skipped_reason = "failed"
        return True
    except Exception as exc:  # noqa: BLE001 - one stream's surprise must not stop the others
        log.error("%s/%s %s could not be read, next poll retries: %s: %s",
                  client.platform, client.account, stream, type(exc).__name__, exc)
        outcome.skipped_reason = "failed"
        return True
    for aside in result.set_aside:
        workflow.intake.set_aside(client.platform, client.account, stream, aside)
    try:
        _store(workflow, client, stream, result, result.items, now, outcome)
    except DATABASE_TROUBLE:
        raise
    except Exception as exc:  # noqa: BLE001 - retried item by item just below
        log.warning("%s/%s %s: storing the batch failed (%s), storing item by item",
                    client.platform, client.account, stream, type(exc).__name__)
        _store_one_by_one(workflow, client, stream, result, now, outcome)
    return True


def _store_one_by_one(
    workflow: Workflow, client: PlatformClient, stream: str, result: FetchResult, now: datetime,
    outcome: PollOutcome,
) -> None:
    """The batch again, each item under a savepoint of its own: the one that fails is rolled
    back alone and set aside, the others and the cursor still commit together (or, should
    the cursor's write fail too, not at all)."""
    aside = _store(workflow, client, stream, result, result.items, now, outcome, isolate=True)
    for external_id, reason in aside:
        workflow.intake.set_aside(client.platform, client.account, stream, SetAside(external_id, reason))


def _store(
    workflow: Workflow, client: PlatformClient, stream: str, result: FetchResult,
    items: list[IncomingItem], now: datetime, outcome: PollOutcome, *, isolate: bool = False,
) -> list[tuple[str, str]]:
    """Store `items`, the own replies and the new cursor in one transaction; with `isolate`,
    an item that fails is rolled back to its savepoint and returned as (id, reason) instead.

    The outcome is counted only once the transaction committed."""
    store = workflow.ctx.store
    counted, failed = PollOutcome(), []
    with store.session() as session:
        known = store.stored_among(session, client.platform, [item.external_id for item in items])
        counted.repeats += len(known)
        for item in items:
            if item.external_id in known:
                continue
            try:
                with session.begin_nested() if isolate else nullcontext():
                    ingested = workflow.intake.ingest(session, item)
            except DATABASE_TROUBLE:
                raise  # the database, not the item: the next poll tries again
            except Exception as exc:  # this item is set aside, the rest go on
                if not isolate:
                    raise
                failed.append((item.external_id, _reason(exc)))
                continue
            if ingested is None:
                counted.repeats += 1
            else:
                counted.stored += 1
        for own in result.own_replies:
            workflow.intake.record_own_reply(session, own)
            counted.own_replies += 1
        row = session.get(PollCursor, (client.platform, client.account, stream)) or PollCursor(
            platform=client.platform, account=client.account, stream=stream
        )
        row.position, row.updated_at = result.next_cursor, now
        session.add(row)
        workflow.intake.pause_over(session, client.platform, client.account)
    outcome.stored += counted.stored
    outcome.repeats += counted.repeats
    outcome.own_replies += counted.own_replies
    return failed


def _reason(exc: Exception) -> str:
    """The exception's type and first line, short: enough for IT, and no citizen text."""
    first = str(exc).splitlines()[0][:120] if str(exc) else ""
    return f"{type(exc).__name__}: {first}"
