"""Retention in chat: an anonymised inquiry's cards, approval request and thread notes are
replaced by a short Danish notice, paced and resumable.

Slack keeps what the bot posted for as long as the workspace keeps messages, so anonymising
the database alone would leave the citizen's name and words in the department's channel.
Every bot message that showed them is queued as a `ChatRedaction` row and replaced with
`chat.update` (blocks removed) at Slack's pace; a row is done once chat shows the notice,
so a crash or an outage halfway resumes at the next run and nothing is redacted twice
needlessly. Reminders and alerts are left alone: they name the department and link the
card, never the citizen.

The bot can edit only its own messages (`chat.update` answers `cant_update_message`), so
the specialists' own replies in a card's thread stay: the workspace's message retention
setting must cover those (README, "Retention").
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from bot import texts
from bot.chat.base import ChatGateway, ChatRef
from bot.errors import ChatError
from bot.models import ChatPost, ChatRedaction, Inquiry
from bot.store import Store

log = logging.getLogger(__name__)

UPDATE_INTERVAL = 1.2
"""Seconds between two redactions: `chat.update` is Tier 3, about 50 a minute (chat-platforms.md §4)."""
GONE = frozenset({"message_not_found"})
"""Nothing left in chat to redact: someone deleted the message."""
OUTAGE = frozenset({"ratelimited", "fatal_error", "internal_error", "service_unavailable", "request_timeout"})
"""Slack cannot take updates now: stop, and resume at the next run."""
_CHUNK = 100


@dataclass(frozen=True)
class RedactionOutcome:
    """What one run did in chat; `left` messages still show a citizen and wait for the next run."""

    redacted: int
    left: int
    failing: tuple[str, ...] = ()
    """Slack's error codes for messages it refused to change (a channel the bot left, say):
    a person must act, and they are tried again at the next run."""
    interrupted: str = ""
    """Why the run stopped early (Slack unreachable or overloaded); empty when it finished."""


def redact_chat(
    store: Store,
    chat: ChatGateway,
    now: datetime,
    *,
    limit: int | None = None,
    pause: Callable[[float], None] = time.sleep,
    interval: float = UPDATE_INTERVAL,
) -> RedactionOutcome:
    """Queue the messages of newly anonymised inquiries, then redact up to `limit` of the queue."""
    queue_anonymised(store)
    redacted, failing, refused_channels = 0, [], set()
    interrupted, after_id, first = "", 0, True
    while not interrupted and (limit is None or redacted < limit):
        batch = _pending(store, after_id)
        if not batch:
            break
        for row in batch:
            after_id = row.id or 0
            if row.channel in refused_channels or not _claim(store, row):
                continue
            if not first:
                pause(interval)
            first = False
            outcome = _redact_one(chat, row)
            if outcome in OUTAGE:
                interrupted = outcome
                break
            if outcome and outcome not in GONE:
                failing.append(outcome)
                refused_channels.add(row.channel)  # the same refusal awaits its other messages
                _note_failure(store, row, outcome)
                continue
            _done(store, row, now, outcome)
            redacted += outcome == ""
            if limit is not None and redacted >= limit:
                break
    return RedactionOutcome(redacted, _left(store), tuple(failing), interrupted)


def _redact_one(chat: ChatGateway, row: ChatRedaction) -> str:
    """Replace one message; "" when chat now shows the notice, else Slack's error code."""
    try:
        chat.replace_with_notice(ChatRef(row.channel, row.ts), texts.chat_anonymised(row.days))
    except ChatError as exc:
        code = str(getattr(exc, "code", "") or "unreachable")
        if code == "unreachable":
            log.warning("retention: Slack unreachable, chat redaction resumes at the next run: %s", exc)
            return "service_unavailable"
        if code in OUTAGE:
            log.warning("retention: Slack answered %s, chat redaction resumes at the next run", code)
        elif code in GONE:
            log.info("retention: message %s in %s is gone from chat, nothing to redact", row.ts, row.channel)
        else:
            log.error("retention: Slack refused to redact inquiry %s's message %s in %s (%s); it still "
                      "shows the citizen: fix the channel (is the bot a member?) and run "
                      "`borgerbot retention run`", row.inquiry_id, row.ts, row.channel, code)
        return code
    return ""


def queue_anonymised(store: Store) -> int:
    """Queue the chat messages of every anonymised inquiry not queued yet; returns how many.

    Run before each redaction rather than with the anonymisation itself, so inquiries
    anonymised before chat redaction existed are caught up, as are any a crash interrupted."""
    queued, after_id = 0, 0
    while True:
        with store.session() as session:
            inquiries = session.exec(
                select(Inquiry).where(
                    col(Inquiry.id) > after_id,
                    col(Inquiry.anonymised_at).is_not(None),
                    or_(col(Inquiry.chat_ts).is_not(None), col(Inquiry.approval_ts).is_not(None)),
                    ~exists().where(col(ChatRedaction.inquiry_id) == col(Inquiry.id)),
                ).order_by(col(Inquiry.id)).limit(_CHUNK)
            ).all()
            if not inquiries:
                return queued
            after_id = inquiries[-1].id or 0
            messages = _messages_of(session, inquiries)
            for inquiry in inquiries:
                queued += _queue(session, inquiry, messages[inquiry.id or 0])


Ref = tuple[str, str]  # (channel, ts)


def _messages_of(session: Session, inquiries: Sequence[Inquiry]) -> dict[int, set[Ref]]:
    """Each inquiry's bot messages that showed the citizen: its cards (the first one and one
    per move), its approval request, and the notes in its cards' threads."""
    found: dict[int, set[Ref]] = {}
    owner: dict[str, int] = {}
    cards: dict[Ref, int] = {}
    for inquiry in inquiries:
        inquiry_id = inquiry.id or 0
        refs = found.setdefault(inquiry_id, set())
        if inquiry.chat_channel and inquiry.chat_ts:
            refs.add((inquiry.chat_channel, inquiry.chat_ts))
            cards[(inquiry.chat_channel, inquiry.chat_ts)] = inquiry_id
        if inquiry.approval_channel and inquiry.approval_ts:
            refs.add((inquiry.approval_channel, inquiry.approval_ts))
        owner[f"card:{inquiry_id}"] = owner[f"approval:{inquiry_id}"] = inquiry_id
    posts = session.exec(select(ChatPost).where(col(ChatPost.ts).is_not(None), or_(
        col(ChatPost.key).in_(list(owner)),
        *(col(ChatPost.key).startswith(f"card:{i.id}:move", autoescape=True) for i in inquiries),
    ))).all()
    for post in posts:
        ref = (post.channel, post.ts or "")
        inquiry_id = owner.get(post.key) or owner[post.key.rsplit(":", 1)[0]]
        found[inquiry_id].add(ref)
        if post.key.startswith("card:"):
            cards[ref] = inquiry_id
    for note in _notes_under(session, [ts for _, ts in cards]):
        inquiry_id = cards.get((note.channel, note.thread_ts or ""), 0)
        if inquiry_id:
            found[inquiry_id].add((note.channel, note.ts or ""))
    return found


def _notes_under(session: Session, threads: Sequence[str]) -> Sequence[ChatPost]:
    if not threads:
        return []
    return session.exec(select(ChatPost).where(
        col(ChatPost.thread_ts).in_(threads), col(ChatPost.ts).is_not(None),
        col(ChatPost.key).startswith("note:"))).all()


def _queue(session: Session, inquiry: Inquiry, refs: set[Ref]) -> int:
    """One inquiry's rows, in a savepoint: another run queueing it meanwhile spoils nothing."""
    settled = inquiry.answered_at or inquiry.updated_at
    days = max(0, ((inquiry.anonymised_at or settled) - settled).days)
    try:
        with session.begin_nested():
            session.add_all(ChatRedaction(inquiry_id=inquiry.id or 0, channel=channel, ts=ts, days=days)
                            for channel, ts in sorted(refs))
            session.flush()
    except IntegrityError:
        return 0
    return len(refs)


def _pending(store: Store, after_id: int) -> Sequence[ChatRedaction]:
    with store.session() as session:
        return session.exec(select(ChatRedaction).where(
            col(ChatRedaction.done_at).is_(None), col(ChatRedaction.id) > after_id,
        ).order_by(col(ChatRedaction.id)).limit(_CHUNK)).all()


def _claim(store: Store, row: ChatRedaction) -> bool:
    """Count the attempt, unless another run got there first (then it redacts this one)."""
    with store.session() as session:
        taken = session.execute(update(ChatRedaction).where(
            col(ChatRedaction.id) == row.id, col(ChatRedaction.attempts) == row.attempts,
            col(ChatRedaction.done_at).is_(None),
        ).values(attempts=row.attempts + 1))
    return bool(taken.rowcount == 1)  # type: ignore[attr-defined]


def _done(store: Store, row: ChatRedaction, now: datetime, code: str) -> None:
    with store.session() as session:
        session.execute(update(ChatRedaction).where(col(ChatRedaction.id) == row.id)
                        .values(done_at=now, last_error=code))


def _note_failure(store: Store, row: ChatRedaction, code: str) -> None:
    with store.session() as session:
        session.execute(update(ChatRedaction).where(col(ChatRedaction.id) == row.id)
                        .values(last_error=code[:100]))


def _left(store: Store) -> int:
    with store.session() as session:
        return int(session.exec(select(func.count()).select_from(ChatRedaction)
                                .where(col(ChatRedaction.done_at).is_(None))).one())
