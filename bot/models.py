"""The stored shape of borgerbot's world.

Every time is stored in UTC and comes back timezone-aware, on SQLite as on PostgreSQL.
The `Event` table is append-only: it is the audit trail of who did what, when.
"""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Text, TypeDecorator, UniqueConstraint
from sqlalchemy import Enum as SAEnum
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """The current instant, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and returns them aware, because SQLite forgets the zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _enum(kind: type[enum.Enum], default: enum.Enum | None = None) -> Any:
    """An enum stored as its plain string value, so adding a state needs no type migration."""
    column_type = SAEnum(kind, native_enum=False, length=20, values_callable=_values)
    if default is None:
        return Field(sa_type=column_type)
    return Field(default=default, sa_type=column_type, index=True)


def _values(kind: type[enum.Enum]) -> list[str]:
    return [member.value for member in kind]


def _time(nullable: bool = False, index: bool = False) -> Any:
    """A UTC timestamp column; a required one defaults to the moment the row is made."""
    column: Column[datetime] = Column(UTCDateTime(), nullable=nullable, index=index)
    if nullable:
        return Field(default=None, sa_column=column)
    return Field(default_factory=utcnow, sa_column=column)


class InquiryKind(str, enum.Enum):
    """What the citizen wrote: a public comment, a reply in a comment thread, a DM or a mention."""

    COMMENT = "comment"
    REPLY = "reply"
    MESSAGE = "message"
    MENTION = "mention"
    POST = "post"  # a visitor post: a citizen's own post on the Facebook Page


class InquiryState(str, enum.Enum):
    """Where an inquiry is in its life; only `bot.workflow` moves it."""

    RECEIVED = "received"  # stored, not yet in chat
    POSTED = "posted"  # shown in its department's channel
    DRAFTED = "drafted"  # a draft awaits the communication unit's approval
    SENDING = "sending"  # approved; the reply is on its way to the platform
    ANSWERED = "answered"  # the platform accepted our reply (or we answered on the platform)
    CLOSED = "closed"  # closed without a reply (no reply needed, deleted, moved away)
    SEND_FAILED = "send_failed"  # the platform refused the reply; a person must decide


OPEN_STATES = (
    InquiryState.RECEIVED,
    InquiryState.POSTED,
    InquiryState.DRAFTED,
    InquiryState.SENDING,
    InquiryState.SEND_FAILED,
)


class Inquiry(SQLModel, table=True):
    """One citizen comment, reply, message or mention, exactly once per platform item."""

    __table_args__ = (UniqueConstraint("platform", "external_id", name="uq_inquiry_platform_item"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=20, index=True)
    account: str = Field(max_length=100)
    external_id: str = Field(max_length=200)
    kind: InquiryKind = _enum(InquiryKind)
    author_name: str = Field(default="", max_length=200)
    author_id: str = Field(default="", max_length=200)
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    post_id: str | None = Field(default=None, max_length=200)
    post_text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    conversation_id: str | None = Field(default=None, max_length=200)
    permalink: str | None = Field(default=None, max_length=500)
    reply_target: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    created_at: datetime = _time()
    received_at: datetime = _time()
    route: str = Field(max_length=50, index=True)
    urgent: bool = False
    no_reply_needed: bool = False
    journal_required: bool = False
    routing_reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    deadline_at: datetime | None = _time(nullable=True, index=True)
    next_reminder_at: datetime | None = _time(nullable=True, index=True)
    state: InquiryState = _enum(InquiryState, InquiryState.RECEIVED)
    chat_channel: str | None = Field(default=None, max_length=100)
    chat_ts: str | None = Field(default=None, max_length=50, index=True)
    approval_channel: str | None = Field(default=None, max_length=100)
    approval_ts: str | None = Field(default=None, max_length=50, index=True)
    reply_external_id: str | None = Field(default=None, max_length=200)
    answered_at: datetime | None = _time(nullable=True)
    updated_at: datetime = _time()
    case_number: str | None = Field(default=None, max_length=100)  # the ESDH case, entered by staff
    journalised_at: datetime | None = _time(nullable=True)  # starts retention of a journal-relevant one
    anonymised_at: datetime | None = _time(nullable=True)  # names, ids and texts removed (bot.retention)


class Draft(SQLModel, table=True):
    """A proposed answer written in chat; the newest one is what the officers decide on.

    `chat_key` names the Slack message version a draft came from (channel, ts and, for an
    edit, the edit's ts) and `event_id` the Events API delivery; both are unique, so Slack's
    retries of one event, on one replica or two, can only ever make one draft."""

    __table_args__ = (
        UniqueConstraint("chat_key", name="uq_draft_chat_key"),
        UniqueConstraint("event_id", name="uq_draft_event_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    inquiry_id: int = Field(foreign_key="inquiry.id", index=True)
    author: str = Field(max_length=100)
    text: str = Field(sa_column=Column(Text, nullable=False))
    source: str = Field(default="thread", max_length=20)  # thread, thread_edit, modal, direct
    chat_ts: str | None = Field(default=None, max_length=50)
    chat_key: str | None = Field(default=None, max_length=200)
    event_id: str | None = Field(default=None, max_length=100)
    withdrawn_at: datetime | None = _time(nullable=True)  # its Slack message was deleted
    created_at: datetime = _time()


class DecisionKind(str, enum.Enum):
    APPROVED = "approved"
    EDITED = "edited"
    REJECTED = "rejected"


class Decision(SQLModel, table=True):
    """A communication officer's approval, edit-and-approval or rejection of a draft."""

    id: int | None = Field(default=None, primary_key=True)
    inquiry_id: int = Field(foreign_key="inquiry.id", index=True)
    draft_id: int | None = Field(default=None, foreign_key="draft.id")
    decided_by: str = Field(max_length=100)
    kind: DecisionKind = _enum(DecisionKind)
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    comment: str = Field(default="", sa_column=Column(Text, nullable=False))
    created_at: datetime = _time()


class ReplyState(str, enum.Enum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class Reply(SQLModel, table=True):
    """The approved answer on its way to the citizen; one per approval, sent at most once."""

    id: int | None = Field(default=None, primary_key=True)
    inquiry_id: int = Field(foreign_key="inquiry.id", index=True)
    decision_id: int = Field(foreign_key="decision.id", unique=True)
    idempotency_key: str = Field(max_length=100, unique=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    state: ReplyState = _enum(ReplyState, ReplyState.PENDING)
    attempts: int = 0
    claimed_until: datetime | None = _time(nullable=True)
    last_error: str = Field(default="", max_length=500)
    external_id: str | None = Field(default=None, max_length=200)
    created_at: datetime = _time()
    sent_at: datetime | None = _time(nullable=True)


class Reminder(SQLModel, table=True):
    """A reminder or escalation that was due; the unique key makes each one happen once."""

    __table_args__ = (UniqueConstraint("inquiry_id", "kind", name="uq_reminder_once"),)

    id: int | None = Field(default=None, primary_key=True)
    inquiry_id: int = Field(foreign_key="inquiry.id", index=True)
    kind: str = Field(max_length=50)
    due_at: datetime = _time()
    claimed_until: datetime | None = _time(nullable=True)
    sent_at: datetime | None = _time(nullable=True)
    skipped: bool = False  # superseded by a later point due at the same sweep (after downtime)


class Event(SQLModel, table=True):
    """Append-only audit trail: every state change and every refused action."""

    id: int | None = Field(default=None, primary_key=True)
    inquiry_id: int | None = Field(default=None, foreign_key="inquiry.id", index=True)
    at: datetime = _time(index=True)
    actor: str = Field(max_length=100)  # a Slack user id, "system" or "platform:<name>"
    action: str = Field(max_length=50)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


class PollCursor(SQLModel, table=True):
    """How far one stream of one account has been read; moved only with what it covers."""

    platform: str = Field(primary_key=True, max_length=20)
    account: str = Field(primary_key=True, max_length=100)
    stream: str = Field(primary_key=True, max_length=50)
    position: str = Field(default="", max_length=500)
    paused_until: datetime | None = _time(nullable=True)  # this stream alone is throttled
    updated_at: datetime = _time()


class AccountStatus(SQLModel, table=True):
    """Why an account is paused (throttled) or stopped (token expired); polled only when clear."""

    platform: str = Field(primary_key=True, max_length=20)
    account: str = Field(primary_key=True, max_length=100)
    paused_until: datetime | None = _time(nullable=True)
    stopped_reason: str = Field(default="", max_length=500)
    updated_at: datetime = _time()
    # The pause the unit was told about ("usage_capped"); cleared by the next poll that reads.
    pause_notice: str = Field(default="", max_length=30)


class Lease(SQLModel, table=True):
    """Which replica runs a scheduled job until when (see `bot.leases`)."""

    name: str = Field(primary_key=True, max_length=100)
    holder: str = Field(max_length=100)
    expires_at: datetime = _time()


class ChatPost(SQLModel, table=True):
    """A bot message that must appear in chat once: claimed before Slack is asked, then
    given its `ts`. A row without `ts` means an earlier attempt may have reached Slack, so
    the next one first looks for the message by its marker (see `bot.workflow.outbox`)."""

    key: str = Field(primary_key=True, max_length=120)
    channel: str = Field(max_length=100)
    thread_ts: str | None = Field(default=None, max_length=50)
    ts: str | None = Field(default=None, max_length=50)
    attempted_at: datetime = _time()
    claimed_until: datetime | None = _time(nullable=True)
    refused: str = Field(default="", max_length=50)  # Slack's error code when it refused it for good
    refusals: int = 0  # refusals in a row, for the back-off
    retry_at: datetime | None = _time(nullable=True)  # a refused message is not tried before this


class ChatFollowUp(SQLModel, table=True):
    """What chat still owes a committed change: a redraw of an inquiry's cards, or a note
    (`channel`, `thread_ts`, `text`). Stored with the change and deleted once chat has it,
    so a crash or a Slack outage in between only delays it (see `bot.workflow.followups`).
    `text` may quote an officer's comment, so it lives here only until it is posted.

    A note is posted once per `key`, random and unique for ever; ids are never reused either,
    not even on SQLite (AUTOINCREMENT), so an id in a log line names one follow-up only."""

    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)  # redraw or note
    inquiry_id: int | None = Field(default=None, foreign_key="inquiry.id", index=True)
    channel: str = Field(default="", max_length=100)
    thread_ts: str | None = Field(default=None, max_length=50)
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    created_at: datetime = _time()
    due_at: datetime = _time(index=True)
    attempts: int = 0
    key: str = Field(default_factory=lambda: f"note:{uuid.uuid4().hex}", max_length=120,
                     unique=True, index=True)
    """The outbox key of what this follow-up posts: unique for ever, never derived from the
    row's id, which SQLite hands out again once the row is deleted."""


class PlatformToken(SQLModel, table=True):
    """An account's current OAuth refresh token (X rotates it on every use, see
    `bot.platforms.x_auth`). `seed` is a hash of the refresh token the operator configured,
    so a newly configured token replaces a stored one descended from an older seed."""

    platform: str = Field(primary_key=True, max_length=20)
    account: str = Field(primary_key=True, max_length=100)
    refresh_token: str = Field(max_length=2000)
    seed: str = Field(max_length=64)
    updated_at: datetime = _time()


class ChatRedaction(SQLModel, table=True):
    """A bot message in chat that showed an anonymised inquiry's citizen (its card, approval
    request or a note in its thread), to be replaced by a short anonymised notice. `done_at`
    is set once chat shows the notice (or the message is gone), so retention resumes where
    a crash or a Slack outage stopped it and never redacts a message twice needlessly."""

    __table_args__ = (UniqueConstraint("channel", "ts", name="uq_chatredaction_message"),)

    id: int | None = Field(default=None, primary_key=True)
    inquiry_id: int = Field(foreign_key="inquiry.id", index=True)
    channel: str = Field(max_length=100)
    ts: str = Field(max_length=50)
    days: int = 0  # the inquiry's age at anonymisation, in whole days after it settled
    done_at: datetime | None = _time(nullable=True, index=True)
    attempts: int = 0
    last_error: str = Field(default="", max_length=100)  # Slack's error code, never a text
