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

A message chat refuses for good (`ChatRefused`: too long, invalid blocks, no such channel,
archived) certainly did not reach chat: its row records the refusal and a back-off, it is
skipped until then, the rest of the batch goes on, and the communication unit is told once
what to do (a note owed under a key of its own; see `bot.texts.chat_refused`). When chat
refuses the bot itself (`ChatAuthRefused`), nothing is dropped: the claim is freed as after
any failure and the refusal is stored for the health output (`bot.workflow.chat_health`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from bot import texts
from bot.chat.base import ChatRef
from bot.errors import ChatAuthRefused, ChatError, ChatRefused
from bot.models import ChatFollowUp, ChatPost
from bot.workflow.chat_health import record_bot_refused
from bot.workflow.context import NOTE, WorkflowContext

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

REFUSED_FIRST_WAIT = timedelta(minutes=5)
REFUSED_LONGEST_WAIT = timedelta(hours=1)
"""A refused message is tried again only now and then: once a person has fixed the cause
(invited the bot, reopened the channel) it appears within the hour, without hammering Slack."""

_INQUIRY_OF_KEY = re.compile(r"^(?:card|approval|urgent|escalation|missed|reminder):(\d+)")
_TOLD = "refused:"


def refused_wait(refusals: int) -> timedelta:
    """Doubling from five minutes to at most an hour."""
    return min(REFUSED_FIRST_WAIT * (1 << min(max(refusals - 1, 0), 4)), REFUSED_LONGEST_WAIT)


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


class BackedOff(ChatError):
    """Chat refused this message for good not long ago; it waits out its back-off."""


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
        except ChatRefused as exc:
            self._refused(key, row.channel, exc)
            raise
        except ChatAuthRefused as exc:
            self._release(key)
            record_bot_refused(self.ctx, exc)
            raise
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
            # a refusal says the last attempt surely did not reach chat: no need to search it
            refused = session.execute(select(_POSTS.c.refused).where(_POSTS.c.key == key)).scalar()
            taken = session.execute(
                update(ChatPost)
                .where(col(ChatPost.key) == key, col(ChatPost.ts).is_(None),
                       or_(col(ChatPost.claimed_until).is_(None), col(ChatPost.claimed_until) <= now),
                       or_(col(ChatPost.retry_at).is_(None), col(ChatPost.retry_at) <= now))
                .values(claimed_until=now + CLAIM, refused="")
            )
            row = session.get(ChatPost, key)
        assert row is not None
        if row.ts is not None:
            return _Claimed(row.channel, row.ts, row.attempted_at, True)
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            if row.retry_at is not None and row.retry_at > now:
                raise BackedOff(f"chat post {key} was refused ({row.refused}); next try at {row.retry_at:%H:%M}")
            raise PostInFlight(f"chat post {key} is being posted elsewhere")
        return _Claimed(row.channel, None, row.attempted_at, not refused)

    def _settle(self, key: str, ref: ChatRef, then: Settled | None) -> None:
        """Remember where the message is; the channel id replaces a "#name" for later lookups."""
        with self.ctx.store.session() as session:
            session.execute(update(ChatPost).where(col(ChatPost.key) == key)
                            .values(channel=ref.channel, ts=ref.ts, claimed_until=None))
            if then is not None:
                then(session, ref)

    def _refused(self, key: str, channel: str, exc: ChatRefused) -> None:
        """Chat refused the message for good: back it off, and tell the unit the first time."""
        now = self.ctx.now()
        with self.ctx.store.session() as session:
            refusals = (session.execute(select(_POSTS.c.refusals).where(_POSTS.c.key == key)).scalar() or 0) + 1
            wait = refused_wait(refusals)
            session.execute(update(ChatPost).where(col(ChatPost.key) == key).values(
                refused=exc.code[:50], refusals=refusals, retry_at=now + wait, claimed_until=None))
        log.warning("chat refused post %s for good (%s, %s times); next try in %s", key, exc.code, refusals, wait)
        if refusals == 1 and not key.startswith(_TOLD):
            self._tell_unit(key, channel, exc)

    def _tell_unit(self, key: str, channel: str, exc: ChatRefused) -> None:
        """A note to the unit, owed under a key that says what it is about: one per message
        refused for its content, one a day per channel refused as a whole."""
        now, comms = self.ctx.now(), self.ctx.setup.comms_channel
        about = f"{channel}:{exc.code}:{now.date().isoformat()}" if exc.channel_wide else key
        found = _INQUIRY_OF_KEY.match(key)
        shown = channel if channel.startswith("#") else f"<#{channel}>"
        text = texts.chat_refused(texts.chat_refused_what(int(found.group(1)) if found else None), shown, exc.code)
        try:
            with self.ctx.store.session() as session:
                session.add(ChatFollowUp(kind=NOTE, channel=comms, text=text, key=f"{_TOLD}{about}",
                                         created_at=now, due_at=now))
        except IntegrityError:
            return  # already told
        if channel == comms:
            log.error("chat refuses posts to the communication unit's own channel %s (%s)", comms, exc.code)

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
                    try:
                        found = self.ctx.chat.find_marked(claim.channel, message.key,
                                                          since=claim.attempted_at) if claim.claimed_again else None
                        ref = found or message.post(message.key)
                    except ChatRefused as exc:
                        left.pop(0)
                        attempting = None
                        self._refused(message.key, claim.channel, exc)
                        if exc.channel_wide:  # the rest for that channel would be refused the same way
                            same = [m for m in left if m.channel == message.channel and claims[m.key].ts is None]
                            for other in same:
                                left.remove(other)
                                self._refused(other.key, claims[other.key].channel, exc)
                        continue
                    except ChatAuthRefused as exc:
                        record_bot_refused(self.ctx, exc)
                        raise
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
            except (PostInFlight, BackedOff):
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
