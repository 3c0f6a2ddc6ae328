"""A person's reply in an inquiry's department thread becomes the newest draft, and so does
an edit of the reply that is the newest draft."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.chat import slack_text
from bot.errors import ChatError
from bot.workflow import Workflow
from handlers.errors import guarded, tell_user


def is_human_thread_reply(event: dict[str, Any]) -> bool:
    """Bots (ourselves included), edits, joins and top-level messages are not drafts."""
    return (
        not event.get("bot_id")
        and not event.get("subtype")
        and bool(event.get("user"))
        and bool(event.get("thread_ts"))
        and event.get("thread_ts") != event.get("ts")
    )


def edited_thread_reply(event: dict[str, Any]) -> dict[str, Any] | None:
    """The new version of a person's thread reply whose text was edited, else None (Slack
    also sends `message_changed` when it unfurls a link or a reply count changes)."""
    if event.get("subtype") != "message_changed":
        return None
    new, old = event.get("message") or {}, event.get("previous_message") or {}
    if not is_human_thread_reply(new) or new.get("text") == old.get("text"):
        return None
    return dict(new)


def draft_text(workflow: Workflow, message: dict[str, Any], client: WebClient,
               body: dict[str, Any]) -> str | None:
    """The plain text the citizen would get; None (the writer told why) when it holds a mention
    only Slack can show. Converted once, here, so approval shows exactly what is sent."""

    def name_of(user: str) -> str | None:
        try:
            return workflow.ctx.chat.display_name(user)
        except ChatError:
            return None  # refused with a note: the specialist can post again in a moment

    try:
        return slack_text.citizen_text(message, name_of)
    except slack_text.NotForCitizens as refusal:
        tell_user(client, body, refusal.note)
        return None


def register(app: App, workflow: Workflow) -> None:
    @app.event("message")
    def on_message(event: dict[str, Any], client: WebClient, body: dict[str, Any]) -> None:
        edited = edited_thread_reply(event)
        message = edited or event
        if edited is None and not is_human_thread_reply(event):
            return
        inquiry_id = workflow.queries.department_thread(event["channel"], message["thread_ts"])
        if inquiry_id is None:
            return
        body = {**body, "channel": {"id": event["channel"]}, "user": {"id": message["user"]}}
        text = draft_text(workflow, message, client, body)
        if text is None:
            return
        decisions, user, ts = workflow.decisions, message["user"], message["ts"]
        if edited is None:
            guarded(lambda: decisions.add_draft(inquiry_id, user, text, source="thread", chat_ts=ts),
                    client, body)
        else:
            guarded(lambda: decisions.revise_draft(inquiry_id, user, text, chat_ts=ts), client, body)
