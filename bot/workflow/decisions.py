"""What people do with an inquiry in chat: draft, approve, edit, reject, move, close, hide.

Every action is recorded in the event log, and approving, answering directly and hiding
check the communication unit's membership at the moment of the click.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from sqlmodel import Session, col, select

from bot import texts
from bot.errors import ChatError, InvalidTransition
from bot.models import Decision, DecisionKind, Draft, Inquiry, InquiryState, Reply
from bot.platforms.base import target_from_json
from bot.workflow.context import WorkflowContext
from bot.workflow.delivery import Delivery
from bot.workflow.followups import FollowUps
from bot.workflow.presenter import Presenter
from bot.workflow.reminding import Reminding

log = logging.getLogger(__name__)

DRAFTABLE = (InquiryState.POSTED, InquiryState.DRAFTED, InquiryState.RECEIVED)
MOVABLE = (InquiryState.RECEIVED, InquiryState.POSTED, InquiryState.DRAFTED)
CLOSABLE = (InquiryState.RECEIVED, InquiryState.POSTED, InquiryState.DRAFTED, InquiryState.SEND_FAILED)


class Decisions:
    """The people-driven transitions of an inquiry."""

    def __init__(
        self, ctx: WorkflowContext, presenter: Presenter, delivery: Delivery, reminding: Reminding,
        followups: FollowUps,
    ) -> None:
        self.ctx = ctx
        self.presenter = presenter
        self.delivery = delivery
        self.reminding = reminding
        self.followups = followups

    def ensure_officer(self, inquiry_id: int, actor: str, action: str) -> None:
        """Opening an officer's form is already an attempt: refuse and record it before it opens."""
        with self.ctx.store.session() as session:
            self.ctx.require_officer(session, actor, action, inquiry_id)

    def add_draft(
        self, inquiry_id: int, author: str, text: str, *, source: str = "thread", chat_ts: str | None = None
    ) -> int:
        """A specialist's proposed answer; the newest draft is the one officers decide on."""
        if not text.strip():
            raise InvalidTransition("an empty draft cannot be approved")
        with self.ctx.store.session() as session:
            known = self._draft_from(session, inquiry_id, chat_ts) if chat_ts else None
            if known is not None:
                return known  # Slack redelivered the thread message
            draft_id = self._store_draft(session, inquiry_id, author, text, source, chat_ts)
        self.presenter.show_for_approval(inquiry_id)
        return draft_id

    def revise_draft(self, inquiry_id: int, author: str, text: str, *, chat_ts: str) -> int | None:
        """A specialist edited the thread message that is the newest draft: the edited text is
        what officers now decide on, unless the answer is already on its way (refused, so the
        editor is told). An edit of an older draft or of any other message changes nothing."""
        if not text.strip():
            raise InvalidTransition("an empty draft cannot be approved")
        with self.ctx.store.session() as session:
            newest = self.presenter.latest_draft(session, inquiry_id)
            if newest is None or newest.chat_ts != chat_ts or newest.text == text.strip():
                return None  # not the draft in play, or Slack redelivered the edit
            draft_id = self._store_draft(session, inquiry_id, author, text, "thread_edit", chat_ts)
        self.presenter.show_for_approval(inquiry_id)
        return draft_id

    def _store_draft(self, session: Session, inquiry_id: int, author: str, text: str, source: str,
                     chat_ts: str | None) -> int:
        """The newest draft, with its audit event and the approval nudge it starts."""
        self.ctx.transition(session, inquiry_id, DRAFTABLE, InquiryState.DRAFTED)
        draft = Draft(
            inquiry_id=inquiry_id, author=author, text=text.strip(), source=source,
            chat_ts=chat_ts, created_at=self.ctx.now(),
        )
        session.add(draft)
        session.flush()
        self.ctx.record(session, "drafted", actor=author, inquiry_id=inquiry_id, draft_id=draft.id)
        self.reminding.reschedule(session, self.ctx.load(session, inquiry_id))
        return draft.id or 0

    @staticmethod
    def _draft_from(session: Session, inquiry_id: int, chat_ts: str) -> int | None:
        return session.exec(select(Draft.id).where(
            Draft.inquiry_id == inquiry_id, col(Draft.chat_ts) == chat_ts)).first()

    def request_missing_approvals(self, older_than: timedelta = timedelta(minutes=1)) -> int:
        """Drafts whose approval request never reached chat (the bot died in between, or Slack
        was down) are put in front of the communication unit by the sweep; returns how many."""
        cutoff = self.ctx.now() - older_than
        with self.ctx.store.session() as session:
            waiting = session.exec(
                select(Inquiry.id).where(
                    Inquiry.state == InquiryState.DRAFTED,
                    col(Inquiry.approval_ts).is_(None),
                    col(Inquiry.updated_at) <= cutoff,
                )
            ).all()
        shown = 0
        for inquiry_id in filter(None, waiting):
            try:
                self.presenter.show_for_approval(inquiry_id)
            except ChatError as exc:
                log.warning("approval request for inquiry %s not posted yet: %s", inquiry_id, exc)
                continue
            shown += 1
        return shown

    def approve(self, inquiry_id: int, actor: str, edited_text: str | None = None) -> None:
        """Approve the newest draft (or an edited text) and send it to the citizen once."""
        with self.ctx.store.session() as session:
            self.ctx.require_officer(session, actor, "approve", inquiry_id)
            draft = self.presenter.latest_draft(session, inquiry_id)
            text = (edited_text if edited_text is not None else (draft.text if draft else "")).strip()
            if not text:
                raise InvalidTransition("there is no draft to approve")
            # a refused send may be corrected and sent again from the same approval request
            allowed = [InquiryState.DRAFTED] + ([InquiryState.SEND_FAILED] if edited_text is not None else [])
            self.ctx.transition(session, inquiry_id, allowed, InquiryState.SENDING)
            reply_id = self._queue_reply(session, inquiry_id, actor, text, draft, edited_text is not None)
        self.presenter.refresh(inquiry_id)
        self.delivery.send(reply_id)

    def answer_directly(self, inquiry_id: int, actor: str, text: str) -> None:
        """An officer writes and approves the answer in one step (their own draft)."""
        if not text.strip():
            raise InvalidTransition("an empty answer cannot be sent")
        with self.ctx.store.session() as session:
            self.ctx.require_officer(session, actor, "answer_direct", inquiry_id)
            self.ctx.transition(
                session, inquiry_id, DRAFTABLE + (InquiryState.SEND_FAILED,), InquiryState.SENDING
            )
            draft = Draft(inquiry_id=inquiry_id, author=actor, text=text.strip(), source="direct",
                          created_at=self.ctx.now())
            session.add(draft)
            session.flush()
            reply_id = self._queue_reply(session, inquiry_id, actor, text.strip(), draft, False)
        self.presenter.refresh(inquiry_id)
        self.delivery.send(reply_id)

    def _queue_reply(
        self,
        session: Session,
        inquiry_id: int,
        actor: str,
        text: str,
        draft: Draft | None,
        edited: bool,
    ) -> int:
        """Write the decision and a pending reply with its idempotency key before any network call."""
        decision = Decision(
            inquiry_id=inquiry_id,
            draft_id=draft.id if draft else None,
            decided_by=actor,
            kind=DecisionKind.EDITED if edited else DecisionKind.APPROVED,
            text=text,
            created_at=self.ctx.now(),
        )
        session.add(decision)
        session.flush()
        reply = Reply(
            inquiry_id=inquiry_id,
            decision_id=decision.id or 0,
            idempotency_key=f"bb-{inquiry_id}-{uuid.uuid4().hex[:16]}",
            text=text,
            created_at=self.ctx.now(),
        )
        session.add(reply)
        session.flush()
        self.ctx.record(
            session, decision.kind.value, actor=actor, inquiry_id=inquiry_id, reply_id=reply.id
        )
        return reply.id or 0

    def reject(self, inquiry_id: int, actor: str, comment: str) -> None:
        """Send the draft back to the department with a comment; the deadline keeps running."""
        with self.ctx.store.session() as session:
            self.ctx.require_officer(session, actor, "reject", inquiry_id)
            draft = self.presenter.latest_draft(session, inquiry_id)
            self.ctx.transition(session, inquiry_id, [InquiryState.DRAFTED, InquiryState.SEND_FAILED],
                                InquiryState.POSTED)  # after a refused send: ask for a new draft
            session.add(Decision(
                inquiry_id=inquiry_id, draft_id=draft.id if draft else None, decided_by=actor,
                kind=DecisionKind.REJECTED, comment=comment.strip(), created_at=self.ctx.now(),
            ))
            self.ctx.record(session, "rejected", actor=actor, inquiry_id=inquiry_id)
            inquiry = self.ctx.load(session, inquiry_id)
            self.reminding.reschedule(session, inquiry)
            note = self.presenter.owe_rejection_note(session, inquiry, actor, comment.strip())
        self.presenter.refresh(inquiry_id)
        if note is not None:
            self.followups.carry_out_now(note)

    def move(self, inquiry_id: int, actor: str, new_route: str, reason: str = "") -> None:
        """Re-post in another department's channel, keeping the deadline; recorded as a correction."""
        self.ctx.rules.channel_of(new_route)  # raises for an unknown route
        with self.ctx.store.session() as session:
            inquiry = self.ctx.load(session, inquiry_id)
            old_route, old_ref = inquiry.route, self.presenter.department_ref(inquiry)
            if old_route == new_route:
                return
            self.ctx.transition(session, inquiry_id, MOVABLE, InquiryState.POSTED, route=new_route)
            self.ctx.record(
                session, "moved", actor=actor, inquiry_id=inquiry_id,
                from_route=old_route, to_route=new_route, reason=reason,
            )
            self.reminding.reschedule(session, self.ctx.load(session, inquiry_id))
            owed = [self.ctx.owe_move(session, inquiry_id, old_ref)]
            if old_ref is not None:
                owed.append(self.ctx.owe_note(
                    session, old_ref.channel,
                    texts.status_moved(texts.person(actor), self.ctx.rules.name_of(new_route)),
                    inquiry_id=inquiry_id, thread_ts=old_ref.ts))
        for follow_up in owed:
            self.followups.carry_out_now(follow_up)

    def close_no_reply(self, inquiry_id: int, actor: str, reason: str = "no_reply_needed") -> None:
        """Close without answering; the reason is kept for the journal and for routing feedback."""
        with self.ctx.store.session() as session:
            self.ctx.transition(
                session, inquiry_id, CLOSABLE, InquiryState.CLOSED, next_reminder_at=None
            )
            self.ctx.record(session, "closed", actor=actor, inquiry_id=inquiry_id, reason=reason)
        self.presenter.refresh(inquiry_id)

    def hide(self, inquiry_id: int, actor: str, reason: str, *, note: str = "", hidden: bool = True) -> None:
        """Hide (or unhide) a public comment on the platform; officers only, with a reason code
        from the debate rules, a note and a snapshot of the text, as moderation must document."""
        with self.ctx.store.session() as session:
            self.ctx.require_officer(session, actor, "hide", inquiry_id)
            inquiry = self.ctx.load(session, inquiry_id)
            client = self.ctx.client_for(inquiry)
            target = target_from_json(inquiry.reply_target)
        if client is None or target.mode != "comment":
            raise InvalidTransition("this inquiry cannot be hidden on its platform")
        client.hide(target, hidden)
        with self.ctx.store.session() as session:
            self.ctx.owe_redraw(session, inquiry_id)
            self.ctx.record(
                session, "hidden" if hidden else "unhidden", actor=actor, inquiry_id=inquiry_id,
                reason=reason, note=note, snapshot=inquiry.text,
            )
        self.presenter.refresh(inquiry_id)
