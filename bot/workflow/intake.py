"""New items in: store each exactly once, routed and with its deadline, then show it in chat.

Storing and posting are two steps on purpose. Polling stores items in the same transaction
that moves its cursor, so nothing is lost; posting to chat happens afterwards for every
inquiry still in `received`, so a chat outage delays cards but never loses an inquiry.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from sqlalchemy import bindparam, update
from sqlmodel import Session, col, select

from bot import deadlines, routing, texts
from bot.chat.base import ChatGateway, ChatRef, InquiryView
from bot.errors import ChatError
from bot.models import AccountStatus, Inquiry, InquiryKind, InquiryState
from bot.platforms.base import IncomingItem, OwnReply, target_to_json
from bot.privacy import mask_cpr
from bot.workflow.context import WorkflowContext
from bot.workflow.outbox import Message, Outbox, PostInFlight
from bot.workflow.reminding import Reminding
from bot.workflow.views import card_views

log = logging.getLogger(__name__)

CHANNEL_WORKERS = 8
"""Channels posted to at once; a few database connections, and more than most sweeps need."""

PUBLISH_BATCH = 50
"""Cards of a channel read, claimed and settled together: per-card transactions, not Slack,
were what limited a burst's pace."""

_INQUIRIES = Inquiry.__table__  # type: ignore[attr-defined]


class Intake:
    """Turns platform items into inquiries and inquiries into chat cards."""

    def __init__(self, ctx: WorkflowContext, reminding: Reminding) -> None:
        self.ctx = ctx
        self.reminding = reminding
        self.outbox = Outbox(ctx)

    def ingest(self, session: Session, item: IncomingItem) -> Inquiry | None:
        """Store a new item in the caller's transaction; None when it was already stored."""
        if self.ctx.store.is_stored(session, item.platform, item.external_id):
            return None  # before routing: a poll's overlap window re-reads many repeats
        decision = routing.route(
            self.ctx.rules, item.text, post_text=item.post_text, platform=item.platform, kind=item.kind
        )
        received_at = self.ctx.now()
        inquiry = Inquiry(
            platform=item.platform,
            account=item.account,
            external_id=item.external_id,
            kind=InquiryKind(item.kind),
            author_name=item.author_name,
            author_id=item.author_id,
            text=mask_cpr(item.text),
            post_id=item.post_id,
            post_text=mask_cpr(item.post_text) if item.post_text else item.post_text,
            conversation_id=item.conversation_id,
            permalink=item.permalink,
            reply_target=target_to_json(item.reply_target),
            created_at=item.created_at,
            received_at=received_at,
            route=decision.route,
            urgent=decision.urgent,
            no_reply_needed=decision.no_reply_needed,
            journal_required=decision.journal_required,
            routing_reasons=list(decision.reasons),
            deadline_at=deadlines.due_at(
                self.ctx.policy,
                received_at,
                kind=item.kind,
                platform=item.platform,
                route=decision.route,
                urgent=decision.urgent,
                no_reply_needed=decision.no_reply_needed,
            ),
            updated_at=received_at,
        )
        self.reminding.schedule_new(inquiry)
        stored = self.ctx.store.insert_new_inquiry(session, inquiry)
        if stored is None:
            return None
        self.ctx.record(
            session,
            "received",
            actor=f"platform:{item.platform}",
            inquiry_id=stored.id,
            route=decision.route,
            urgent=decision.urgent,
        )
        log.info(
            "stored inquiry %s platform=%s route=%s urgent=%s",
            stored.id, item.platform, decision.route, decision.urgent,
        )
        return stored

    def record_own_reply(self, session: Session, reply: OwnReply) -> None:
        """Our account answered on the platform (maybe by hand): the inquiry is answered."""
        inquiry = session.exec(
            select(Inquiry).where(
                Inquiry.platform == reply.platform, Inquiry.external_id == reply.answers_external_id
            )
        ).first()
        if inquiry is None or inquiry.reply_external_id == reply.external_id:
            return
        if inquiry.state in (InquiryState.ANSWERED, InquiryState.CLOSED, InquiryState.SENDING):
            return  # a reply in flight is settled by delivery, which asks the platform first
        inquiry.state = InquiryState.ANSWERED
        inquiry.reply_external_id = reply.external_id
        inquiry.answered_at = reply.created_at
        inquiry.next_reminder_at = None
        inquiry.updated_at = self.ctx.now()
        session.add(inquiry)
        self.ctx.record(
            session,
            "answered_on_platform",
            actor=f"platform:{reply.platform}",
            inquiry_id=inquiry.id,
            reply_id=reply.external_id,
        )

    def pause_account(self, platform: str, account: str, until: datetime) -> None:
        """The platform throttles this account: skip its polls until `until`."""
        with self.ctx.store.session() as session:
            status = self._status(session, platform, account)
            status.paused_until, status.updated_at = until, self.ctx.now()
            session.add(status)
        log.warning("account %s/%s throttled; paused until %s", platform, account, until.isoformat())

    def stop_account(self, platform: str, account: str, reason: str) -> None:
        """The token is dead or lacks a permission: stop polling and tell the unit once."""
        with self.ctx.store.session() as session:
            status = self._status(session, platform, account)
            already = bool(status.stopped_reason)
            status.stopped_reason, status.updated_at = reason[:500], self.ctx.now()
            session.add(status)
            if not already:
                self.ctx.record(session, "account_stopped", actor=f"platform:{platform}",
                                      account=account, reason=reason)
        if already:
            return
        log.error("account %s/%s stopped: %s; renew its token, then run `borgerbot accounts resume`",
                  platform, account, reason)
        try:
            self.ctx.chat.notify(self.ctx.setup.comms_channel, texts.account_stopped(platform, account))
        except ChatError as exc:
            log.warning("could not tell the communication unit about %s/%s: %s", platform, account, exc)

    def resume_account(self, platform: str, account: str) -> None:
        """An operator renewed the token: poll the account again."""
        with self.ctx.store.session() as session:
            status = self._status(session, platform, account)
            status.stopped_reason, status.paused_until, status.updated_at = "", None, self.ctx.now()
            session.add(status)
            self.ctx.record(session, "account_resumed", account=account, platform=platform)

    @staticmethod
    def _status(session: Session, platform: str, account: str) -> AccountStatus:
        found = session.get(AccountStatus, (platform, account))
        return found or AccountStatus(platform=platform, account=account)

    def publish_pending(self, limit: int = 500) -> int:
        """Post a card for every stored inquiry not yet in chat; returns how many were posted.

        Slack paces each channel on its own, so each channel gets its own worker: a burst in
        one department's channel then sets the pace of that channel alone, while every
        channel's cards still go out in order, urgent ones first."""
        with self.ctx.store.session() as session:
            pending = session.exec(
                select(Inquiry.id, Inquiry.route)
                .where(Inquiry.state == InquiryState.RECEIVED)
                .order_by(col(Inquiry.urgent).desc(), col(Inquiry.id))
                .limit(limit)
            ).all()
        queues: dict[str, list[int]] = {}
        for inquiry_id, route in pending:
            if inquiry_id is not None:
                queues.setdefault(self.ctx.rules.channel_of(route), []).append(inquiry_id)
        busiest_first = sorted(queues.values(), key=len, reverse=True)
        if len(busiest_first) <= 1:
            return sum(map(self._publish_in_turn, busiest_first))
        with ThreadPoolExecutor(min(CHANNEL_WORKERS, len(busiest_first)), "publish") as pool:
            return sum(pool.map(self._publish_in_turn, busiest_first))

    def _publish_in_turn(self, inquiry_ids: list[int]) -> int:
        """One channel's cards in order; a chat failure stops this channel until the next sweep."""
        posted = 0
        for start in range(0, len(inquiry_ids), PUBLISH_BATCH):
            try:
                posted += self._publish_batch(inquiry_ids[start:start + PUBLISH_BATCH])
            except ChatError as exc:
                log.warning("could not post cards to chat yet (%s inquiries waiting): %s",
                            len(inquiry_ids) - start, exc)
                break
        return posted

    def _publish_batch(self, inquiry_ids: list[int]) -> int:
        """Cards of one channel, read in one transaction and posted through the outbox's batch.

        Each inquiry becomes `posted` in the commit that records its last message, so a crash
        in between leaves it `received` and the next sweep adopts what is already in chat."""
        ctx = self.ctx
        with ctx.store.session() as session:
            inquiries = session.exec(select(Inquiry).where(
                col(Inquiry.id).in_(inquiry_ids), Inquiry.state == InquiryState.RECEIVED)).all()
            views = card_views(ctx, session, inquiries)
        by_id = {inquiry.id or 0: inquiry for inquiry in inquiries}
        cards: list[Message] = []
        posted = 0
        for inquiry_id in inquiry_ids:
            inquiry = by_id.get(inquiry_id)
            if inquiry is None:
                continue  # posted meanwhile
            channel, view = ctx.rules.channel_of(inquiry.route), views[inquiry_id]
            if inquiry.urgent and channel != ctx.setup.comms_channel:
                try:  # urgent cards come first in the queue, and are few
                    self._publish_with_alert(inquiry, channel, view)
                    posted += 1
                except PostInFlight:
                    pass  # another worker is posting this card; the rest need not wait
                continue
            cards.append(Message(f"card:{inquiry_id}", channel, functools.partial(
                _post_card, ctx.chat, channel, view)))
        return posted + self.outbox.post_batch(cards, self._mark_all_posted)

    def _publish_with_alert(self, inquiry: Inquiry, channel: str, view: InquiryView) -> None:
        """An urgent card, then the alert to the communication unit; the inquiry becomes
        `posted` with the alert, so a crash in between posts the alert on the next sweep."""
        ctx, comms, inquiry_id = self.ctx, self.ctx.setup.comms_channel, inquiry.id or 0
        card = self.outbox.post_once(f"card:{inquiry_id}", channel,
                                     functools.partial(_post_card, ctx.chat, channel, view))
        text = texts.urgent_alert  # the link is asked for only when the alert is really posted
        self.outbox.post_once(f"urgent:{inquiry_id}", comms, lambda marker: ctx.chat.notify(
            comms, text(ctx.rules.name_of(inquiry.route), ctx.chat.permalink(card)), marker=marker),
            then=lambda session, _alert: self._mark_all_posted(session, [(f"card:{inquiry_id}", card)]))

    def _mark_all_posted(self, session: Session, cards: Sequence[tuple[str, ChatRef]]) -> None:
        """Records the cards, as a compare-and-set like `WorkflowContext.transition` but in one
        statement for the batch and without reading rows back: this runs for every card."""
        refs = {int(key.removeprefix("card:")): ref for key, ref in cards}
        still = set(session.execute(select(Inquiry.id).where(
            col(Inquiry.id).in_(refs), Inquiry.state == InquiryState.RECEIVED).with_for_update()).scalars())
        for inquiry_id in refs.keys() - still:
            log.warning("inquiry %s moved on while its card was posted", inquiry_id)
        if not still:
            return
        now = self.ctx.now()
        session.execute(
            update(_INQUIRIES)
            .where(_INQUIRIES.c.id == bindparam("card_of"), _INQUIRIES.c.state == InquiryState.RECEIVED)
            .values(state=InquiryState.POSTED, chat_channel=bindparam("card_channel"),
                    chat_ts=bindparam("card_ts"), updated_at=now),
            [{"card_of": i, "card_channel": refs[i].channel, "card_ts": refs[i].ts} for i in sorted(still)],
        )
        self.ctx.store.record_many(session, "posted", at=now, rows=[
            (inquiry_id, {"channel": refs[inquiry_id].channel}) for inquiry_id in sorted(still)])


def _post_card(chat: ChatGateway, channel: str, view: InquiryView, marker: str) -> ChatRef:
    return chat.post_inquiry(channel, view, marker=marker)
