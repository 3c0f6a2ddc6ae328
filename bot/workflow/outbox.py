"""Every bot message that stands for a fact (a card, an approval request, a reminder, an
escalation) appears in chat exactly once, whatever crashes between Slack and our database.

Before Slack is asked, a `ChatPost` row with the message's key is committed and claimed.
If the process dies after Slack stored the message but before its `ts` was written back,
the row is left without a `ts`; the next attempt then looks for the message by the marker
it carries (the key, in Slack's message metadata) and adopts it instead of posting again.
The claim keeps two threads or replicas from posting the same key at the same time.

A burst of cards goes through `post_batch`: the batch is claimed in one transaction and the
`ts`s are stored a few posts at a time. A claim only says "an attempt may have reached
Slack", so claiming the whole batch up front is as safe as claiming one message at a time:
a crash leaves rows without `ts`, and the next attempt looks for their markers first. A
batch that stops early (a failure, or out of time) drops the claims it never tried, so the
next attempt posts those without searching Slack's history for them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, insert, or_, select, update
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

SettledBatch = Callable[[Session, Sequence[tuple[str, ChatRef]]], None]
"""`Settled` for a batch: gets the (key, message) pairs stored in this transaction."""

InChat = Callable[[str, ChatRef], None]
"""Told of a batch's message (key and where it is) as soon as it is in chat."""

SETTLE_EVERY = 25
"""Posts of a batch whose `ts`s are stored in one transaction; a crash re-finds at most these."""

RENEW_AFTER = CLAIM / 4
"""A batch posting longer than this (Slack's pace is about one a second) renews its claims."""

_POSTS = ChatPost.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Message:
    """One message of a batch: its key, where it goes, and how to post it."""

    key: str
    channel: str
    post: Post


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
            return self._reclaim(key, now)

    def _reclaim(self, key: str, now: datetime) -> _Claimed:
        """The key has a row: an earlier attempt, or one in flight elsewhere."""
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

    def post_batch(self, messages: Sequence[Message], then: SettledBatch,
                   as_posted: InChat | None = None, out_of_time: Callable[[], bool] | None = None) -> int:
        """Each message of `messages` once, in order, as `post_once` would post it; returns how
        many are in chat. A key being posted elsewhere is skipped; a failure stores what was
        posted, frees the rest and propagates. `as_posted` hears of each message the moment it
        is in chat (posted or found), before its `ts` is stored with the next few. Once
        `out_of_time` says so, the rest are freed for a later attempt, as at Slack's pace of
        about one a second a batch takes a while."""
        claims = self._claim_batch(messages)
        done: list[tuple[str, ChatRef]] = []
        left = [message for message in messages if message.key in claims]
        renewed, settled = self.ctx.now(), 0
        attempting: str | None = None
        try:
            while left:
                message, claim = left[0], claims[left[0].key]
                attempting = message.key
                if claim.ts is not None:
                    ref = ChatRef(claim.channel, claim.ts)
                else:
                    found = self.ctx.chat.find_marked(claim.channel, message.key,
                                                      since=claim.attempted_at) if claim.claimed_again else None
                    ref = found or message.post(message.key)
                done.append((message.key, ref))
                left.pop(0)
                attempting = None
                if as_posted is not None:
                    as_posted(message.key, ref)
                if len(done) >= SETTLE_EVERY or self.ctx.now() - renewed >= RENEW_AFTER:
                    renewed = self.ctx.now()
                    self._flush(done, then, [m.key for m in left], renewed + CLAIM)
                    settled, done = settled + len(done), []
                if out_of_time is not None and out_of_time():
                    break
        finally:
            # A key claimed by this batch and never tried has nothing of it in chat, so its
            # row goes: the next attempt claims it afresh instead of searching Slack for it.
            untried = [m.key for m in left if m.key != attempting and not claims[m.key].claimed_again]
            self._flush(done, then, [m.key for m in left if m.key not in untried], None, forget=untried)
        return settled + len(done)

    def _claim_batch(self, messages: Sequence[Message]) -> dict[str, _Claimed]:
        """Claims for the batch: new keys in one INSERT, keys with a row one by one (rare:
        only after a failure or crash); keys in flight elsewhere are left out."""
        now = self.ctx.now()
        keys = [message.key for message in messages]
        try:
            with self.ctx.store.session() as session:
                known = set(session.execute(select(_POSTS.c.key).where(_POSTS.c.key.in_(keys))).scalars())
                fresh = [message for message in messages if message.key not in known]
                if fresh:
                    session.execute(insert(ChatPost), [
                        {"key": m.key, "channel": m.channel, "thread_ts": None, "attempted_at": now,
                         "claimed_until": now + CLAIM} for m in fresh])
        except IntegrityError:  # another replica claimed some of them meanwhile
            known, fresh = set(), []
        claims = {message.key: _Claimed(message.channel, None, now, False) for message in fresh}
        for message in messages:
            if message.key in claims:
                continue
            try:
                claims[message.key] = (self._reclaim(message.key, now) if message.key in known
                                       else self._claim(message.key, message.channel, None))
            except PostInFlight:
                continue
        return claims

    def _flush(self, done: Sequence[tuple[str, ChatRef]], then: SettledBatch, left: Sequence[str],
               claimed_until: datetime | None, forget: Sequence[str] = ()) -> None:
        """Store the posted messages with what the caller records, renew (or, with None, free)
        the claims on those not yet posted, and drop the claims in `forget`; one transaction."""
        if not done and not left and not forget:
            return
        with self.ctx.store.session() as session:
            if done:
                session.execute(
                    update(_POSTS).where(_POSTS.c.key == bindparam("posted_key"))
                    .values(channel=bindparam("posted_channel"), ts=bindparam("posted_ts"), claimed_until=None),
                    [{"posted_key": key, "posted_channel": ref.channel, "posted_ts": ref.ts} for key, ref in done],
                )
                then(session, done)
            if left:
                session.execute(update(_POSTS).where(_POSTS.c.key.in_(left), _POSTS.c.ts.is_(None))
                                .values(claimed_until=claimed_until))
            if forget:
                session.execute(delete(_POSTS).where(_POSTS.c.key.in_(forget), _POSTS.c.ts.is_(None)))
