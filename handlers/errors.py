"""Two kinds of failure kept apart: expected refusals get a Danish reason, bugs an incident id."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot import texts
from bot.errors import InvalidTransition, NotAllowed

log = logging.getLogger(__name__)


def refusal_text(exc: Exception) -> str | None:
    """The Danish sentence for an expected refusal, or None when `exc` is a bug."""
    if isinstance(exc, NotAllowed):
        return texts.refusal_not_comms()
    if isinstance(exc, InvalidTransition):
        return texts.refusal_state(exc.state)
    return None


def tell_user(client: WebClient, body: dict[str, Any], text: str) -> None:
    """An ephemeral message to whoever clicked, in the channel where they clicked."""
    channel = (body.get("channel") or {}).get("id") or body.get("channel_id")
    user = (body.get("user") or {}).get("id") or body.get("user_id")
    if channel and user:
        client.chat_postEphemeral(channel=channel, user=user, text=text)


def guarded(work: Callable[[], object], client: WebClient, body: dict[str, Any]) -> None:
    """Run a listener's workflow call; refusals and bugs both end as a polite ephemeral message."""
    try:
        work()
    except (NotAllowed, InvalidTransition) as exc:
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
