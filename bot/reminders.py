"""The periodic sweep: due reminders and escalations, queued replies, cards not yet in chat,
and what chat still owes a change (redraws and notes that failed or were cut off by a crash).

It takes `now` and is safe to run twice or on two replicas at once: every outcome is
claimed in the database before it happens (see `bot.workflow.reminding`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from bot.models import Inquiry
from bot.workflow import Workflow
from bot.workflow.intake import PUBLISH_BUDGET_SECONDS


@dataclass(frozen=True)
class SweepOutcome:
    reminders: int
    replies_sent: int
    cards_posted: int
    chat_followups: int


def due_inquiries(workflow: Workflow, now: datetime, limit: int = 1000) -> list[int]:
    """Inquiries with a reminder point at or before `now`, soonest first.

    The next-reminder index alone answers this: every transition out of the open states
    clears `next_reminder_at`, and a state filter here would tempt the planner onto the
    state index, reading every open inquiry on each sweep.
    """
    with workflow.ctx.store.session() as session:
        found = session.exec(
            select(Inquiry.id)
            .where(col(Inquiry.next_reminder_at) <= now)
            .order_by(col(Inquiry.next_reminder_at))
            .limit(limit)
        ).all()
    return [inquiry_id for inquiry_id in found if inquiry_id is not None]


def sweep(workflow: Workflow, now: datetime, *,
          posting_budget: float = PUBLISH_BUDGET_SECONDS) -> SweepOutcome:
    """One pass at `now`: post pending cards first (for `posting_budget` seconds at most, when
    a burst has piled up), so reminders always have a thread."""
    posted = workflow.intake.publish_pending(posting_budget)
    workflow.chat_inbox.recover_missed_replies(now)
    workflow.decisions.request_missing_approvals()
    reminders = sum(workflow.reminding.run_due(inquiry_id, now) for inquiry_id in due_inquiries(workflow, now))
    replies = workflow.delivery.retry_pending()
    followups = workflow.followups.run_due()
    return SweepOutcome(reminders=reminders, replies_sent=replies, cards_posted=posted,
                        chat_followups=followups)
