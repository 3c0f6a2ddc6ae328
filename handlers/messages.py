"""A person's reply in an inquiry's department thread becomes the newest draft, and so does
an edit of the reply that is the newest draft; deleting that reply withdraws the draft.

Slack redelivers an event it thinks was not acknowledged (`X-Slack-Retry-Num`), possibly to
another replica at the same moment; the draft's unique keys (the message version and the
`event_id`) make every delivery after the first a no-op (docs.slack.dev/apis/events-api/
#retries)."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot import texts
from bot.chat import slack_text
from bot.errors import ChatError
from bot.workflow import Workflow
from handlers.errors import guarded, tell_user

DRAFT_SUBTYPES = frozenset({None, "thread_broadcast", "file_share"})
"""A plain reply, one also sent to the channel, and one with files are all drafts
(docs.slack.dev/reference/events/message/thread_broadcast, .../message/file_share)."""


def is_human_thread_reply(event: dict[str, Any]) -> bool:
    """Bots (ourselves included), edits, joins and top-level messages are not drafts."""
    return (
        not event.get("bot_id")
        and event.get("subtype") in DRAFT_SUBTYPES
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


def deleted_thread_reply(event: dict[str, Any]) -> dict[str, Any] | None:
    """The thread reply a person deleted: `message_deleted` carries it as `previous_message`
    (docs.slack.dev/reference/events/message/message_deleted); a reply that had replies of
    its own stays as a `tombstone` in a `message_changed` instead."""
    subtype = event.get("subtype")
    if subtype == "message_deleted":
        gone = dict(event.get("previous_message") or {})
        gone.setdefault("ts", event.get("deleted_ts"))
    elif subtype == "message_changed" and (event.get("message") or {}).get("subtype") == "tombstone":
        gone = {**(event.get("previous_message") or {}), "ts": event["message"].get("ts")}
    else:
        return None
    if not gone.get("thread_ts") or gone.get("thread_ts") == gone.get("ts") or gone.get("bot_id"):
        return None
    return gone


def chat_key(channel: str, message: dict[str, Any]) -> str:
    """One version of one Slack message: its ts, and for an edit the edit's ts."""
    edited = (message.get("edited") or {}).get("ts")
    return f"{channel}:{message['ts']}" + (f":{edited}" if edited else "")


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
        channel, event_id = event["channel"], body.get("event_id")
        gone = deleted_thread_reply(event)
        if gone is not None:
            thread = workflow.queries.department_thread(channel, gone["thread_ts"])
            if thread is not None:
                actor, found = str(gone.get("user") or ""), thread
                guarded(lambda: workflow.decisions.withdraw_draft(found, actor, str(gone["ts"])),
                        client, {**body, "channel": {"id": channel}, "user": {"id": actor}})
            return
        edited = edited_thread_reply(event)
        message = edited or event
        if edited is None and not is_human_thread_reply(event):
            return
        inquiry_id = workflow.queries.department_thread(channel, message["thread_ts"])
        if inquiry_id is None:
            return
        body = {**body, "channel": {"id": channel}, "user": {"id": message["user"]}}
        key, files = chat_key(channel, message), bool(message.get("files"))
        text = draft_text(workflow, message, client, body)
        if text is None:
            return
        if files and not text.strip():
            tell_user(client, body, texts.files_not_sent())  # only files: nothing to draft
            return
        decisions, user, ts = workflow.decisions, message["user"], message["ts"]
        if edited is None:
            guarded(lambda: decisions.add_draft(inquiry_id, user, text, source="thread", chat_ts=ts,
                                                chat_key=key, event_id=event_id, with_files=files),
                    client, body)
        else:
            guarded(lambda: workflow.chat_inbox.edited_reply(inquiry_id, user, text, chat_ts=ts, chat_key=key,
                                                             event_id=event_id), client, body)
