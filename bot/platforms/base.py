"""What every platform connector speaks: plain data in, plain data out.

A connector translates HTTP to these dataclasses and back; it stores nothing and decides
nothing. `bot.polling` and `bot.workflow` own every decision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class ReplyTarget:
    """Where an answer goes: a comment thread (`comment`) or a private conversation (`message`).

    `ref` holds the platform's own ids needed to answer (comment id, recipient id, thread id);
    it is stored as JSON on the inquiry so a reply can be sent after a restart.
    """

    mode: str  # "comment" or "message"
    ref: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class IncomingItem:
    """One new thing a citizen wrote, as the platform reported it."""

    platform: str
    account: str
    external_id: str
    kind: str  # comment, reply, message, mention, post (a visitor post on a Facebook Page)
    author_id: str
    author_name: str
    text: str
    created_at: datetime
    reply_target: ReplyTarget
    post_id: str | None = None
    post_text: str | None = None
    conversation_id: str | None = None
    permalink: str | None = None


@dataclass(frozen=True)
class OwnReply:
    """Something the municipality's own account wrote, answering `answers_external_id`.

    Polling records it on that inquiry (someone may have answered directly on the platform)
    instead of treating it as a new inquiry.
    """

    platform: str
    external_id: str
    answers_external_id: str
    text: str
    created_at: datetime


@dataclass(frozen=True)
class SetAside:
    """A platform item the connector could not read (a field of the wrong shape, JSON of an
    unexpected form): reported to the unit instead of stopping the stream for ever.

    `reason` is technical and in English; it never holds citizen text."""

    external_id: str
    reason: str


@dataclass(frozen=True)
class FetchResult:
    """One poll of one stream: new items, our own replies seen, and where to start next time."""

    items: list[IncomingItem]
    own_replies: list[OwnReply]
    next_cursor: str
    set_aside: list[SetAside] = field(default_factory=list)


@dataclass(frozen=True)
class SentReply:
    """The platform accepted our reply under this id."""

    external_id: str
    permalink: str | None = None


class PlatformClient(Protocol):
    """One account on one platform."""

    platform: str
    account: str

    def streams(self) -> list[str]:
        """The independent feeds this account polls (e.g. "comments", "messages")."""

    def fetch_new(self, stream: str, cursor: str) -> FetchResult:
        """Everything new in `stream` since `cursor` ("" on the first poll)."""

    def send_reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> SentReply:
        """Post `text` as the account; raises a `bot.errors.PlatformError` subclass on failure."""

    def find_reply(self, target: ReplyTarget, idempotency_key: str) -> SentReply | None:
        """Our earlier reply for this key, if the platform already has it (crash recovery)."""

    def hide(self, target: ReplyTarget, hidden: bool) -> None:
        """Hide or unhide a comment where the platform allows it."""

    def close(self) -> None:
        """Release the HTTP connection pool."""


def target_to_json(target: ReplyTarget) -> dict[str, Any]:
    return {"mode": target.mode, "ref": dict(target.ref)}


def target_from_json(data: dict[str, Any]) -> ReplyTarget:
    return ReplyTarget(mode=str(data.get("mode", "")), ref=dict(data.get("ref", {})))
