"""Modal submissions: the draft, the officer's own answer, edit-and-approve, reject, move.

What can be checked at once (an empty text, the officer role) is answered inside the modal
before it closes; everything after the acknowledgement reports back in the person's app DM.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot import texts
from bot.chat import slack_blocks as sb
from bot.errors import NotAllowed
from bot.workflow import Workflow
from handlers.errors import guarded

Body = dict[str, Any]


def field(view: dict[str, Any], block: str, action: str) -> str:
    """A text box's text, or a menu's chosen value."""
    state = view["state"]["values"].get(block, {}).get(action, {})
    value = state.get("value") or (state.get("selected_option") or {}).get("value")
    return str(value or "").strip()


def register(app: App, workflow: Workflow) -> None:
    def still_officer(inquiry_id: int, user: str, attempted: str) -> bool:
        """Asked again on submission (the person may have left the unit since the form opened),
        and a refusal is recorded in the event log like any other."""
        try:
            workflow.decisions.ensure_officer(inquiry_id, user, attempted)
        except NotAllowed:
            return False
        return True

    def submission(
        block: str, action: str, call: Callable[[int, str, str, str], None], *, officers_only: str | None
    ) -> Callable[..., None]:
        """`officers_only` names the attempted action when only the communication unit may submit."""

        def listener(ack: Ack, body: Body, view: dict[str, Any], client: WebClient) -> None:
            user = body["user"]["id"]
            text = field(view, block, action)
            if block == sb.REPLY_BLOCK and not text:
                ack(response_action="errors", errors={block: texts.empty_reply_error()})
                return
            metadata = view["private_metadata"]
            inquiry_id = int(metadata.split(":", 1)[0])
            extra = metadata.split(":", 1)[1] if ":" in metadata else ""
            if officers_only and not still_officer(inquiry_id, user, officers_only):
                ack(response_action="errors", errors={block: texts.refusal_not_comms()})
                return
            ack()
            reply_to = {**body, "channel": {"id": user}}
            guarded(lambda: call(inquiry_id, user, text, extra), client, reply_to)

        return listener

    @app.view(sb.HIDE_CALLBACK)
    def on_hide(ack: Ack, body: Body, view: dict[str, Any], client: WebClient) -> None:
        user, inquiry_id = body["user"]["id"], int(view["private_metadata"])
        reason = field(view, sb.HIDE_REASON_BLOCK, sb.HIDE_REASON_INPUT)
        note = field(view, sb.COMMENT_BLOCK, sb.COMMENT_INPUT)
        if reason not in texts.HIDE_REASONS:
            ack(response_action="errors", errors={sb.HIDE_REASON_BLOCK: texts.hide_reason_label()})
            return
        if not still_officer(inquiry_id, user, "hide"):
            ack(response_action="errors", errors={sb.COMMENT_BLOCK: texts.refusal_not_comms()})
            return
        ack()
        reply_to = {**body, "channel": {"id": user}}
        guarded(lambda: workflow.decisions.hide(inquiry_id, user, reason, note=note), client, reply_to)

    decisions = workflow.decisions
    app.view(sb.DRAFT_CALLBACK)(submission(
        sb.REPLY_BLOCK, sb.REPLY_INPUT,
        lambda i, user, text, _: _ignore(decisions.add_draft(i, user, text, source="modal")),
        officers_only=None,
    ))
    app.view(sb.ANSWER_CALLBACK)(submission(
        sb.REPLY_BLOCK, sb.REPLY_INPUT,
        lambda i, user, text, _: decisions.answer_directly(i, user, text), officers_only="answer_direct",
    ))
    app.view(sb.EDIT_CALLBACK)(submission(
        sb.REPLY_BLOCK, sb.REPLY_INPUT,
        lambda i, user, text, _: decisions.approve(i, user, edited_text=text), officers_only="approve",
    ))
    app.view(sb.REJECT_CALLBACK)(submission(
        sb.COMMENT_BLOCK, sb.COMMENT_INPUT,
        lambda i, user, text, _: decisions.reject(i, user, text), officers_only="reject",
    ))
    app.view(sb.MOVE_CALLBACK)(submission(
        sb.REASON_BLOCK, sb.REASON_INPUT,
        lambda i, user, text, route: decisions.move(i, user, route, reason=text), officers_only=None,
    ))


def _ignore(_: object) -> None:
    """Listeners return nothing; the draft id is only for the workflow's own callers."""
