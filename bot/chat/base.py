"""What the workflow asks of a chat platform, independent of Slack or Teams.

The workflow hands over plain views (`InquiryView`) and the gateway renders them; no
Block Kit or Adaptive Card ever appears outside `bot/chat/<platform>*`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class ChatRef:
    """A message in chat: its channel and timestamp id (Slack's `ts`)."""

    channel: str
    ts: str


@dataclass(frozen=True)
class InquiryView:
    """Everything a card shows about one inquiry. Text fields hold raw citizen text:
    the gateway masks CPR numbers, escapes and shortens it, never the caller."""

    inquiry_id: int
    platform: str
    kind: str
    author_name: str
    text: str
    post_text: str | None
    permalink: str | None
    route_id: str
    route_name: str
    reasons: tuple[str, ...]
    urgent: bool
    no_reply_needed: bool
    deadline_at: datetime | None
    now: datetime
    state: str
    status_lines: tuple[str, ...] = ()  # Danish lines such as "Udkast af <@U1>, afventer godkendelse"
    draft_text: str | None = None
    draft_author: str | None = None
    draft_id: int | None = None  # the approve button carries it, so approval is of what was seen
    reply_permalink: str | None = None
    actions: tuple[str, ...] = ()  # which buttons to show, e.g. ("draft", "move", "no_reply")
    route_choices: tuple[tuple[str, str], ...] = field(default=())  # (route id, display name)
    crisis_plan_url: str | None = None  # urgent only: the municipality's preparedness plan
    on_call: str | None = None  # urgent only: who is on call, ready mrkdwn (a mention or a name)


@dataclass(frozen=True)
class ThreadReply:
    """A person's message in a thread as chat holds it now: after an edit, the edited text."""

    ts: str
    author: str
    text: str  # the plain text a citizen would get
    key: str | None = None  # the version's identity, as drafts store it (`Draft.chat_key`)


class ChatGateway(Protocol):
    """The chat operations the workflow needs. Implementations raise `bot.errors.ChatError`."""

    def post_inquiry(self, channel: str, view: InquiryView, *, marker: str | None = None) -> ChatRef:
        """Post the department card for a new (or moved) inquiry.

        Every posting method takes a `marker`: a key stored invisibly on the message, so
        `find_marked` can tell later whether an attempt that crashed had reached chat."""

    def post_approval(self, channel: str, view: InquiryView, *, marker: str | None = None) -> ChatRef:
        """Post the approval request (inquiry plus draft) in the communication unit's channel."""

    def update(self, ref: ChatRef, view: InquiryView, *, approval: bool = False) -> None:
        """Redraw an existing card or approval request with the view's current state."""

    def replace_with_notice(self, ref: ChatRef, text: str) -> None:
        """Replace a message of ours, blocks and all, with a plain Danish notice (retention
        redacts an anonymised inquiry's card this way)."""

    def post_in_thread(self, ref: ChatRef, text: str, *, marker: str | None = None) -> ChatRef:
        """A plain Danish message in the thread of `ref` (reminders, rejections, failures)."""

    def notify(self, channel: str, text: str, *, marker: str | None = None) -> ChatRef:
        """A plain Danish message in a channel (escalations, operator notices)."""

    def find_marked(
        self, channel: str, marker: str, *, thread_ts: str | None = None, since: datetime | None = None
    ) -> ChatRef | None:
        """Our message carrying `marker` in the channel (or in the thread under `thread_ts`),
        looking back to `since`; None when no earlier attempt reached chat."""

    def thread_replies(self, ref: ChatRef, *, after: str) -> list[ThreadReply]:
        """People's replies in the thread of `ref` posted after `after` (a ts), oldest first;
        bots (ourselves included), joins and other subtypes are left out."""

    def post_ephemeral(self, channel: str, user: str, text: str) -> None:
        """A message only `user` sees (polite refusals)."""

    def permalink(self, ref: ChatRef) -> str:
        """A link people can click to reach the message (escalations, urgent alerts)."""

    def display_name(self, user: str) -> str | None:
        """The name chat shows for a person (a mention in a draft becomes it for the citizen);
        None when chat knows no such person."""
