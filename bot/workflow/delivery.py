"""Sends approved replies to the platform, at most once, whatever crashes or repeats.

The reply row with its idempotency key is committed before any network call. Before a
second attempt the platform is asked whether our reply is already there, so a crash between
the platform's acceptance and our own write never leads to a second reply.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import or_, update
from sqlmodel import col, select

from bot.errors import (
    AuthExpired,
    DuplicateRejected,
    ObjectGone,
    PlatformError,
    PlatformUnavailable,
    RateLimited,
)
from bot.models import InquiryState, Reply, ReplyState
from bot.platforms.base import SentReply, target_from_json
from bot.workflow.context import WorkflowContext
from bot.workflow.followups import FollowUps
from bot.workflow.presenter import Presenter
from bot.workflow.views import GONE

log = logging.getLogger(__name__)

CLAIM = timedelta(minutes=2)  # longer than any platform call with its retries
BACKOFF = timedelta(minutes=1)  # wait after an outage before the sweep tries again
FAILURE_KINDS = {ObjectGone: GONE, AuthExpired: "auth", DuplicateRejected: "duplicate"}


class Delivery:
    """Owns the path of an approved reply from the database to the citizen."""

    def __init__(self, ctx: WorkflowContext, presenter: Presenter, followups: FollowUps) -> None:
        self.ctx = ctx
        self.presenter = presenter
        self.followups = followups

    def send(self, reply_id: int) -> bool:
        """Try to deliver one pending reply; True once the platform has it.

        The claim (`claimed_until`) makes one process the only sender for a while, so a
        double click, a sweep and a second replica can never post the same reply twice.
        """
        ctx = self.ctx
        now = ctx.now()
        with ctx.store.session() as session:
            claimed = session.execute(
                update(Reply)
                .where(
                    col(Reply.id) == reply_id,
                    col(Reply.state) == ReplyState.PENDING,
                    or_(col(Reply.claimed_until).is_(None), col(Reply.claimed_until) <= now),
                )
                .values(attempts=col(Reply.attempts) + 1, claimed_until=now + CLAIM)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return False
            reply = session.get(Reply, reply_id)
            assert reply is not None
            session.refresh(reply)
            inquiry = ctx.load(session, reply.inquiry_id)
            first_attempt = reply.attempts == 1
        client = ctx.client_for(inquiry)
        if client is None:
            self._fail(reply_id, "auth")
            return False
        target = target_from_json(inquiry.reply_target)
        try:
            sent = None if first_attempt else client.find_reply(target, reply.idempotency_key)
            if sent is None:
                sent = client.send_reply(target, reply.text, reply.idempotency_key)
        except RateLimited as exc:
            self._postpone(reply_id, "rate limited", timedelta(seconds=exc.retry_after))
            return False
        except PlatformUnavailable as exc:
            self._postpone(reply_id, type(exc).__name__, BACKOFF)
            return False
        except PlatformError as exc:
            self._fail(reply_id, FAILURE_KINDS.get(type(exc), "refused"))
            return False
        self._delivered(reply_id, sent)
        return True

    def retry_pending(self) -> int:
        """Give every queued reply another try (called by the sweep); returns how many went out."""
        with self.ctx.store.session() as session:
            pending = session.exec(
                select(Reply.id).where(Reply.state == ReplyState.PENDING).order_by(col(Reply.id))
            ).all()
        return len([reply_id for reply_id in filter(None, pending) if self.send(reply_id)])

    def retry_failed(self, inquiry_id: int, actor: str) -> None:
        """An officer pressed retry after a refusal: queue the same text again under a new attempt."""
        with self.ctx.store.session() as session:
            self.ctx.require_officer(session, actor, "retry", inquiry_id)
            reply = session.exec(
                select(Reply).where(Reply.inquiry_id == inquiry_id).order_by(col(Reply.id).desc())
            ).first()
            if reply is None:
                return
            self.ctx.transition(session, inquiry_id, [InquiryState.SEND_FAILED], InquiryState.SENDING)
            reply.state, reply.claimed_until = ReplyState.PENDING, None
            session.add(reply)
            self.ctx.record(session, "retry", actor=actor, inquiry_id=inquiry_id, reply_id=reply.id)
            reply_id = reply.id or 0
        self.presenter.refresh(inquiry_id)
        self.send(reply_id)

    def _delivered(self, reply_id: int, sent: SentReply) -> None:
        now = self.ctx.now()
        with self.ctx.store.session() as session:
            reply = session.get(Reply, reply_id)
            assert reply is not None
            reply.state, reply.external_id, reply.sent_at = ReplyState.SENT, sent.external_id, now
            reply.claimed_until = None
            session.add(reply)
            inquiry = self.ctx.transition(
                session,
                reply.inquiry_id,
                [InquiryState.SENDING],
                InquiryState.ANSWERED,
                reply_external_id=sent.external_id,
                answered_at=now,
                next_reminder_at=None,
            )
            self.ctx.record(
                session, "sent", inquiry_id=reply.inquiry_id, reply_id=reply_id,
                external_id=sent.external_id,
                permalink=sent.permalink or inquiry.permalink,  # Graph gives none: the thread shows it
            )
            inquiry_id = reply.inquiry_id
        log.info("reply %s for inquiry %s accepted by the platform", reply_id, inquiry_id)
        self.presenter.refresh(inquiry_id)

    def _postpone(self, reply_id: int, why: str, wait: timedelta) -> None:
        """Keep the reply queued; the sweep tries again once `wait` has passed."""
        with self.ctx.store.session() as session:
            reply = session.get(Reply, reply_id)
            assert reply is not None
            reply.last_error, reply.claimed_until = why, self.ctx.now() + wait
            session.add(reply)
        log.warning("reply %s queued for another try: %s", reply_id, why)

    def _fail(self, reply_id: int, reason: str) -> None:
        """The platform refused for good: show the reason and a retry button; never resend alone.
        A comment or conversation that is gone can never be answered, so that inquiry closes
        (its reminders stop) instead of offering a retry that cannot succeed."""
        with self.ctx.store.session() as session:
            reply = session.get(Reply, reply_id)
            assert reply is not None
            reply.state, reply.last_error = ReplyState.FAILED, reason[:500]
            reply.claimed_until = None
            session.add(reply)
            self.ctx.record(
                session, "send_failed", inquiry_id=reply.inquiry_id, reply_id=reply_id, reason=reason
            )
            if reason == GONE:
                inquiry = self.ctx.transition(session, reply.inquiry_id, [InquiryState.SENDING],
                                              InquiryState.CLOSED, next_reminder_at=None)
                self.ctx.record(session, "closed", actor=f"platform:{inquiry.platform}",
                                inquiry_id=reply.inquiry_id, reason=GONE)
            else:
                inquiry = self.ctx.transition(session, reply.inquiry_id, [InquiryState.SENDING],
                                              InquiryState.SEND_FAILED)
            note = self.presenter.owe_send_failed_note(session, inquiry, reason)
            inquiry_id = reply.inquiry_id
        self.presenter.refresh(inquiry_id)
        if note is not None:
            self.followups.carry_out_now(note)
