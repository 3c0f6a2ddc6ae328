"""Buttons and menus on the cards: acknowledge at once, then call the workflow or open a modal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.chat import slack_blocks
from bot.workflow import Workflow
from handlers import origin
from handlers.errors import guarded

Body = dict[str, Any]


def _inquiry_id(body: Body) -> int:
    return int(str(body["actions"][0]["value"]).split(":", 1)[0])


def _draft_id(body: Body) -> int | None:
    """The draft the approve button was drawn with (`<inquiry>:<draft>`), if it says."""
    _, _, draft = str(body["actions"][0]["value"]).partition(":")
    return int(draft) if draft.isdigit() else None


def _channel(body: Body) -> str | None:
    return (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")


def _user(body: Body) -> str:
    return str(body["user"]["id"])


def _writer_name(client: WebClient, user: str) -> str:
    """The name colleagues sign with; an unknown profile leaves the sign-off to finish by hand."""
    try:
        found = client.users_info(user=user)["user"]
    except SlackApiError:
        return ""
    profile = found.get("profile") or {}
    return str(profile.get("display_name") or profile.get("real_name") or found.get("real_name") or "")


def register(app: App, workflow: Workflow) -> None:
    def open_modal(client: WebClient, body: Body, view: dict[str, Any], draft_id: int | None = None) -> None:
        """Open `view` remembering where the click came from, so a later refusal reaches the person."""
        client.views_open(trigger_id=body["trigger_id"], view=origin.remember(view, _channel(body), draft_id))

    def may_open(inquiry_id: int, user: str, action: str) -> None:
        """A form opens at once for someone already known to be an officer: the trigger id
        dies 3 s after the click (docs.slack.dev/reference/methods/views.open), so a slow
        group lookup must not stand in front of it. Submitting the form checks afresh."""
        if workflow.queries.officer_known(user) is not True:
            workflow.decisions.ensure_officer(inquiry_id, user, action)

    def officer_modal(action: str, build: Callable[[int], dict[str, Any]]) -> Callable[..., None]:
        """Open a modal only for the communication unit; others get the polite refusal now."""

        def listener(ack: Ack, body: Body, client: WebClient) -> None:
            ack()

            def work() -> None:
                may_open(_inquiry_id(body), _user(body), action)
                open_modal(client, body, build(_inquiry_id(body)))

            guarded(work, client, body)

        return listener

    def draft_form(direct: bool) -> Callable[..., None]:
        """The draft modal, pre-filled with greeting and sign-off for this citizen and writer;
        `direct` is the communication unit answering itself."""

        def listener(ack: Ack, body: Body, client: WebClient) -> None:
            ack()

            def work() -> None:
                inquiry_id = _inquiry_id(body)
                if direct:
                    may_open(inquiry_id, _user(body), "answer_direct")
                greeting, sign_off = workflow.queries.salutation(inquiry_id, _writer_name(client, _user(body)))
                view = slack_blocks.draft_modal(
                    workflow.queries.view(inquiry_id), greeting=greeting, sign_off=sign_off, direct=direct
                )
                open_modal(client, body, view)

            guarded(work, client, body)

        return listener

    def edit_form(ack: Ack, body: Body, client: WebClient) -> None:
        """The edit-then-approve form, holding the draft in play; it approves only that draft."""
        ack()

        def work() -> None:
            inquiry_id = _inquiry_id(body)
            may_open(inquiry_id, _user(body), "edit")
            view = workflow.queries.view(inquiry_id, approval=True)
            open_modal(client, body, slack_blocks.edit_modal(view), view.draft_id)

        guarded(work, client, body)

    def direct(call: Callable[[int, str], None]) -> Callable[..., None]:
        def listener(ack: Ack, body: Body, client: WebClient) -> None:
            ack()
            guarded(lambda: call(_inquiry_id(body), _user(body)), client, body)

        return listener

    app.action("draft")(draft_form(direct=False))
    app.action("answer")(draft_form(direct=True))
    app.action("edit")(edit_form)
    app.action("reject")(officer_modal("reject", lambda i: slack_blocks.reject_modal(workflow.queries.view(i))))

    @app.action("approve")
    def on_approve(ack: Ack, body: Body, client: WebClient) -> None:
        """Approves the draft the button was drawn with, not whatever is newest by now."""
        ack()
        guarded(lambda: workflow.decisions.approve(_inquiry_id(body), _user(body), draft_id=_draft_id(body)),
                client, body)

    app.action("no_reply")(direct(lambda i, user: workflow.decisions.close_no_reply(i, user)))
    app.action("retry")(direct(lambda i, user: workflow.delivery.retry_failed(i, user)))
    app.action("hide")(officer_modal("hide", lambda i: slack_blocks.hide_modal(workflow.queries.view(i))))

    @app.action("move")
    def on_move(ack: Ack, body: Body, client: WebClient) -> None:
        """The menu only picks a department; the modal confirms it (and takes a reason)."""
        ack()
        action = body["actions"][0]
        inquiry_id = int(action["block_id"].split(":")[1])
        route_id = action["selected_option"]["value"]
        guarded(
            lambda: open_modal(client, body, slack_blocks.move_modal(workflow.queries.view(inquiry_id), route_id)),
            client,
            body,
        )
