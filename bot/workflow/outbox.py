"""Every bot message that stands for a fact (a card, an approval request, a reminder, an
escalation) appears in chat exactly once, whatever crashes between Slack and our database.

Before Slack is asked, a `ChatPost` row with the message's key is committed and claimed.
If the process dies after Slack stored the message but before its `ts` was written back,
the row is left without a `ts`; the next attempt then looks for the message by the marker
it carries (the key, in Slack's message metadata) and adopts it instead of posting again.
The claim keeps two threads or replicas from posting the same key at the same time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from bot.chat.base import ChatRef
from bot.errors import ChatError
from bot.models import ChatPost
from bot.workflow.context import WorkflowContext

log = logging.getLogger(__name__)

CLAIM = timedelta(seconds=20)
"""Long enough for one post with its pacing; short, because after a crash the key waits it out."""

Post = Callable[[str], ChatRef]
"""Posts the message carrying the given marker; the caller binds channel and content."""

Settled = Callable[[Session, ChatRef], None]
"""What the caller records once the message is in chat, in the transaction that stores its
`ts`; it must be idempotent, as a message found already settled runs it again."""


@dataclass(frozen=True)
class _Claimed:
    """The claimed row as the poster needs it; `claimed_again` means an attempt came before."""

    channel: str
    ts: str | None
    attempted_at: datetime
    claimed_again: bool


class PostInFlight(ChatError):
    """Another thread or replica is posting this key right now; try again later."""


class Outbox:
    """Posts keyed messages once; see the module docstring for the protocol."""

    def __init__(self, ctx: WorkflowContext) -> None:
        self.ctx = ctx

    def post_once(self, key: str, channel: str, post: Post, thread_ts: str | None = None,
                  then: Settled | None = None) -> ChatRef:
        """The message for `key`: the one already in chat, or a new one posted by `post`.

        `then` commits together with the message's `ts`, so what the caller records about
        the post (a card's state, say) can never lag behind it."""
        row = self._claim(key, channel, thread_ts)
        if row.ts is not None:
            ref = ChatRef(row.channel, row.ts)
            if then is not None:
                with self.ctx.store.session() as session:
                    then(session, ref)
            return ref
        try:
            found = None
            if row.claimed_again:
                found = self.ctx.chat.find_marked(row.channel, key, thread_ts=thread_ts,
                                                  since=row.attempted_at)
            ref = found or post(key)
        except BaseException:
            self._release(key)
            raise
        if found is not None:
            log.info("chat post %s was already in chat; adopted ts=%s", key, found.ts)
        self._settle(key, ref, then)
        return ref

    def _claim(self, key: str, channel: str, thread_ts: str | None) -> _Claimed:
        now = self.ctx.now()
        try:
            with self.ctx.store.session() as session:  # a plain INSERT: this runs for every message
                session.execute(insert(ChatPost).values(key=key, channel=channel, thread_ts=thread_ts,
                                                        attempted_at=now, claimed_until=now + CLAIM))
            return _Claimed(channel, None, now, False)
        except IntegrityError:
            pass
        with self.ctx.store.session() as session:
            taken = session.execute(
                update(ChatPost)
                .where(col(ChatPost.key) == key, col(ChatPost.ts).is_(None),
                       or_(col(ChatPost.claimed_until).is_(None), col(ChatPost.claimed_until) <= now))
                .values(claimed_until=now + CLAIM)
            )
            row = session.get(ChatPost, key)
        assert row is not None
        if row.ts is not None:
            return _Claimed(row.channel, row.ts, row.attempted_at, True)
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            raise PostInFlight(f"chat post {key} is being posted elsewhere")
        return _Claimed(row.channel, None, row.attempted_at, True)

    def _settle(self, key: str, ref: ChatRef, then: Settled | None) -> None:
        """Remember where the message is; the channel id replaces a "#name" for later lookups."""
        with self.ctx.store.session() as session:
            session.execute(update(ChatPost).where(col(ChatPost.key) == key)
                            .values(channel=ref.channel, ts=ref.ts, claimed_until=None))
            if then is not None:
                then(session, ref)

    def _release(self, key: str) -> None:
        """The attempt failed (perhaps after Slack stored it): free the key, keep the doubt."""
        with self.ctx.store.session() as session:
            session.execute(update(ChatPost).where(col(ChatPost.key) == key).values(claimed_until=None))
