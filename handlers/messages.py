"""A person's reply in an inquiry's department thread becomes the newest draft."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.workflow import Workflow
from handlers.errors import guarded


def is_human_thread_reply(event: dict[str, Any]) -> bool:
    """Bots (ourselves included), edits, joins and top-level messages are not drafts."""
    return (
        not event.get("bot_id")
        and not event.get("subtype")
        and bool(event.get("user"))
        and bool(event.get("thread_ts"))
        and event.get("thread_ts") != event.get("ts")
    )


def register(app: App, workflow: Workflow) -> None:
    @app.event("message")
    def on_message(event: dict[str, Any], client: WebClient, body: dict[str, Any]) -> None:
        if not is_human_thread_reply(event):
            return
        inquiry_id = workflow.queries.department_thread(event["channel"], event["thread_ts"])
        if inquiry_id is None:
            return
        body = {**body, "channel": {"id": event["channel"]}, "user": {"id": event["user"]}}
        guarded(
            lambda: workflow.decisions.add_draft(
                inquiry_id, event["user"], event.get("text", ""), source="thread", chat_ts=event["ts"]
            ),
            client,
            body,
        )
