"""Keeps what chat shows in step with the database: both cards are redrawn after each change.

Chat is a view of the stored state, so a failed redraw is logged and left to the sweep (each
change stores that it owes a redraw, see `bot.workflow.followups`); it never undoes or
blocks the state change itself.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from bot import privacy, texts
from bot.chat.base import ChatRef, InquiryView
from bot.errors import ChatError
from bot.models import ChatFollowUp, Event, Inquiry
from bot.workflow.context import REDRAW, WorkflowContext
from bot.workflow.outbox import Outbox
from bot.workflow.views import GONE, card_view, latest_draft

log = logging.getLogger(__name__)

COMMENT_LIMIT = 1000


class Presenter:
    """Draws an inquiry's department card and approval request from its stored state."""

    def __init__(self, ctx: WorkflowContext) -> None:
        self.ctx = ctx
        self.outbox = Outbox(ctx)

    latest_draft = staticmethod(latest_draft)

    @staticmethod
    def department_ref(inquiry: Inquiry) -> ChatRef | None:
        if inquiry.chat_channel and inquiry.chat_ts:
            return ChatRef(inquiry.chat_channel, inquiry.chat_ts)
        return None

    @staticmethod
    def approval_ref(inquiry: Inquiry) -> ChatRef | None:
        if inquiry.approval_channel and inquiry.approval_ts:
            return ChatRef(inquiry.approval_channel, inquiry.approval_ts)
        return None

    def refresh(self, inquiry_id: int) -> bool:
        """Redraw the department card and, if there is one, the approval request; says whether
        chat now shows the stored state, and if so settles the redraws owed until it was read."""
        with self.ctx.store.session() as session:
            inquiry = self.ctx.load(session, inquiry_id)
            owed = session.exec(select(func.max(ChatFollowUp.id)).where(
                ChatFollowUp.inquiry_id == inquiry_id, ChatFollowUp.kind == REDRAW)).one()
            card = card_view(self.ctx, session, inquiry)
            approval = card_view(self.ctx, session, inquiry, approval=True)
        try:
            ref = self.department_ref(inquiry)
            if ref is not None:
                self.ctx.chat.update(ref, card)
            approval_ref = self.approval_ref(inquiry)
            if approval_ref is not None:
                self.ctx.chat.update(approval_ref, approval, approval=True)
        except ChatError as exc:
            log.warning("could not redraw inquiry %s in chat: %s", inquiry_id, exc)
            return False
        if owed is not None:
            with self.ctx.store.session() as session:
                session.execute(delete(ChatFollowUp).where(
                    col(ChatFollowUp.inquiry_id) == inquiry_id, col(ChatFollowUp.kind) == REDRAW,
                    col(ChatFollowUp.id) <= owed))
        return True

    def show_for_approval(self, inquiry_id: int) -> None:
        """Put the newest draft in front of the communication unit (one request per inquiry)."""
        with self.ctx.store.session() as session:
            inquiry = self.ctx.load(session, inquiry_id)
            view = card_view(self.ctx, session, inquiry, approval=True)
        if inquiry.approval_ts:
            self.refresh(inquiry_id)
            return
        channel = self.ctx.setup.approval_channel
        ref = self.outbox.post_once(f"approval:{inquiry_id}", channel,
                                    lambda marker: self.ctx.chat.post_approval(channel, view, marker=marker))
        with self.ctx.store.session() as session:
            stored = self.ctx.load(session, inquiry_id)
            stored.approval_channel, stored.approval_ts = ref.channel, ref.ts
            session.add(stored)
        self.refresh(inquiry_id)

    def owe_rejection_note(self, session: Session, inquiry: Inquiry, actor: str, comment: str) -> int | None:
        """The officer's comment is free text typed in chat: escaped like citizen text."""
        safe = privacy.for_slack(comment, COMMENT_LIMIT, "…")
        return self._owe_thread_note(session, inquiry, texts.rejected_in_thread(texts.person(actor), safe))

    def owe_send_failed_note(self, session: Session, inquiry: Inquiry, reason_kind: str) -> int | None:
        return self._owe_thread_note(session, inquiry, texts.send_failed_in_thread(
            texts.send_failure(reason_kind), closed=reason_kind == GONE))

    def _owe_thread_note(self, session: Session, inquiry: Inquiry, text: str) -> int | None:
        """A note in the card's thread, owed by the transaction in `session`; none without a card."""
        ref = self.department_ref(inquiry)
        if ref is None:
            return None
        return self.ctx.owe_note(session, ref.channel, text, inquiry_id=inquiry.id, thread_ts=ref.ts)

    def show_moved(self, inquiry_id: int, old_ref: ChatRef | None, old_route: str, actor: str) -> None:
        """Post the card in the new department's channel and mark the old one as moved (the
        note in the old thread is owed by the move itself)."""
        with self.ctx.store.session() as session:
            inquiry = self.ctx.load(session, inquiry_id)
            view = card_view(self.ctx, session, inquiry)
            moves = len(session.exec(select(Event.id).where(
                Event.inquiry_id == inquiry_id, Event.action == "moved")).all())
        channel = self.ctx.rules.channel_of(inquiry.route)
        new_ref = self.outbox.post_once(f"card:{inquiry_id}:move{moves}", channel,
                                        lambda marker: self.ctx.chat.post_inquiry(channel, view, marker=marker))
        with self.ctx.store.session() as session:
            stored = self.ctx.load(session, inquiry_id)
            stored.chat_channel, stored.chat_ts = new_ref.channel, new_ref.ts
            session.add(stored)
        if old_ref is not None:
            self.ctx.chat.update(old_ref, self._moved_view(inquiry, old_route, actor))
        self.refresh(inquiry_id)

    def _moved_view(self, inquiry: Inquiry, old_route: str, actor: str) -> InquiryView:
        """The old department's card, frozen: who moved it where, and no buttons left."""
        with self.ctx.store.session() as session:
            view = card_view(self.ctx, session, inquiry)
        return replace(
            view,
            route_id=old_route,
            route_name=self.ctx.rules.name_of(old_route),
            actions=(),
            status_lines=(texts.status_moved(texts.person(actor), self.ctx.rules.name_of(inquiry.route)),),
        )

