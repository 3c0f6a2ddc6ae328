"""What people do with an inquiry in chat: draft, approve, edit, reject, move, close, hide.

Every action is recorded in the event log, and approving, answering directly and hiding
check the communication unit's membership at the moment of the click.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot import texts
from bot.errors import ChatError, DraftChanged, InvalidTransition
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
        self, inquiry_id: int, author: str, text: str, *, source: str = "thread", chat_ts: str | None = None,
        chat_key: str | None = None, event_id: str | None = None, with_files: bool = False,
    ) -> int:
        """A specialist's proposed answer; the newest draft is the one officers decide on.

        `chat_key` and `event_id` identify the Slack message and delivery: a retry of either,
        delivered at the same moment on this replica or another, finds the first one's draft
        (or loses the race on the unique key) and makes none. `with_files` says the message
        carried files, which are not sent; the thread is told so."""
        if not text.strip():
            raise InvalidTransition("an empty draft cannot be approved")
        try:
            with self.ctx.store.session() as session:
                known = self._draft_from(session, inquiry_id, chat_ts, chat_key, event_id)
                if known is not None:
                    return known  # Slack redelivered the thread message
                draft_id = self._store_draft(session, inquiry_id, author, text, source, chat_ts,
                                             chat_key=chat_key, event_id=event_id)
                note = self._files_note(session, inquiry_id) if with_files else None
        except IntegrityError:
            with self.ctx.store.session() as session:  # a concurrent delivery of it won the race
                known = self._draft_from(session, inquiry_id, chat_ts, chat_key, event_id)
            if known is None:
                raise
            return known
        self.presenter.show_for_approval(inquiry_id)
        if note is not None:
            self.followups.carry_out_now(note)
        return draft_id

    def revise_draft(self, inquiry_id: int, author: str, text: str, *, chat_ts: str,
                     chat_key: str | None = None, event_id: str | None = None) -> int | None:
        """A specialist edited the thread message that is the newest draft: the edited text is
        what officers now decide on, unless the answer is already on its way (refused, so the
        editor is told). An edit of an older draft or of any other message changes nothing."""
        if not text.strip():
            raise InvalidTransition("an empty draft cannot be approved")
        try:
            with self.ctx.store.session() as session:
                newest = self.presenter.latest_draft(session, inquiry_id)
                if newest is None or newest.chat_ts != chat_ts or newest.text == text.strip():
                    return None  # not the draft in play, or Slack redelivered the edit
                if self._draft_from(session, inquiry_id, None, chat_key, event_id) is not None:
                    return None
                draft_id = self._store_draft(session, inquiry_id, author, text, "thread_edit", chat_ts,
                                             chat_key=chat_key, event_id=event_id)
        except IntegrityError:
            return None  # the same edit, delivered twice at once: the other delivery stored it
        self.presenter.show_for_approval(inquiry_id)
        return draft_id

    def withdraw_draft(self, inquiry_id: int, actor: str, chat_ts: str) -> bool:
        """The thread message a draft came from was deleted in Slack: every draft made from it
        is withdrawn, and if one was in play the inquiry waits for a new draft, its approval
        request is redrawn without buttons, and approving it is refused. Once the answer is
        approved the deletion changes nothing. Says whether a draft was withdrawn (a
        redelivered deletion withdraws nothing more)."""
        with self.ctx.store.session() as session:
            inquiry = self.ctx.load(session, inquiry_id)
            if inquiry.state not in DRAFTABLE:
                return False  # already approved or closed: what was sent stays on record
            newest = self.presenter.latest_draft(session, inquiry_id)
            drafts = session.exec(select(Draft).where(
                Draft.inquiry_id == inquiry_id, col(Draft.chat_ts) == chat_ts,
                col(Draft.withdrawn_at).is_(None))).all()
            if not drafts:
                return False
            for draft in drafts:
                draft.withdrawn_at = self.ctx.now()
                session.add(draft)
            in_play = newest is not None and newest.chat_ts == chat_ts
            if in_play and inquiry.state is InquiryState.DRAFTED:
                self.ctx.transition(session, inquiry_id, [InquiryState.DRAFTED], InquiryState.POSTED)
            self.ctx.record(session, "withdrawn", actor=actor, inquiry_id=inquiry_id,
                            draft_ids=[d.id for d in drafts])
            self.ctx.owe_redraw(session, inquiry_id)
            ref = self.presenter.department_ref(inquiry)
            note = (self.ctx.owe_note(session, ref.channel, texts.draft_withdrawn(texts.person(actor)),
                                      inquiry_id=inquiry_id, thread_ts=ref.ts)
                    if in_play and ref is not None else None)
        self.presenter.refresh(inquiry_id)
        if note is not None:
            self.followups.carry_out_now(note)
        return True

    def _files_note(self, session: Session, inquiry_id: int) -> int | None:
        """The thread note that files in a draft are not sent to the citizen."""
        ref = self.presenter.department_ref(self.ctx.load(session, inquiry_id))
        if ref is None:
            return None
        return self.ctx.owe_note(session, ref.channel, texts.files_not_sent(),
                                 inquiry_id=inquiry_id, thread_ts=ref.ts)

    def _store_draft(self, session: Session, inquiry_id: int, author: str, text: str, source: str,
                     chat_ts: str | None, *, chat_key: str | None = None, event_id: str | None = None) -> int:
        """The newest draft, with its audit event and the approval nudge it starts."""
        self.ctx.transition(session, inquiry_id, DRAFTABLE, InquiryState.DRAFTED)
        draft = Draft(
            inquiry_id=inquiry_id, author=author, text=text.strip(), source=source,
            chat_ts=chat_ts, chat_key=chat_key, event_id=event_id, created_at=self.ctx.now(),
        )
        session.add(draft)
        session.flush()
        self.ctx.record(session, "drafted", actor=author, inquiry_id=inquiry_id, draft_id=draft.id)
        self.reminding.reschedule(session, self.ctx.load(session, inquiry_id))
        return draft.id or 0

    @staticmethod
    def _draft_from(session: Session, inquiry_id: int, chat_ts: str | None, chat_key: str | None,
                    event_id: str | None) -> int | None:
        """The draft already made from this thread message (by its ts, when it is not an edit),
        this message version or this delivery, if any."""
        found = []
        if chat_ts is not None:
            found.append(session.exec(select(Draft.id).where(
                Draft.inquiry_id == inquiry_id, col(Draft.chat_ts) == chat_ts)).first())
        if chat_key is not None:
            found.append(session.exec(select(Draft.id).where(col(Draft.chat_key) == chat_key)).first())
        if event_id is not None:
            found.append(session.exec(select(Draft.id).where(col(Draft.event_id) == event_id)).first())
        return next((draft_id for draft_id in found if draft_id is not None), None)

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

    def approve(self, inquiry_id: int, actor: str, edited_text: str | None = None,
                draft_id: int | None = None) -> None:
        """Approve the newest draft (or an edited text) and send it to the citizen once.

        `draft_id` is the draft the officer saw (carried by the button or the edit form): if a
        specialist replaced, edited or deleted it since, nothing is sent, the approval request
        is redrawn with the draft now in play and the officer is told to look again."""
        try:
            with self.ctx.store.session() as session:
                self.ctx.require_officer(session, actor, "approve", inquiry_id)
                draft = self.presenter.latest_draft(session, inquiry_id)
                if draft_id is not None and (draft is None or draft.id != draft_id):
                    raise DraftChanged(f"draft {draft_id} of inquiry {inquiry_id} is no longer in play")
                text = (edited_text if edited_text is not None else (draft.text if draft else "")).strip()
                if not text:
                    raise InvalidTransition("there is no draft to approve")
                # a refused send may be corrected and sent again from the same approval request
                allowed = [InquiryState.DRAFTED] + ([InquiryState.SEND_FAILED] if edited_text is not None else [])
                self.ctx.transition(session, inquiry_id, allowed, InquiryState.SENDING)
                # The transition holds the inquiry's row: an edit that committed before it is
                # visible now, and one that did not will find the inquiry already sending.
                current = self.presenter.latest_draft(session, inquiry_id)
                if (current.id if current else None) != (draft.id if draft else None):
                    raise DraftChanged(f"inquiry {inquiry_id} got a new draft while it was approved")
                reply_id = self._queue_reply(session, inquiry_id, actor, text, draft, edited_text is not None)
        except DraftChanged:
            self.presenter.refresh(inquiry_id)
            raise
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
