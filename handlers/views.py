"""Modal submissions: the draft, the officer's own answer, edit-and-approve, reject, move.

What can be checked at once (an empty text, an officer role already known) is answered inside
the modal before it closes; everything after the acknowledgement reports back as an ephemeral
message in the channel the modal was opened from.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot import texts
from bot.chat import slack_blocks as sb
from bot.errors import MembershipUnknown, NotAllowed
from bot.workflow import Workflow
from handlers.errors import guarded
from handlers.origin import Origin, recall

Body = dict[str, Any]


def field(view: dict[str, Any], block: str, action: str) -> str:
    """A text box's text, or a menu's chosen value."""
    state = view["state"]["values"].get(block, {}).get(action, {})
    value = state.get("value") or (state.get("selected_option") or {}).get("value")
    return str(value or "").strip()


def register(app: App, workflow: Workflow) -> None:
    def refused_at_once(user: str) -> bool:
        """Whether the form can be refused inside itself: only what is already known counts,
        because Slack waits 3 seconds for the answer (docs.slack.dev/interactivity/
        handling-user-interaction#acknowledgment_response). The refusal is recorded after the
        answer; an unknown membership is left to the check after the acknowledgement."""
        return workflow.queries.officer_known(user) is False

    def record_refusal(inquiry_id: int, user: str, attempted: str) -> None:
        """The event log gets the refusal like any other (asked after the form was answered)."""
        try:
            workflow.decisions.ensure_officer(inquiry_id, user, attempted)
        except (NotAllowed, MembershipUnknown):
            pass

    def reply_to(body: Body, origin: Origin) -> Body:
        """Where a refusal after the acknowledgement goes: the channel the form was opened from."""
        return {**body, "channel": {"id": origin.channel}} if origin.channel else body

    def submission(
        block: str, action: str, call: Callable[[Origin, str, str], None], *, officers_only: str | None
    ) -> Callable[..., None]:
        """`officers_only` names the attempted action when only the communication unit may submit."""

        def listener(ack: Ack, body: Body, view: dict[str, Any], client: WebClient) -> None:
            user = body["user"]["id"]
            text = field(view, block, action)
            if block == sb.REPLY_BLOCK and not text:
                ack(response_action="errors", errors={block: texts.empty_reply_error()})
                return
            origin = recall(view)
            if officers_only and refused_at_once(user):
                ack(response_action="errors", errors={block: texts.refusal_not_comms()})
                record_refusal(origin.inquiry_id, user, officers_only)
                return
            ack()
            guarded(lambda: call(origin, user, text), client, reply_to(body, origin))

        return listener

    @app.view(sb.HIDE_CALLBACK)
    def on_hide(ack: Ack, body: Body, view: dict[str, Any], client: WebClient) -> None:
        user, origin = body["user"]["id"], recall(view)
        reason = field(view, sb.HIDE_REASON_BLOCK, sb.HIDE_REASON_INPUT)
        note = field(view, sb.COMMENT_BLOCK, sb.COMMENT_INPUT)
        if reason not in texts.HIDE_REASONS:
            ack(response_action="errors", errors={sb.HIDE_REASON_BLOCK: texts.hide_reason_label()})
            return
        if refused_at_once(user):
            ack(response_action="errors", errors={sb.COMMENT_BLOCK: texts.refusal_not_comms()})
            record_refusal(origin.inquiry_id, user, "hide")
            return
        ack()
        guarded(lambda: workflow.decisions.hide(origin.inquiry_id, user, reason, note=note), client,
                reply_to(body, origin))

    decisions = workflow.decisions
    app.view(sb.DRAFT_CALLBACK)(submission(
        sb.REPLY_BLOCK, sb.REPLY_INPUT,
        lambda o, user, text: _ignore(decisions.add_draft(o.inquiry_id, user, text, source="modal")),
        officers_only=None,
    ))
    app.view(sb.ANSWER_CALLBACK)(submission(
        sb.REPLY_BLOCK, sb.REPLY_INPUT,
        lambda o, user, text: decisions.answer_directly(o.inquiry_id, user, text), officers_only="answer_direct",
    ))
    app.view(sb.EDIT_CALLBACK)(submission(
        sb.REPLY_BLOCK, sb.REPLY_INPUT,
        lambda o, user, text: decisions.approve(o.inquiry_id, user, edited_text=text, draft_id=o.draft_id),
        officers_only="approve",
    ))
    app.view(sb.REJECT_CALLBACK)(submission(
        sb.COMMENT_BLOCK, sb.COMMENT_INPUT,
        lambda o, user, text: decisions.reject(o.inquiry_id, user, text), officers_only="reject",
    ))
    app.view(sb.MOVE_CALLBACK)(submission(
        sb.REASON_BLOCK, sb.REASON_INPUT,
        lambda o, user, text: decisions.move(o.inquiry_id, user, o.extra, reason=text), officers_only=None,
    ))


def _ignore(_: object) -> None:
    """Listeners return nothing; the draft id is only for the workflow's own callers."""
