"""Thread replies that never reached the database: recovered from chat, not lost.

A specialist's reply arrives as one Slack event. If the database cannot take it at that
moment (SQLite locked, disk full, PostgreSQL restarting), the listener fails, Slack has had
its acknowledgement and will not send the event again, and the draft would be gone.

Two designs could close that gap: write the raw event to a spool file first and replay it,
or read the thread back from Slack in the sweep. This module does the second, because it is
the one that holds in every case the first one fails:
- a full disk refuses the spool file as it refuses the database, both sit in the same data
  directory;
- replicas on PostgreSQL share the database, not a disk: a spool dies with the replica
  (or container) that wrote it, while every replica can read the thread;
- an event lost before any of our code runs (the process SIGKILLed mid-request, Socket
  Mode disconnected, Slack giving up its retries) never reaches a spool, but the message
  is in the thread;
- Slack keeps the message's current text, so a reply edited while its events were being
  lost comes back as the edited text, and a deleted one does not come back.
The price is one `conversations.replies` call per awaited thread and scan, so each sweep
reads a few threads, continuing where the last one stopped (Tier 3, 50+ calls a minute, for
internal apps; the 2025 limits for commercially distributed apps do not apply).

A reply is recovered only once it is `GRACE` old, which leaves the live listener, still
waiting on a lock perhaps, time to store it; storing is idempotent on the reply's ts anyway.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlmodel import Session, col, select

from bot.chat.base import ChatRef, ThreadReply
from bot.errors import ChatError, InvalidTransition
from bot.models import Draft, Inquiry, InquiryState
from bot.workflow.context import WorkflowContext
from bot.workflow.decisions import Decisions
from bot.workflow.views import latest_draft

log = logging.getLogger(__name__)

AWAITING = (InquiryState.POSTED, InquiryState.DRAFTED)
"""States in which the department's next thread reply becomes the newest draft."""
GRACE = timedelta(minutes=1)
THREADS_PER_SWEEP = 8
"""With the sweep every 15 s, about 32 calls a minute: inside Tier 3 with room to spare."""


class ChatInbox:
    """Thread replies that only chat knows about become drafts, once."""

    def __init__(self, ctx: WorkflowContext, decisions: Decisions,
                 threads_per_sweep: int = THREADS_PER_SWEEP) -> None:
        self.ctx = ctx
        self.decisions = decisions
        self.threads_per_sweep = threads_per_sweep
        self._after_id = 0  # round robin over the awaited threads, so every one gets its turn

    def edited_reply(self, inquiry_id: int, author: str, text: str, *, chat_ts: str,
                     chat_key: str | None = None, event_id: str | None = None) -> int | None:
        """An edit of a reply we never stored is that reply arriving now, so it becomes the
        newest draft; any other edit is a revision (see `Decisions.revise_draft`)."""
        with self.ctx.store.session() as session:
            missed = _missed(session, self.ctx.load(session, inquiry_id), chat_ts)
        if missed:
            return self.decisions.add_draft(inquiry_id, author, text, source="thread", chat_ts=chat_ts,
                                            chat_key=chat_key, event_id=event_id)
        return self.decisions.revise_draft(inquiry_id, author, text, chat_ts=chat_ts,
                                           chat_key=chat_key, event_id=event_id)

    def recover_missed_replies(self, now: datetime) -> int:
        """Read the next few awaited threads; the newest reply there that is newer than the
        inquiry's newest draft, and at least `GRACE` old, becomes the draft. Returns how many."""
        recovered = 0
        for inquiry_id, ref, after in self._next_threads():
            try:
                replies = self.ctx.chat.thread_replies(ref, after=after)
            except ChatError as exc:
                log.warning("cannot read the thread of inquiry %s: %s", inquiry_id, exc)
                break  # the next sweep goes on from the following thread
            due = [r for r in replies if _moment(r.ts) <= now - GRACE]
            if due and self._take(inquiry_id, due[-1]):
                recovered += 1
        return recovered

    def _next_threads(self) -> list[tuple[int, ChatRef, str]]:
        """(inquiry, its card, the ts after which a reply would be new) for the next awaited
        threads after the last one read, starting over at the lowest id at the end."""
        with self.ctx.store.session() as session:
            batch = self._awaited(session, self._after_id) or self._awaited(session, 0)
            threads = []
            for inquiry in batch:
                after = _boundary(session, inquiry)
                if after is not None and inquiry.id is not None and inquiry.chat_channel:
                    threads.append((inquiry.id, ChatRef(inquiry.chat_channel, str(inquiry.chat_ts)), after))
        self._after_id = (batch[-1].id or 0) if batch else 0
        return threads

    def _awaited(self, session: Session, after_id: int) -> list[Inquiry]:
        return list(session.exec(
            select(Inquiry).where(col(Inquiry.state).in_(AWAITING), col(Inquiry.chat_ts).is_not(None),
                                  col(Inquiry.id) > after_id)
            .order_by(col(Inquiry.id)).limit(self.threads_per_sweep)).all())

    def _take(self, inquiry_id: int, reply: ThreadReply) -> bool:
        """Store the recovered reply as the thread listener would have; the inquiry may have
        moved on meanwhile, and an empty reply (a file alone) is no draft."""
        try:
            self.decisions.add_draft(inquiry_id, reply.author, reply.text, source="thread", chat_ts=reply.ts,
                                     chat_key=reply.key)
        except InvalidTransition:
            return False
        except Exception:  # one thread must not stop the sweep's reminders and deliveries
            log.exception("recovering a thread reply for inquiry %s failed", inquiry_id)
            return False
        log.info("recovered a thread reply for inquiry %s from chat", inquiry_id)
        return True


def _boundary(session: Session, inquiry: Inquiry) -> str | None:
    """The ts after which a thread reply is one we have not stored: the card's, or the newest
    draft's when that came from a thread (after a move, the old thread's). None when the
    newest draft was written in a form: it has no place in the thread to compare with."""
    newest = latest_draft(session, inquiry.id or 0)
    if newest is not None and newest.chat_ts is None:
        return None
    candidates = [str(inquiry.chat_ts), *([newest.chat_ts] if newest is not None and newest.chat_ts else [])]
    return max(candidates, key=Decimal)


def _missed(session: Session, inquiry: Inquiry, chat_ts: str) -> bool:
    """Whether the thread reply `chat_ts` is one we never stored and would now be the draft."""
    if inquiry.state not in AWAITING:
        return False
    known = session.exec(select(Draft.id).where(
        Draft.inquiry_id == inquiry.id, col(Draft.chat_ts) == chat_ts)).first()
    after = _boundary(session, inquiry)
    return known is None and after is not None and Decimal(chat_ts) > Decimal(after)


def _moment(ts: str) -> datetime:
    """A Slack ts (epoch seconds with microseconds) as an instant."""
    return datetime.fromtimestamp(float(ts), tz=UTC)
