"""What chat owes a committed change is carried out until chat has it.

A change commits first and chat is told after, so a crash or a Slack outage in between
would leave a card showing an old state (or buttons for an inquiry answered by hand on the
platform), lose the note that tells a department why its draft came back, or keep a moved
inquiry out of its new department's channel. The change therefore stores what it owes as
`ChatFollowUp` rows in its own transaction (`WorkflowContext.owe_redraw`, `owe_note`,
`owe_move`). The code that made the change carries them out at once; the sweep carries out
what is left, backing off while chat keeps failing.

A redraw row is deleted by the redraw that drew the state it was stored with. A note is
posted through the outbox under its row's random key (never its id: SQLite hands a deleted
row's id to the next row, whose note would be skipped as posted), and the row is deleted in the transaction
that stores the note's `ts`, so a note reaches chat once however often it is tried; the
card of a move is posted under a key of its own the same way.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from bot.chat.base import ChatRef
from bot.errors import ChatError
from bot.models import ChatFollowUp, Event
from bot.workflow.chat_health import ChatHealth
from bot.workflow.context import MOVE, REDRAW, WorkflowContext
from bot.workflow.presenter import Presenter

log = logging.getLogger(__name__)

FIRST_WAIT = timedelta(seconds=30)
LONGEST_WAIT = timedelta(minutes=15)
GIVE_UP_AFTER = timedelta(days=2)
"""A note two days late is news to nobody, and a card that long unreachable was deleted."""

SWEEP_LIMIT = 200


def wait_after(attempts: int) -> timedelta:
    """Doubling from 30 s to at most 15 min: an outage of Slack is not hammered."""
    doublings = min(max(attempts - 1, 0), 5)
    return min(FIRST_WAIT * (1 << doublings), LONGEST_WAIT)


class FollowUps:
    """Carries out stored follow-ups: at once for the change that owes them, later by the sweep."""

    def __init__(self, ctx: WorkflowContext, presenter: Presenter) -> None:
        self.ctx = ctx
        self.presenter = presenter
        self.health = ChatHealth(ctx, presenter.outbox)

    def carry_out_now(self, follow_up_id: int) -> None:
        """Carry out a follow-up right after the commit that stored it; if chat fails, the sweep will."""
        if self._claim(follow_up_id, seen_attempts=0):
            self._carry_out(follow_up_id)

    def run_due(self) -> int:
        """Carry out the follow-ups that are due, oldest first; returns how many chat now has.
        While chat refuses the bot, first try the notice that it is back (it posts once it is)."""
        self.health.announce_recovery()
        now = self.ctx.now()
        with self.ctx.store.session() as session:
            due = session.exec(
                select(ChatFollowUp.id, ChatFollowUp.attempts)
                .where(col(ChatFollowUp.due_at) <= now)
                .order_by(col(ChatFollowUp.due_at))
                .limit(SWEEP_LIMIT)
            ).all()
        return sum(1 for follow_up_id, attempts in due
                   if follow_up_id is not None and self._claim(follow_up_id, attempts)
                   and self._carry_out(follow_up_id))

    def _claim(self, follow_up_id: int, seen_attempts: int) -> bool:
        """Count the attempt and push the next one out, if nobody else got there first."""
        now = self.ctx.now()
        with self.ctx.store.session() as session:
            taken = session.execute(
                update(ChatFollowUp)
                .where(col(ChatFollowUp.id) == follow_up_id, col(ChatFollowUp.attempts) == seen_attempts)
                .values(attempts=seen_attempts + 1, due_at=now + wait_after(seen_attempts + 1))
            )
        return bool(taken.rowcount == 1)  # type: ignore[attr-defined]

    def _carry_out(self, follow_up_id: int) -> bool:
        with self.ctx.store.session() as session:
            follow_up = session.get(ChatFollowUp, follow_up_id)
        if follow_up is None:
            return False  # done meanwhile, by a redraw or by another replica
        if self.ctx.now() - follow_up.created_at > GIVE_UP_AFTER:
            self._give_up(follow_up)
            return False
        if follow_up.kind == REDRAW:
            return follow_up.inquiry_id is not None and self.presenter.refresh(follow_up.inquiry_id)
        try:
            if follow_up.kind == MOVE:
                self._show_move(follow_up)
            else:
                self._post(follow_up)
        except ChatError as exc:
            log.warning("%s %s not in chat yet (attempt %s): %s",
                        follow_up.kind, follow_up_id, follow_up.attempts, exc)
            return False
        return True

    def _show_move(self, move: ChatFollowUp) -> None:
        """The card in the new channel (once, whatever the repeats) and the old one frozen, as
        the newest move recorded says; the row goes once chat shows both."""
        inquiry_id = move.inquiry_id or 0
        with self.ctx.store.session() as session:
            moved = session.exec(select(Event).where(Event.inquiry_id == inquiry_id, Event.action == "moved")
                                 .order_by(col(Event.id).desc())).first()
        if moved is not None:
            old_card = ChatRef(move.channel, move.thread_ts) if move.thread_ts else None
            self.presenter.show_moved(inquiry_id, old_card, str(moved.detail.get("from_route", "")), moved.actor)
        with self.ctx.store.session() as session:
            session.execute(delete(ChatFollowUp).where(col(ChatFollowUp.id) == move.id))

    def _post(self, note: ChatFollowUp) -> None:
        chat, note_id = self.ctx.chat, note.id or 0
        thread = ChatRef(note.channel, note.thread_ts) if note.thread_ts is not None else None

        def post(marker: str) -> ChatRef:
            if thread is not None:
                return chat.post_in_thread(thread, note.text, marker=marker)
            return chat.notify(note.channel, note.text, marker=marker)

        def posted(session: Session, _ref: ChatRef) -> None:
            session.execute(delete(ChatFollowUp).where(col(ChatFollowUp.id) == note_id))

        self.presenter.outbox.post_once(note.key, note.channel, post,
                                        thread_ts=note.thread_ts, then=posted)

    def _give_up(self, follow_up: ChatFollowUp) -> None:
        """Chat failed for two days: stop trying, and say so where the operator looks."""
        with self.ctx.store.session() as session:
            session.execute(delete(ChatFollowUp).where(col(ChatFollowUp.id) == follow_up.id))
        log.error("gave up on chat follow-up %s (%s of inquiry %s): chat refused it %s times in %s days",
                  follow_up.id, follow_up.kind, follow_up.inquiry_id, follow_up.attempts - 1,
                  GIVE_UP_AFTER.days)
