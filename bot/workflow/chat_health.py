"""Whether chat takes the bot at all, stored where every replica and `borgerbot health` see it.

When Slack refuses the bot itself (token invalid or revoked, app deactivated), no message
can go anywhere, so nothing is dropped: cards stay `received`, notes and reminders stay owed,
and the refusal is stored once (logged at ERROR once, by whichever replica saw it first) as
the `AccountStatus` row of the chat platform. Each sweep then tries to post the notice that
chat is back; the first one Slack accepts clears the row in the transaction that stores it,
so the unit hears exactly once that the bot was away, since when, and that nothing was lost.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from bot import texts
from bot.chat.base import ChatRef
from bot.errors import ChatAuthRefused, ChatError
from bot.models import AccountStatus
from bot.workflow.context import WorkflowContext

if TYPE_CHECKING:
    from bot.workflow.outbox import Outbox

log = logging.getLogger(__name__)

CHAT = ("chat", "bot")
"""The `AccountStatus` key of the bot's own chat account."""


def refused(session: Session) -> AccountStatus | None:
    """The stored refusal of the bot by chat, if chat refuses it now."""
    status = session.get(AccountStatus, CHAT)
    return status if status is not None and status.stopped_reason else None


def record_bot_refused(ctx: WorkflowContext, exc: ChatAuthRefused) -> None:
    """Store that chat refuses the bot; the replica that stores it first logs it, once per outage."""
    now, code = ctx.now(), exc.code or "refused"
    platform, account = CHAT
    try:
        with ctx.store.session() as session:
            session.add(AccountStatus(platform=platform, account=account, stopped_reason=code, updated_at=now))
        first = True
    except IntegrityError:
        with ctx.store.session() as session:
            first = session.execute(
                update(AccountStatus)
                .where(col(AccountStatus.platform) == platform, col(AccountStatus.account) == account,
                       col(AccountStatus.stopped_reason) == "")
                .values(stopped_reason=code, updated_at=now)
            ).rowcount == 1  # type: ignore[attr-defined]
    if first:
        log.error("Slack refuses the bot itself (%s): nothing can be posted; everything stays "
                  "queued until the token or the app is fixed", code)


class ChatHealth:
    """Announces once that chat takes the bot again (the refusal is stored by the outbox)."""

    def __init__(self, ctx: WorkflowContext, outbox: Outbox) -> None:
        self.ctx = ctx
        self.outbox = outbox

    def announce_recovery(self) -> bool:
        """While chat refuses the bot, try the notice that it is back; True once it is posted."""
        with self.ctx.store.session() as session:
            status = refused(session)
        if status is None:
            return False
        since, code, channel = status.updated_at, status.stopped_reason, self.ctx.setup.comms_channel

        def post(marker: str) -> ChatRef:
            return self.ctx.chat.notify(channel, texts.chat_back(code, since, self.ctx.now(), self.ctx.tz),
                                        marker=marker)

        def cleared(session: Session, _ref: ChatRef) -> None:
            session.execute(update(AccountStatus).where(
                col(AccountStatus.platform) == CHAT[0], col(AccountStatus.account) == CHAT[1])
                .values(stopped_reason="", updated_at=self.ctx.now()))

        try:  # one outage, one key: its start is stored once and never handed out again
            self.outbox.post_once(f"chat-back:{since.isoformat()}", channel, post, then=cleared)
        except ChatError as exc:
            log.info("chat still refuses the bot: %s", exc)
            return False
        log.warning("Slack takes the bot again after refusing it (%s) since %s", code, since.isoformat())
        return True
