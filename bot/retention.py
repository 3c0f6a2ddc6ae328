"""Personal-data retention: settled inquiries lose their citizen names, ids and texts on time.

borgerbot is a workbench, not the record (the ESDH system is), so GDPR art. 5(1)(e) says
keep nothing personal longer than the work needs (domain.md §5). What stays is what the
statistics and the audit trail need: route, platform, kind, flags, state, every time, and
who did what when. The platform item id stays too, so a re-polled old comment is still
recognised and never opened again as a new inquiry.

Free text goes wherever the bot keeps it: the inquiry, drafts, decisions, the reply, the
chat notes still queued, and every event detail that is not an id or a code (a move's
reason, a hide note). `run` then redacts the inquiry's cards in chat (`bot.retention_chat`)
and empties SQLite's write-ahead log, which would otherwise keep old page images.

The job is idempotent and safe on two replicas: each inquiry is claimed by a guarded
`UPDATE ... WHERE anonymised_at IS NULL`, so only one run anonymises it and records it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot.chat.base import ChatGateway
from bot.errors import ConfigError
from bot.models import ChatFollowUp, Decision, Draft, Event, Inquiry, InquiryState, Reply
from bot.retention_chat import RedactionOutcome, redact_chat
from bot.store import Store

log = logging.getLogger(__name__)

SETTLED = (InquiryState.ANSWERED, InquiryState.CLOSED)
SHORT_CLOSE_REASONS = frozenset({"no_reply_needed", "spam"})
MODERATION_ACTIONS = ("hidden", "unhidden")
KEPT_DETAIL_KEYS = frozenset({
    "route", "urgent", "channel", "draft_id", "reply_id", "external_id", "from_route", "to_route",
    "kind", "rule", "case_number", "attempted", "account", "platform",
})
"""Event details that are ids, codes or flags; every other key (a snapshot, a permalink, a
move reason, a hide note, anything added later) may quote the citizen and goes."""
CODED_REASON_ACTIONS = frozenset({"hidden", "unhidden", "closed", "send_failed"})
"""Events whose `reason` is a code chosen from a list (kept for statistics and the moderation
log); a move's reason is typed by hand and goes."""
_CHUNK = 500


@dataclass(frozen=True)
class RetentionPolicy:
    """Days personal data is kept once an inquiry is settled (domain.md §5 defaults)."""

    closed_days: int = 90  # answered or closed, not journal-relevant
    no_reply_days: int = 30  # no reply needed, or closed as spam
    journalised_days: int = 30  # journal-relevant: counted from the ESDH journalisation
    moderation_days: int = 395  # a hidden comment's log: Ombudsman complaints come within a year
    journal_alert_days: int = 14  # journal-relevant and still not journalised after this: tell

    @property
    def shortest(self) -> timedelta:
        return timedelta(days=min(self.closed_days, self.no_reply_days, self.journalised_days))


@dataclass(frozen=True)
class RetentionOutcome:
    """What one run did (or, with dry_run, would do)."""

    anonymised: tuple[int, ...]
    awaiting_journal: tuple[int, ...]
    """Journal-relevant inquiries received over `journal_alert_days` ago and not journalised:
    their data is kept until staff enter the ESDH case number."""
    dry_run: bool = False


def retention_from_config(
    data: Mapping[str, Any] | None,
    line_of: Callable[[tuple[str, ...]], int | None] | None = None,
    file: str | None = None,
) -> RetentionPolicy:
    """Validate a `retention` section (whole days per key); a mistake names file, line and key."""
    known = tuple(RetentionPolicy.__dataclass_fields__)

    def fail(key: str | None, problem: str, hint: str) -> ConfigError:
        path = ("retention", key) if key else ("retention",)
        line = line_of(path) if line_of else None
        return ConfigError(problem, file=file, line=line, key=".".join(path), hint=hint)

    if data is None:
        return RetentionPolicy()
    if not isinstance(data, Mapping):
        raise fail(None, "retention must be a mapping of days", "e.g. closed_days: 90")
    values: dict[str, int] = {}
    for key, value in data.items():
        if key not in known:
            raise fail(str(key), f"unknown key 'retention.{key}'", "known: " + ", ".join(known))
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise fail(key, f"retention.{key} must be a whole number of days, at least 1", "e.g. 90")
        values[key] = value
    return RetentionPolicy(**values)


@dataclass(frozen=True)
class _Candidate:
    inquiry_id: int
    settled_at: datetime
    journal_required: bool
    journalised_at: datetime | None
    no_reply_needed: bool
    close_reason: str | None = None
    moderated_at: datetime | None = None


def purge(store: Store, now: datetime, policy: RetentionPolicy, *, dry_run: bool = False) -> RetentionOutcome:
    """Anonymise every settled inquiry whose period has run out; returns what was done."""
    with store.session() as session:
        due = [(c.inquiry_id, rule) for c in _candidates(session, now, policy)
               if (rule := _rule_if_due(c, now, policy)) is not None]
        waiting = session.exec(
            select(Inquiry.id).where(
                col(Inquiry.journal_required).is_(True),
                col(Inquiry.journalised_at).is_(None),
                col(Inquiry.received_at) <= now - timedelta(days=policy.journal_alert_days),
            ).order_by(col(Inquiry.id))
        ).all()
    awaiting = tuple(i for i in waiting if i is not None)
    if dry_run:
        return RetentionOutcome(tuple(i for i, _ in due), awaiting, dry_run=True)
    done = tuple(i for i, rule in due if _anonymise(store, i, rule, now))
    return RetentionOutcome(done, awaiting)


@dataclass(frozen=True)
class RetentionRun:
    """One whole retention run: the database, then chat, then SQLite's log emptied."""

    outcome: RetentionOutcome
    chat: RedactionOutcome | None
    """None when no chat was given (no Slack token): the queue waits for a run that has one."""
    wal_emptied: bool
    """False when another connection kept SQLite's log from being emptied: the deleted text
    may linger in the -wal file until the next run (always True on PostgreSQL)."""


def run(
    store: Store,
    now: datetime,
    policy: RetentionPolicy,
    chat: ChatGateway | None,
    *,
    chat_limit: int | None = None,
    pause: Callable[[float], None] = time.sleep,
) -> RetentionRun:
    """Anonymise what is due, redact the anonymised inquiries' chat messages (at most
    `chat_limit` this run, the rest at the next), and leave no deleted text in SQLite's log."""
    outcome = purge(store, now, policy)
    redacted = None
    try:
        if chat is not None:
            redacted = redact_chat(store, chat, now, limit=chat_limit, pause=pause)
    finally:
        emptied = store.truncate_wal()
    if not emptied:
        log.warning("retention: another connection kept SQLite's log from being emptied; "
                    "deleted text may stay in the -wal file until the next run")
    return RetentionRun(outcome, redacted, emptied)


def _settled_at() -> ColumnElement[datetime]:
    """When the inquiry stopped moving: the answer, else its last state change (the close)."""
    return func.coalesce(Inquiry.answered_at, Inquiry.updated_at)


def _candidates(session: Session, now: datetime, policy: RetentionPolicy) -> list[_Candidate]:
    """Settled, not yet anonymised, old enough for the shortest period, and not waiting for ESDH."""
    settled_at = _settled_at()
    rows = session.execute(
        sa_select(col(Inquiry.id), settled_at, col(Inquiry.journal_required),
                  col(Inquiry.journalised_at), col(Inquiry.no_reply_needed))
        .where(
            col(Inquiry.state).in_(SETTLED),
            col(Inquiry.anonymised_at).is_(None),
            settled_at <= now - policy.shortest,
            or_(col(Inquiry.journal_required).is_(False), col(Inquiry.journalised_at).is_not(None)),
        )
        .order_by(col(Inquiry.id))
    ).all()
    found = {row[0]: _Candidate(*row) for row in rows if row[0] is not None}
    ids = list(found)
    for start in range(0, len(ids), _CHUNK):
        _add_history(session, found, ids[start:start + _CHUNK])
    return list(found.values())


def _add_history(session: Session, found: dict[int, _Candidate], ids: Sequence[int]) -> None:
    """The close reason and the last moderation action, read from the event log."""
    events = session.exec(
        select(Event.inquiry_id, Event.action, Event.at, Event.detail)
        .where(col(Event.inquiry_id).in_(ids), col(Event.action).in_(("closed", *MODERATION_ACTIONS)))
        .order_by(col(Event.id))
    ).all()
    for inquiry_id, action, at, detail in events:
        if inquiry_id is None:
            continue
        candidate = found[inquiry_id]
        if action == "closed":
            found[inquiry_id] = replace(candidate, close_reason=str((detail or {}).get("reason", "")))
        else:
            found[inquiry_id] = replace(candidate, moderated_at=at)


def _rule_if_due(c: _Candidate, now: datetime, policy: RetentionPolicy) -> str | None:
    """The rule whose period has run out, or None while the data must still be kept."""
    if c.journal_required:
        if c.journalised_at is None:
            return None
        rule, due = "journalised", max(c.journalised_at, c.settled_at) + timedelta(days=policy.journalised_days)
    elif c.no_reply_needed or c.close_reason in SHORT_CLOSE_REASONS:
        rule, due = "no_reply", c.settled_at + timedelta(days=policy.no_reply_days)
    else:
        rule, due = "closed", c.settled_at + timedelta(days=policy.closed_days)
    if c.moderated_at is not None:
        due = max(due, c.moderated_at + timedelta(days=policy.moderation_days))
    return rule if due <= now else None


def _anonymise(store: Store, inquiry_id: int, rule: str, now: datetime) -> bool:
    """Remove one inquiry's personal data everywhere in one transaction; False if already done."""
    with store.session() as session:
        claimed = session.execute(
            update(Inquiry)
            .where(col(Inquiry.id) == inquiry_id, col(Inquiry.anonymised_at).is_(None),
                   col(Inquiry.state).in_(SETTLED))
            .values(author_name="", author_id="", text="", post_text=None, permalink=None,
                    conversation_id=None, reply_target={}, anonymised_at=now)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return False
        session.execute(update(Draft).where(col(Draft.inquiry_id) == inquiry_id).values(text=""))
        session.execute(update(Reply).where(col(Reply.inquiry_id) == inquiry_id).values(text="", last_error=""))
        session.execute(
            update(Decision).where(col(Decision.inquiry_id) == inquiry_id).values(text="", comment="")
        )
        # A note chat never took (a rejection quoting the officer's comment) is news to nobody now.
        session.execute(delete(ChatFollowUp).where(col(ChatFollowUp.inquiry_id) == inquiry_id))
        _scrub_events(session, inquiry_id)
        store.record(session, "anonymised", inquiry_id=inquiry_id, at=now, rule=rule)
    return True


def _scrub_events(session: Session, inquiry_id: int) -> None:
    """The one edit ever made to the event log: free text goes, who/what/when stay."""
    for event in session.exec(select(Event).where(Event.inquiry_id == inquiry_id)).all():
        kept = {k: v for k, v in event.detail.items() if _kept(event.action, k)}
        if kept != event.detail:
            event.detail = kept
            session.add(event)


def _kept(action: str, key: str) -> bool:
    return key in KEPT_DETAIL_KEYS or (key == "reason" and action in CODED_REASON_ACTIONS)
