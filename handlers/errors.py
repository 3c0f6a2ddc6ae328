"""Two kinds of failure kept apart: expected refusals get a Danish reason, bugs an incident id."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import texts
from bot.errors import DraftChanged, InvalidTransition, MembershipUnknown, NotAllowed

log = logging.getLogger(__name__)


def refusal_text(exc: Exception) -> str | None:
    """The Danish sentence for an expected refusal, or None when `exc` is a bug."""
    if isinstance(exc, NotAllowed):
        return texts.refusal_not_comms()
    if isinstance(exc, MembershipUnknown):
        return texts.refusal_try_again_soon()
    if isinstance(exc, DraftChanged):
        return texts.refusal_draft_changed()
    if isinstance(exc, InvalidTransition):
        return texts.refusal_state(exc.state)
    return None


def tell_user(client: WebClient, body: dict[str, Any], text: str) -> None:
    """An ephemeral message to whoever clicked, in the channel where they clicked (a modal's
    submission carries that channel in `body["channel"]`, from its private_metadata).
    `chat.postEphemeral` needs a channel id the person is in; a user id there is refused with
    `channel_not_found` (docs.slack.dev/reference/methods/chat.postEphemeral), so the refusal
    would reach nobody. A failure to tell is logged, never raised into the listener."""
    channel = (body.get("channel") or {}).get("id") or body.get("channel_id")
    user = (body.get("user") or {}).get("id") or body.get("user_id")
    if not (channel and user):
        log.warning("a refusal had no channel to be shown in")
        return
    try:
        client.chat_postEphemeral(channel=channel, user=user, text=text)
    except SlackApiError as exc:
        log.warning("could not tell %s in %s: %s", user, channel, exc.response.get("error"))


def guarded(work: Callable[[], object], client: WebClient, body: dict[str, Any]) -> None:
    """Run a listener's workflow call; refusals and bugs both end as a polite ephemeral message."""
    try:
        work()
    except (NotAllowed, InvalidTransition, MembershipUnknown) as exc:
        tell_user(client, body, refusal_text(exc) or "")
    except Exception:
        incident = uuid.uuid4().hex[:8]
        log.exception("incident %s while handling a Slack %s", incident, body.get("type", "request"))
        tell_user(client, body, texts.unexpected_error(incident))


def register(app: App) -> None:
    @app.error
    def on_unhandled(error: Exception, body: dict[str, Any], logger: logging.Logger) -> None:
        incident = uuid.uuid4().hex[:8]
        logger.error("incident %s: unhandled %s", incident, type(error).__name__, exc_info=error)
