"""What the demo shows afterwards, read from where it really landed: the fake Slack and the
platform sandboxes, not from the bot's own bookkeeping."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlmodel import col, select

from bot.demo.world import SandboxWorld
from bot.models import (
    Decision,
    DecisionKind,
    Event,
    Inquiry,
    InquiryState,
    Reminder,
    Reply,
    ReplyState,
)
from bot.privacy import strip_invisible

REMINDER_ACTIONS = ("reminded",)
ESCALATION_ACTIONS = ("escalated",)


def platform_text(world: SandboxWorld, platform: str, external_id: str) -> str | None:
    """The text of our reply as the platform sandbox holds it (None when it is not there)."""
    if platform in ("facebook", "instagram"):
        try:
            node = world.graph.get_node(external_id)
        except KeyError:
            return None
        return None if node["deleted"] else strip_invisible(str(node["text"]))
    if platform == "linkedin":
        comment = world.linkedin.comments.get(external_id)
        return None if comment is None or comment.deleted else comment.text
    tweet = world.x.state.tweets.get(external_id)
    if tweet is not None:
        return None if tweet.deleted else tweet.text
    return next((event.text for event in world.x.state.dms if event.id == external_id), None)


def inquiry_row(world: SandboxWorld, inquiry: Inquiry, source_id: str | None) -> dict[str, Any]:
    """One inquiry's whole path: what was posted, reminded and finally sent to the citizen."""
    posted: dict[str, Any] | None = None
    if inquiry.chat_channel and inquiry.chat_ts:
        first = world.slack.versions(inquiry.chat_channel, inquiry.chat_ts)[:1]
        if first:
            posted = {"text": first[0].get("text", ""), "blocks": first[0].get("blocks", [])}
    reply: dict[str, Any] | None = None
    if inquiry.reply_external_id:
        text = platform_text(world, inquiry.platform, inquiry.reply_external_id)
        with world.store.session() as session:
            decision = session.exec(
                select(Decision).where(
                    Decision.inquiry_id == inquiry.id, Decision.kind != DecisionKind.REJECTED
                ).order_by(col(Decision.id).desc())
            ).first()
        reply = {
            "text": text,
            "external_id": inquiry.reply_external_id,
            "approved_by": decision.decided_by if decision else None,
            "at": inquiry.answered_at.isoformat() if inquiry.answered_at else None,
        }
    with world.store.session() as session:
        sent = session.exec(
            select(Reminder).where(
                Reminder.inquiry_id == inquiry.id, col(Reminder.sent_at).is_not(None),
                col(Reminder.skipped).is_(False),
            )
            .order_by(col(Reminder.sent_at))
        ).all()
        failed = session.exec(
            select(Reply).where(Reply.inquiry_id == inquiry.id).order_by(col(Reply.id).desc())
        ).first()
    reminders = [{"kind": r.kind, "at": r.sent_at.isoformat() if r.sent_at else None} for r in sent]
    send_failure = failed.last_error if failed is not None and failed.state is ReplyState.FAILED else None
    return {
        "id": source_id or str(inquiry.id),
        "route": inquiry.route,
        "urgent": inquiry.urgent,
        "no_reply_needed": inquiry.no_reply_needed,
        "deadline": inquiry.deadline_at.isoformat() if inquiry.deadline_at else None,
        "channel": world.config.rules.channel_of(inquiry.route),
        "posted": posted,
        "reminders": reminders,
        "reply": reply,
        "state": inquiry.state.value,
        "send_failure": send_failure,  # the platform's reason, when the last send was refused
    }


def summary(world: SandboxWorld, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals a communication officer would ask for, counted from the rows and the event log."""
    with world.store.session() as session:
        inquiries = session.exec(select(Inquiry)).all()
        actions = Counter(session.exec(select(Event.action)).all())
    in_time = sum(
        1 for inquiry in inquiries
        if inquiry.state is InquiryState.ANSWERED and inquiry.answered_at
        and (inquiry.deadline_at is None or inquiry.answered_at <= inquiry.deadline_at)
    )
    return {
        "inquiries": len(rows),
        "per_route": dict(sorted(Counter(row["route"] for row in rows).items())),
        "urgent": sum(1 for row in rows if row["urgent"]),
        "no_reply_needed": sum(1 for row in rows if row["no_reply_needed"]),
        "posted_to_chat": sum(1 for row in rows if row["posted"]),
        "answered": sum(1 for row in rows if row["reply"] and row["reply"]["text"] is not None),
        "unanswered_needing_reply": sum(
            1 for row in rows if not row["no_reply_needed"] and not (row["reply"] and row["reply"]["text"])),
        "send_failed": sum(1 for row in rows if row["send_failure"]),
        "answered_within_deadline": in_time,
        "reminders": sum(actions[action] for action in REMINDER_ACTIONS),
        "escalations": sum(actions[action] for action in ESCALATION_ACTIONS),
    }
