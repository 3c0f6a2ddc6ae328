"""What a card shows, derived from the stored inquiry; the chat gateway only renders it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlmodel import Session, col, select

from bot import privacy, texts
from bot.chat.base import InquiryView
from bot.models import Draft, Event, Inquiry, InquiryState
from bot.workflow.context import WorkflowContext

DEPARTMENT_ACTIONS = {
    InquiryState.RECEIVED: ("draft", "move", "no_reply", "answer", "hide"),
    InquiryState.POSTED: ("draft", "move", "no_reply", "answer", "hide"),
    InquiryState.DRAFTED: ("draft", "move"),
}
APPROVAL_ACTIONS = {
    InquiryState.DRAFTED: ("approve", "edit", "reject", "hide"),
    # after a refused send: the same text again, a corrected text, or a new draft from the department
    InquiryState.SEND_FAILED: ("retry", "edit", "reject"),
}


def latest_draft(session: Session, inquiry_id: int) -> Draft | None:
    return session.exec(
        select(Draft).where(Draft.inquiry_id == inquiry_id, col(Draft.withdrawn_at).is_(None))
        .order_by(col(Draft.id).desc())
    ).first()


GONE = "gone"
"""The send failure (and closing reason) of a reply whose comment or conversation is gone."""

STATUS_ACTIONS = ("moved", "hidden", "unhidden", "rejected", "drafted", "approved", "edited",
                  "answered_on_platform", "send_failed", "closed", "sent")
"""Every event a card's status lines or reply link are drawn from."""


class _History:
    """The newest event of each action that matters to the card, read in one query: a card
    is drawn for every new inquiry, so one lookup per status line would dominate posting."""

    def __init__(self, events: Iterable[Event] = ()) -> None:
        self._newest: dict[str, Event] = {}
        for event in events:  # oldest first, so the newest of each action stays
            self._newest[event.action] = event

    @classmethod
    def of(cls, session: Session, inquiry_id: int) -> _History:
        return cls(session.exec(
            select(Event)
            .where(Event.inquiry_id == inquiry_id, col(Event.action).in_(STATUS_ACTIONS))
            .order_by(col(Event.id))
        ))

    def last(self, *actions: str) -> Event | None:
        """The newest event among `actions`, as a lookup of exactly those would find it."""
        found = [self._newest[action] for action in actions if action in self._newest]
        return max(found, key=lambda event: event.id or 0, default=None)


def _status_lines(ctx: WorkflowContext, history: _History, inquiry: Inquiry,
                  draft: Draft | None) -> tuple[str, ...]:
    """The Danish status lines under a card: the latest of each thing people did to it."""
    lines: list[str] = []
    moved = history.last("moved")
    if moved is not None:
        lines.append(texts.status_moved_here(
            texts.person(moved.actor), ctx.rules.name_of(str(moved.detail.get("from_route", "")))
        ))
    hidden = history.last("hidden", "unhidden")
    if hidden is not None and hidden.action == "hidden":
        lines.append(texts.status_hidden(texts.person(hidden.actor)))
    state = inquiry.state
    if state is InquiryState.DRAFTED:
        lines.append(texts.status_drafted(texts.person(draft.author if draft else "")))
    elif state is InquiryState.POSTED:
        rejected = history.last("rejected", "drafted")
        if rejected is not None and rejected.action == "rejected":
            lines.append(texts.status_rejected(texts.person(rejected.actor)))
    elif state is InquiryState.SENDING:
        lines.append(texts.status_sending())
    elif state is InquiryState.ANSWERED:
        approved = history.last("approved", "edited", "answered_on_platform")
        who = texts.person(approved.actor) if approved else "borgerbot"
        lines.append(texts.status_answered(who, inquiry.answered_at or ctx.now(), ctx.now(), ctx.tz))
    elif state is InquiryState.SEND_FAILED:
        failed = history.last("send_failed")
        lines.append(texts.status_send_failed(texts.send_failure(
            str(failed.detail.get("reason", "")) if failed else "")))
    elif state is InquiryState.CLOSED:
        closed = history.last("closed")
        if closed is not None and closed.detail.get("reason") == GONE:
            lines.append(texts.status_closed_gone(texts.send_failure(GONE)))
        else:
            lines.append(texts.status_no_reply(texts.person(closed.actor if closed else "")))
    return tuple(lines)


def _reply_link(history: _History, inquiry: Inquiry) -> str | None:
    """Where people can see the answer on the platform, once it was sent."""
    if inquiry.state is not InquiryState.ANSWERED:
        return None
    sent = history.last("sent")
    link = sent.detail.get("permalink") if sent else None
    return str(link) if link else None


def card_view(
    ctx: WorkflowContext, session: Session, inquiry: Inquiry, *, approval: bool = False
) -> InquiryView:
    """The view of one inquiry for its department card or, with `approval`, the approval request."""
    inquiry_id = inquiry.id or 0
    return _view(ctx, inquiry, latest_draft(session, inquiry_id), _History.of(session, inquiry_id), approval)


def card_views(ctx: WorkflowContext, session: Session, inquiries: Sequence[Inquiry]) -> dict[int, InquiryView]:
    """Department card views of many inquiries by id, with one query for all their drafts
    and one for all their events: a burst of new inquiries is posted in batches."""
    ids = [inquiry.id or 0 for inquiry in inquiries]
    drafts: dict[int, Draft] = {}
    for draft in session.exec(select(Draft).where(col(Draft.inquiry_id).in_(ids), col(Draft.withdrawn_at).is_(None))
                              .order_by(col(Draft.id))):
        drafts[draft.inquiry_id] = draft
    events: dict[int, list[Event]] = {}
    for event in session.exec(select(Event).where(col(Event.inquiry_id).in_(ids),
                                                   col(Event.action).in_(STATUS_ACTIONS))
                              .order_by(col(Event.id))):
        events.setdefault(event.inquiry_id or 0, []).append(event)
    return {inquiry.id or 0: _view(ctx, inquiry, drafts.get(inquiry.id or 0),
                                   _History(events.get(inquiry.id or 0, ())), False)
            for inquiry in inquiries}


def _view(ctx: WorkflowContext, inquiry: Inquiry, draft: Draft | None, history: _History,
          approval: bool) -> InquiryView:
    actions = (APPROVAL_ACTIONS if approval else DEPARTMENT_ACTIONS).get(inquiry.state, ())
    return InquiryView(
        inquiry_id=inquiry.id or 0,
        platform=inquiry.platform,
        kind=inquiry.kind.value,
        author_name=inquiry.author_name,
        text=inquiry.text,
        post_text=inquiry.post_text,
        permalink=inquiry.permalink,
        route_id=inquiry.route,
        route_name=ctx.rules.name_of(inquiry.route),
        reasons=tuple(inquiry.routing_reasons),
        urgent=inquiry.urgent,
        no_reply_needed=inquiry.no_reply_needed,
        deadline_at=inquiry.deadline_at,
        now=ctx.now(),
        state=inquiry.state.value,
        status_lines=_status_lines(ctx, history, inquiry, draft),
        reply_permalink=_reply_link(history, inquiry),
        draft_text=draft.text if draft else None,
        draft_author=draft.author if draft else None,
        draft_id=draft.id if draft else None,
        actions=actions,
        route_choices=tuple(ctx.rules.route_choices()),
        crisis_plan_url=ctx.setup.crisis_plan_url if inquiry.urgent else None,
        on_call=on_call(ctx) if inquiry.urgent else None,
    )


def on_call(ctx: WorkflowContext) -> str | None:
    """Who is on call, ready for chat: a configured Slack user or group id is mentioned so
    Slack notifies them at once, whatever the hour; a name or number is shown as written."""
    contact = ctx.setup.oncall_contact
    if not contact:
        return None
    return texts.slack_mention(contact) or privacy.slack_escape(privacy.strip_invisible(contact))
