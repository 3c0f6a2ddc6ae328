"""Reminders before the deadline, the approval nudge, and the escalation when one is missed.

Each reminder is a row with a unique (inquiry, kind) key, claimed before it is posted and
marked sent after; a restart therefore neither repeats a sent reminder nor forgets a due one.
`Inquiry.next_reminder_at` holds the earliest unsent point, so the sweep reads one index.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot import deadlines, texts
from bot.chat.base import ChatRef
from bot.errors import ChatError
from bot.models import OPEN_STATES, Event, Inquiry, InquiryState, Reminder
from bot.workflow.context import WorkflowContext
from bot.workflow.outbox import Outbox
from bot.workflow.views import latest_draft

log = logging.getLogger(__name__)

CLAIM = timedelta(minutes=2)
ESCALATION = "escalation"
UNIT_TURN = (InquiryState.DRAFTED, InquiryState.SEND_FAILED)
"""States only the communication unit can move on (approve, or retry the send): their
reminders go to the unit, in the approval request's thread."""


class Reminding:
    """Decides which reminder points an inquiry has and sends each one once."""

    def __init__(self, ctx: WorkflowContext) -> None:
        self.ctx = ctx
        self.outbox = Outbox(ctx)

    def points(self, session: Session, inquiry: Inquiry) -> list[tuple[str, datetime]]:
        """Every reminder point of the inquiry as it stands: deadline ladder plus approval nudge."""
        found = self._ladder(inquiry)
        if inquiry.state is InquiryState.DRAFTED and inquiry.deadline_at is not None:
            draft = latest_draft(session, inquiry.id or 0)
            if draft is not None:
                at = deadlines.approval_reminder_at(self.ctx.policy, draft.created_at, inquiry.urgent)
                found.append((f"approval-{draft.id}", at))
        return sorted(found, key=lambda point: point[1])

    def _ladder(self, inquiry: Inquiry) -> list[tuple[str, datetime]]:
        """The deadline ladder's points. Once a reply is approved and on its way, nobody in
        chat can do more; only a missed deadline is still news."""
        if inquiry.deadline_at is None or inquiry.state not in OPEN_STATES:
            return []
        ladder = deadlines.reminder_schedule(
            self.ctx.policy, inquiry.received_at, inquiry.deadline_at, inquiry.urgent
        )
        return [(kind, at) for kind, at in ladder
                if inquiry.state is not InquiryState.SENDING or kind == ESCALATION]

    def schedule_new(self, inquiry: Inquiry) -> None:
        """The first point of an inquiry being stored: it has no draft and no reminder sent
        yet, so the ladder alone decides, without asking the database (ingest is hot)."""
        inquiry.next_reminder_at = min((at for _, at in self._ladder(inquiry)), default=None)

    def reschedule(self, session: Session, inquiry: Inquiry) -> None:
        """Store the earliest point not yet sent, or none when the inquiry needs no more."""
        done = set(
            session.exec(
                select(Reminder.kind).where(
                    Reminder.inquiry_id == inquiry.id, col(Reminder.sent_at).is_not(None)
                )
            ).all()
        )
        pending = [at for kind, at in self.points(session, inquiry) if kind not in done]
        inquiry.next_reminder_at = min(pending) if pending else None
        session.add(inquiry)

    def run_due(self, inquiry_id: int, now: datetime) -> int:
        """Send every point of the inquiry that is due at `now`; returns how many were sent."""
        with self.ctx.store.session() as session:
            inquiry = self.ctx.load(session, inquiry_id)
            due = [(kind, at) for kind, at in self.points(session, inquiry) if at <= now]
        due, superseded = _latest_of_ladder(due)
        for kind, at in superseded:
            self._skip(inquiry_id, kind, at, now)
        sent = sum(1 for kind, at in due if self._send_once(inquiry_id, kind, at, now))
        with self.ctx.store.session() as session:
            self.reschedule(session, self.ctx.load(session, inquiry_id))
        return sent

    def _skip(self, inquiry_id: int, kind: str, at: datetime, now: datetime) -> None:
        """Record a point as passed without posting it: a later one says the same, louder."""
        try:
            with self.ctx.store.session() as session:
                session.add(Reminder(inquiry_id=inquiry_id, kind=kind, due_at=at, sent_at=now, skipped=True))
        except IntegrityError:
            pass  # already sent or skipped

    def _claim(self, inquiry_id: int, kind: str, at: datetime, now: datetime) -> bool:
        """Insert the reminder row, or take over one whose earlier sender died before sending."""
        try:
            with self.ctx.store.session() as session:
                session.add(Reminder(inquiry_id=inquiry_id, kind=kind, due_at=at, claimed_until=now + CLAIM))
            return True
        except IntegrityError:
            pass
        with self.ctx.store.session() as session:
            taken = session.execute(
                update(Reminder)
                .where(
                    col(Reminder.inquiry_id) == inquiry_id,
                    col(Reminder.kind) == kind,
                    col(Reminder.sent_at).is_(None),
                    or_(col(Reminder.claimed_until).is_(None), col(Reminder.claimed_until) <= now),
                )
                .values(claimed_until=now + CLAIM)
            )
            return bool(taken.rowcount == 1)  # type: ignore[attr-defined]

    def _send_once(self, inquiry_id: int, kind: str, at: datetime, now: datetime) -> bool:
        if not self._claim(inquiry_id, kind, at, now):
            return False
        inquiry = self._still_due(inquiry_id, kind)
        if inquiry is None:
            self._release(inquiry_id, kind)
            return False
        try:
            self._post(inquiry, kind)
        except ChatError as exc:
            log.warning("reminder %s for inquiry %s not posted yet: %s", kind, inquiry_id, exc)
            self._release(inquiry_id, kind)
            return False
        with self.ctx.store.session() as session:
            session.execute(
                update(Reminder)
                .where(col(Reminder.inquiry_id) == inquiry_id, col(Reminder.kind) == kind)
                .values(sent_at=now, claimed_until=None)
            )
            self.ctx.record(session, "escalated" if kind == ESCALATION else "reminded",
                                  inquiry_id=inquiry_id, kind=kind)
        return True

    def _still_due(self, inquiry_id: int, kind: str) -> Inquiry | None:
        """The inquiry as it is now, if the claimed point still applies: someone may have
        answered, closed or approved it between the sweep's look and the claim."""
        with self.ctx.store.session() as session:
            inquiry = self.ctx.load(session, inquiry_id)
            kinds = {point for point, _ in self.points(session, inquiry)}
        return inquiry if kind in kinds else None

    def _release(self, inquiry_id: int, kind: str) -> None:
        with self.ctx.store.session() as session:
            session.execute(
                update(Reminder)
                .where(col(Reminder.inquiry_id) == inquiry_id, col(Reminder.kind) == kind)
                .values(claimed_until=None)
            )

    def _post(self, inquiry: Inquiry, kind: str) -> None:
        """Department reminders go in the card's thread; approval nudges and misses to the unit.

        Each message has its own outbox key, so a retry after a crash posts only what is missing."""
        ctx = self.ctx
        ref = ChatRef(inquiry.chat_channel, inquiry.chat_ts) if inquiry.chat_ts and inquiry.chat_channel else None
        deadline = inquiry.deadline_at or ctx.now()
        key = f"{inquiry.id}:{kind}"
        if kind == ESCALATION:
            self._notify(f"escalation:{inquiry.id}", ctx.setup.comms_channel, lambda: texts.escalation(
                ctx.rules.name_of(inquiry.route), self._link(ref, inquiry)))
            if ref is not None:
                self._in_thread(f"missed:{inquiry.id}", ref,
                                lambda: texts.deadline_missed(deadline, ctx.now(), ctx.tz))
        elif kind.startswith("approval-") or inquiry.state in UNIT_TURN:
            message = self._unit_reminder(inquiry, deadline if kind.startswith("reminder") else None)
            if inquiry.approval_channel and inquiry.approval_ts:
                approval = ChatRef(inquiry.approval_channel, inquiry.approval_ts)
                self._in_thread(f"reminder:{key}", approval, lambda: message)
            else:
                self._notify(f"reminder:{key}", ctx.setup.approval_channel, lambda: message)
        elif ref is not None:
            self._in_thread(f"reminder:{key}", ref, lambda: texts.deadline_reminder(
                self._who(inquiry), deadline, ctx.now(), ctx.tz))

    def _notify(self, key: str, channel: str, text: Callable[[], str]) -> None:
        self.outbox.post_once(key, channel, lambda marker: self.ctx.chat.notify(channel, text(), marker=marker))

    def _in_thread(self, key: str, ref: ChatRef, text: Callable[[], str]) -> None:
        self.outbox.post_once(key, ref.channel, lambda marker: self.ctx.chat.post_in_thread(
            ref, text(), marker=marker), thread_ts=ref.ts)

    def _unit_reminder(self, inquiry: Inquiry, deadline: datetime | None) -> str:
        """The nudge to the communication unit: approve the draft (naming its author), or
        retry the send that failed; a ladder reminder also says when the answer is due."""
        if inquiry.state is InquiryState.SEND_FAILED:
            message = texts.send_failed_reminder()
        else:
            with self.ctx.store.session() as session:
                draft = latest_draft(session, inquiry.id or 0)
            message = texts.approval_reminder(texts.person(draft.author if draft else ""))
        if deadline is not None:
            message += f" {texts.deadline_line(deadline, self.ctx.now(), self.ctx.tz)}."
        group = self.ctx.setup.officer_group
        return f"{texts.team(group)} {message}" if group else message

    def _who(self, inquiry: Inquiry) -> str | None:
        """Whoever last drafted in the department that has the inquiry now, else its group.

        A move hands the inquiry to another department, so a drafter from before it is
        no longer the one to ask.
        """
        with self.ctx.store.session() as session:
            last = session.exec(
                select(Event)
                .where(Event.inquiry_id == inquiry.id, col(Event.action).in_(("drafted", "moved")))
                .order_by(col(Event.id).desc())
            ).first()
        if last is not None and last.action == "drafted":
            return texts.person(last.actor)
        group = self.ctx.rules.group_of(inquiry.route)
        return texts.team(group) if group else None

    def _link(self, ref: ChatRef | None, inquiry: Inquiry) -> str:
        """Where people can act on a missed inquiry: its card, else the original post."""
        if ref is not None:
            try:
                return self.ctx.chat.permalink(ref)
            except ChatError:
                pass
        return inquiry.permalink or f"#{inquiry.id}"


def _latest_of_ladder(
    due: list[tuple[str, datetime]],
) -> tuple[list[tuple[str, datetime]], list[tuple[str, datetime]]]:
    """After downtime several ladder points can be due at once; only the latest is worth
    posting (the escalation, or the last reminder). Approval nudges are kept as they are."""
    ladder = [point for point in due if not point[0].startswith("approval-")]
    if len(ladder) < 2:
        return due, []
    latest = max(ladder, key=lambda point: point[1])
    superseded = [point for point in ladder if point != latest]
    return [point for point in due if point not in superseded], superseded
