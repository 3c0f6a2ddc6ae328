"""One poll of one account: read each stream's cursor, fetch, store, and move the cursor.

The items and the cursor that covers them are written in one transaction, so a crash at any
point either stores both or neither: the next poll fetches the same items again and the
unique (platform, external id) key turns the repeats into nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.errors import (
    AuthExpired,
    ObjectGone,
    PlatformError,
    PlatformUnavailable,
    RateLimited,
    UsageCapped,
)
from bot.models import AccountStatus, PollCursor
from bot.platforms.base import PlatformClient
from bot.store import Store
from bot.workflow import Workflow

log = logging.getLogger(__name__)


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
        # A refusal nobody classified (a bad parameter, an API change): the account's next
        # poll tries again, and the other accounts of this cycle are still polled.
        log.error("%s/%s %s refused, next poll retries: %s", client.platform, client.account, stream, exc)
        outcome.skipped_reason = "failed"
        return False
    with store.session() as session:
        known = store.stored_among(session, client.platform, [item.external_id for item in result.items])
        outcome.repeats += len(known)
        for item in result.items:
            if item.external_id in known:
                continue
            if workflow.intake.ingest(session, item) is None:
                outcome.repeats += 1
            else:
                outcome.stored += 1
        for own in result.own_replies:
            workflow.intake.record_own_reply(session, own)
            outcome.own_replies += 1
        cursor = session.get(PollCursor, (client.platform, client.account, stream)) or PollCursor(
            platform=client.platform, account=client.account, stream=stream
        )
        cursor.position, cursor.updated_at = result.next_cursor, now
        session.add(cursor)
        workflow.intake.pause_over(session, client.platform, client.account)
    return True
