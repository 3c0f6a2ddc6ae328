"""`borgerbot health`: what an operator must know at a glance, read from the database.

Every replica writes what it learns (a token Slack refuses, an account stopped or paused)
to the database, so this report is the same whichever replica or machine asks, and it
works while the bot itself is stopped. It never shows a token or citizen text.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from bot.models import (
    AccountStatus,
    ChatFollowUp,
    ChatPost,
    Inquiry,
    InquiryState,
    Reply,
    ReplyState,
)
from bot.store import Store
from bot.workflow.chat_health import CHAT


def health_report(store: Store) -> dict[str, Any]:
    """Chat's view of the bot, what waits for chat or a platform, and the accounts not polled."""
    with store.session() as session:
        statuses = session.exec(select(AccountStatus)).all()
        chat = next((s for s in statuses if (s.platform, s.account) == CHAT), None)
        cards = session.exec(select(func.count()).select_from(Inquiry)
                             .where(Inquiry.state == InquiryState.RECEIVED)).one()
        owed = session.exec(select(func.count()).select_from(ChatFollowUp)).one()
        refused = session.exec(select(func.count()).select_from(ChatPost)
                               .where(col(ChatPost.refused) != "", col(ChatPost.ts).is_(None))).one()
        replies = session.exec(select(func.count()).select_from(Reply)
                               .where(Reply.state == ReplyState.PENDING)).one()
        stopped = [{"platform": s.platform, "account": s.account, "reason": s.stopped_reason}
                   for s in statuses if (s.platform, s.account) != CHAT and s.stopped_reason]
    chat_refused = chat.stopped_reason if chat is not None and chat.stopped_reason else None
    return {
        "healthy": chat_refused is None and not stopped,
        "chat": {"refused": chat_refused,
                 "since": chat.updated_at.isoformat() if chat is not None and chat_refused else None},
        "queued": {"cards": cards, "chat_follow_ups": owed, "chat_messages_refused": refused,
                   "replies": replies},
        "accounts_stopped": stopped,
    }


def render(report: dict[str, Any]) -> list[str]:
    """The report as lines for a terminal."""
    chat = report["chat"]
    lines = [f"chat: refused by Slack since {chat['since']} ({chat['refused']}); nothing is posted, "
             "everything stays queued; fix the token or the app" if chat["refused"] else "chat: ok"]
    queued = report["queued"]
    lines.append(f"queued: {queued['cards']} cards not yet in chat, {queued['chat_follow_ups']} chat "
                 f"follow-ups owed, {queued['chat_messages_refused']} messages refused by Slack, "
                 f"{queued['replies']} replies waiting for their platform")
    lines += [f"account {a['platform']}/{a['account']}: stopped ({a['reason']})" for a in report["accounts_stopped"]]
    return lines
