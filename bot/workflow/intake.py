"""New items in: store each exactly once, routed and with its deadline, then show it in chat.

Storing and posting are two steps on purpose. Polling stores items in the same transaction
that moves its cursor, so nothing is lost; posting to chat happens afterwards for every
inquiry still in `received`, so a chat outage delays cards but never loses an inquiry.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, update
from sqlmodel import Session, col, select

from bot import deadlines, routing, texts
from bot.chat.base import ChatGateway, ChatRef, InquiryView
from bot.errors import ChatAuthRefused, ChatError
from bot.models import AccountStatus, ChatPost, Inquiry, InquiryKind, InquiryState
from bot.platforms.base import IncomingItem, OwnReply, SetAside, target_to_json
from bot.platforms.http import STOPPING
from bot.privacy import mask_cpr, slack_escape
from bot.workflow.context import WorkflowContext
from bot.workflow.followups import FollowUps
from bot.workflow.outbox import Message, Outbox, PostInFlight
from bot.workflow.reminding import Reminding
from bot.workflow.views import card_views, on_call

log = logging.getLogger(__name__)

CHANNEL_WORKERS = 4
"""Channels posted to at once. At Slack's pace of about a message a second per channel a few
workers keep up with every channel; when a burst makes this process the limit instead, the
busiest channel, which decides when the burst is over, keeps its pace because it shares the
process with three others rather than with every channel (measured by bench/load.py)."""

PUBLISH_BUDGET_SECONDS = 45.0
"""How long one sweep goes on posting a backlog before its other duties (reminders, queued
replies) get their turn; the scheduler passes a share of its sweep interval instead."""

PUBLISH_BATCH = 50
"""Cards of a channel read, claimed and settled together: per-card transactions, not Slack,
were what limited a burst's pace."""

_INQUIRIES = Inquiry.__table__  # type: ignore[attr-defined]


class Intake:
    """Turns platform items into inquiries and inquiries into chat cards."""

    def __init__(self, ctx: WorkflowContext, reminding: Reminding, followups: FollowUps) -> None:
        self.ctx = ctx
        self.reminding = reminding
        self.followups = followups
        self.outbox = Outbox(ctx)
        self._passed_over: set[str] = set()  # channels a sweep's budget ran out before
        self._told_aside: set[tuple[str, str, str]] = set()  # items this process reported

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
        self.ctx.owe_redraw(session, inquiry.id or 0, by_sweep=True)  # its buttons must go
        self.ctx.record(
            session,
            "answered_on_platform",
            actor=f"platform:{reply.platform}",
            inquiry_id=inquiry.id,
            reply_id=reply.external_id,
        )

    def set_aside(self, platform: str, account: str, stream: str, aside: SetAside) -> None:
        """An item that cannot be read or stored: one ERROR line and one Danish notice to the
        unit, so a person looks at it on the platform; the poll goes on without it.

        Reported once per process and item: a re-read overlap window must not repeat it."""
        key = (platform, account, aside.external_id)
        log.error("%s/%s %s: item %s set aside, it could not be stored: %s; "
                  "look at it on the platform, the rest of the poll went on",
                  platform, account, stream, aside.external_id, aside.reason)
        if key in self._told_aside:
            return
        self._told_aside.add(key)
        with self.ctx.store.session() as session:
            self.ctx.record(session, "item_set_aside", actor=f"platform:{platform}", account=account,
                            stream=stream, external_id=aside.external_id, reason=aside.reason)
            note = self.ctx.owe_note(session, self.ctx.setup.comms_channel,
                                     texts.item_set_aside(platform, slack_escape(account),
                                                          slack_escape(aside.external_id[:100])))
        self.followups.carry_out_now(note)

    def pause_account(self, platform: str, account: str, until: datetime,
                      capped: bool = False) -> None:
        """The platform throttles this account: skip its polls until `until`.

        A spent usage cap (`capped`) lasts until someone acts or the month turns, so the unit
        is told, once per cap: the next poll that reads again ends it (`pause_over`).
        """
        note = None
        with self.ctx.store.session() as session:
            status = self._status(session, platform, account)
            status.paused_until, status.updated_at = until, self.ctx.now()
            if capped and not status.pause_notice:
                status.pause_notice = "usage_capped"
                note = self.ctx.owe_note(session, self.ctx.setup.comms_channel,
                                         texts.usage_capped(platform, account, until))
            session.add(status)
        if note is not None:
            log.error("account %s/%s: the platform's usage cap is spent; asking again at %s",
                      platform, account, until.isoformat())
        else:
            log.warning("account %s/%s throttled; paused until %s", platform, account,
                        until.isoformat())
        if note is not None:
            self.followups.carry_out_now(note)

    def pause_over(self, session: Session, platform: str, account: str) -> None:
        """A poll read again: a later cap is news again."""
        status = session.get(AccountStatus, (platform, account))
        if status is not None and status.pause_notice:
            status.pause_notice = ""
            session.add(status)
            log.info("account %s/%s reads again after its usage cap", platform, account)

    def stop_account(self, platform: str, account: str, reason: str) -> None:
        """The token is dead or lacks a permission: stop polling and tell the unit once."""
        with self.ctx.store.session() as session:
            status = self._status(session, platform, account)
            already = bool(status.stopped_reason)
            status.stopped_reason, status.updated_at = reason[:500], self.ctx.now()
            session.add(status)
            if already:
                return
            self.ctx.record(session, "account_stopped", actor=f"platform:{platform}",
                            account=account, reason=reason)
            note = self.ctx.owe_note(session, self.ctx.setup.comms_channel,
                                     texts.account_stopped(platform, account))
        log.error("account %s/%s stopped: %s; renew its token, then run `borgerbot accounts resume`",
                  platform, account, reason)
        self.followups.carry_out_now(note)

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

    def publish_pending(self, budget_seconds: float = PUBLISH_BUDGET_SECONDS) -> int:
        """Post a card for every stored inquiry not yet in chat; returns how many were posted.

        Slack paces each channel on its own, so channels are posted to side by side, each by
        one worker going through its channel's queue until it is empty or `budget_seconds`
        have passed: a burst in one department's channel then sets the pace of that channel
        alone, and holds the sweep's other duties back for about the budget. Each channel's
        cards go out in order, urgent ones first; their alerts to the communication unit go
        through a lane of their own, so the unit's channel paces the alerts without holding
        up the departments' cards."""
        deadline = time.monotonic() + budget_seconds
        with self.ctx.store.session() as session:
            waiting = session.exec(select(Inquiry.route, func.count()).where(
                Inquiry.state == InquiryState.RECEIVED).group_by(col(Inquiry.route))).all()
        routes_of: dict[str, list[str]] = {}
        backlog: Counter[str] = Counter()
        for route, count in waiting:
            channel = self.ctx.rules.channel_of(route)
            routes_of.setdefault(channel, []).append(route)
            backlog[channel] += count
        if not backlog:
            return 0
        turns = self._turns(backlog)
        with ThreadPoolExecutor(1, "alerts") as alert_thread:
            alerts = _AlertLane(self._post_alerts, alert_thread)
            with ThreadPoolExecutor(min(CHANNEL_WORKERS, len(turns)), "publish") as pool:
                cards = sum(pool.map(functools.partial(self._publish_channel, deadline=deadline, alerts=alerts),
                                     turns, [routes_of[channel] for channel in turns]))
            alerted = alerts.posted()
        return cards + alerted + self._alert_cardless_urgent()

    def _alert_cardless_urgent(self) -> int:
        """Urgent inquiries still without a card after this sweep's turn (their channel is
        missing, Slack refused, the budget ran out) alert the unit now, without the card's
        link: urgency never waits for the card. The alert's outbox key is the one the card's
        own alert uses, so once the card is posted no second alert goes out. An urgent card
        already in chat whose alert failed is left to the card's own alert lane, which posts
        it with the card's link in the next sweep."""
        ctx, comms = self.ctx, self.ctx.setup.comms_channel
        with ctx.store.session() as session:
            waiting = [inquiry for inquiry in session.exec(select(Inquiry).where(
                Inquiry.state == InquiryState.RECEIVED, col(Inquiry.urgent)).order_by(col(Inquiry.id)))
                if ctx.rules.channel_of(inquiry.route) != comms]
            keys = [f"{kind}:{i.id}" for i in waiting for kind in ("urgent", "card")]
            done = {row.key for row in session.exec(select(ChatPost).where(
                col(ChatPost.key).in_(keys), col(ChatPost.ts).is_not(None)))}
        contact, posted = on_call(ctx), 0
        for inquiry in (i for i in waiting if not {f"urgent:{i.id}", f"card:{i.id}"} & done):
            text = texts.urgent_alert_without_card(ctx.rules.name_of(inquiry.route), contact)
            try:
                self.outbox.post_once(f"urgent:{inquiry.id}", comms, functools.partial(
                    lambda body, marker: ctx.chat.notify(comms, body, marker=marker), text))
            except PostInFlight:
                continue
            except ChatError as exc:
                log.error("could not alert the communication unit to urgent inquiry %s: %s", inquiry.id, exc)
                break
            log.warning("urgent inquiry %s alerted before its card is in chat", inquiry.id)
            posted += 1
        return posted

    def _report_card_failure(self, channel: str, first: int, exc: ChatError) -> None:
        """A channel's cards cannot be posted: the unit hears of it once per stuck card (the
        first of the batch that failed), with what to do; the cards wait and go out later.
        Slack refusing the bot itself is not a channel's problem: `chat_health` reports that
        once, and every channel's cards wait for it."""
        if isinstance(exc, ChatAuthRefused):
            return
        log.error("cards for %s cannot be posted (inquiry %s first): %s; check that the channel "
                  "exists and the bot is a member", channel, first, exc)
        text = texts.cards_not_posted(slack_escape(channel), slack_escape(str(exc)[:200]))
        comms = self.ctx.setup.comms_channel
        try:
            self.outbox.post_once(f"card-failed:{first}", comms,
                                  lambda marker: self.ctx.chat.notify(comms, text, marker=marker))
        except (ChatError, PostInFlight) as again:
            log.error("could not tell the communication unit either: %s", again)

    def _turns(self, backlog: Counter[str]) -> list[str]:
        """The order channels get a worker in: those the last sweep's budget ran out before,
        so none waits behind busier ones for ever; then the busiest first, as the busiest
        decides when a burst is over and the quieter ones finish behind it anyway."""
        return sorted(backlog, key=lambda channel: (channel not in self._passed_over, -backlog[channel]))

    def _publish_channel(self, channel: str, routes: list[str], deadline: float, alerts: _AlertLane) -> int:
        """One channel's cards, a batch at a time; a chat failure stops this channel until the
        next sweep."""
        if time.monotonic() >= deadline or STOPPING.is_set():
            self._passed_over.add(channel)
            return 0
        self._passed_over.discard(channel)
        position = _QueuePosition()
        posted = 0

        def out_of_time() -> bool:
            return time.monotonic() >= deadline or STOPPING.is_set()  # SIGTERM: stop posting

        while batch := self._next_batch(routes, position):
            try:
                posted += self._publish_batch(batch, alerts, out_of_time)
            except PostInFlight:
                break  # another replica is posting these cards
            except ChatError as exc:
                self._report_card_failure(channel, batch[0], exc)
                break
            if out_of_time():
                break
        return posted

    def _next_batch(self, routes: list[str], position: _QueuePosition) -> list[int]:
        """The channel's next cards in queue order: urgent ones first, then the others, each
        after the last one this worker tried (ids only grow, so urgent ones stored meanwhile
        still come first; one skipped because it was in flight waits for the next sweep)."""
        waiting = select(Inquiry.id).where(Inquiry.state == InquiryState.RECEIVED,
                                           col(Inquiry.route).in_(routes)).order_by(col(Inquiry.id))
        with self.ctx.store.session() as session:
            urgent = [found for found in session.exec(
                waiting.where(col(Inquiry.urgent), col(Inquiry.id) > position.urgent).limit(PUBLISH_BATCH))
                if found is not None]
            room = PUBLISH_BATCH - len(urgent)
            others = [found for found in session.exec(
                waiting.where(col(Inquiry.urgent).is_(False), col(Inquiry.id) > position.other).limit(room))
                if found is not None] if room else []
        position.urgent = max(urgent, default=position.urgent)
        position.other = max(others, default=position.other)
        return urgent + others

    def _publish_batch(self, inquiry_ids: list[int], alerts: _AlertLane, out_of_time: Callable[[], bool]) -> int:
        """Cards of one channel, read in one transaction and posted through the outbox's batch.

        Each inquiry becomes `posted` in the commit that records its last message, so a crash
        in between leaves it `received` and the next sweep adopts what is already in chat."""
        ctx = self.ctx
        with ctx.store.session() as session:
            inquiries = session.exec(select(Inquiry).where(
                col(Inquiry.id).in_(inquiry_ids), Inquiry.state == InquiryState.RECEIVED)).all()
            views = card_views(ctx, session, inquiries)
        by_id = {inquiry.id: inquiry for inquiry in inquiries}
        cards: list[Message] = []
        alerted: dict[str, Inquiry] = {}
        for inquiry in (by_id[i] for i in inquiry_ids if i in by_id):  # the rest were posted meanwhile
            key, channel = f"card:{inquiry.id}", ctx.rules.channel_of(inquiry.route)
            cards.append(Message(key, channel, functools.partial(_post_card, ctx.chat, channel,
                                                                 views[inquiry.id or 0])))
            if inquiry.urgent and channel != ctx.setup.comms_channel:
                alerted[key] = inquiry  # becomes `posted` with its alert, see `_post_alert`

        def mark_posted(session: Session, done: Sequence[tuple[str, ChatRef]]) -> None:
            self._mark_all_posted(session, [(key, ref) for key, ref in done if key not in alerted])

        def alert(key: str, card: ChatRef) -> None:
            if key in alerted:
                alerts.announce(alerted[key], card)

        return self.outbox.post_batch(cards, mark_posted, as_posted=alert, out_of_time=out_of_time)

    def _post_alerts(self, cards: Sequence[tuple[Inquiry, ChatRef]]) -> int:
        """Alerts for urgent cards already in chat, through the outbox's batch; each inquiry
        becomes `posted` with its alert, so a crash or failure in between posts the alert on
        the next sweep. Returns how many went out."""
        ctx, comms, contact = self.ctx, self.ctx.setup.comms_channel, on_call(self.ctx)
        card_of = {f"urgent:{inquiry.id}": (f"card:{inquiry.id}", card) for inquiry, card in cards}

        def alert(inquiry: Inquiry, card: ChatRef, marker: str) -> ChatRef:
            # the link is asked for only when the alert is really posted
            link = ctx.chat.permalink(card)
            return ctx.chat.notify(comms, texts.urgent_alert(ctx.rules.name_of(inquiry.route), link, contact),
                                   marker=marker)

        def mark_posted(session: Session, done: Sequence[tuple[str, ChatRef]]) -> None:
            self._mark_all_posted(session, [card_of[key] for key, _alert in done])

        try:
            return self.outbox.post_batch(
                [Message(f"urgent:{inquiry.id}", comms, functools.partial(alert, inquiry, card))
                 for inquiry, card in cards], mark_posted)
        except ChatError as exc:
            log.warning("could not alert the communication unit to %s urgent inquiries yet: %s", len(cards), exc)
            return 0

    def _mark_all_posted(self, session: Session, cards: Sequence[tuple[str, ChatRef]]) -> None:
        """Records the cards, as a compare-and-set like `WorkflowContext.transition` but in one
        statement for the batch and without reading rows back: this runs for every card."""
        refs = {int(key.removeprefix("card:")): ref for key, ref in cards}
        if not refs:
            return
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


@dataclass
class _QueuePosition:
    """The last urgent and other inquiry a channel's worker has tried in this sweep."""

    urgent: int = 0
    other: int = 0


class _AlertLane:
    """Urgent alerts to the communication unit, from one thread of their own: in the order
    their cards went out, as many at a time as piled up while the previous ones were posted."""

    def __init__(self, post: Callable[[Sequence[tuple[Inquiry, ChatRef]]], int],
                 thread: ThreadPoolExecutor) -> None:
        self._post = post
        self._thread = thread
        self._waiting: list[tuple[Inquiry, ChatRef]] = []
        self._runs: list[Future[int]] = []
        self._guard = threading.Lock()

    def announce(self, inquiry: Inquiry, card: ChatRef) -> None:
        with self._guard:
            self._waiting.append((inquiry, card))
            self._runs.append(self._thread.submit(self._post_waiting))

    def _post_waiting(self) -> int:
        with self._guard:
            batch, self._waiting = self._waiting, []
        return self._post(batch) if batch else 0

    def posted(self) -> int:
        """How many alerts went out; waits for those still queued."""
        with self._guard:
            runs = list(self._runs)
        return sum(run.result() for run in runs)


def _post_card(chat: ChatGateway, channel: str, view: InquiryView, marker: str) -> ChatRef:
    return chat.post_inquiry(channel, view, marker=marker)
