"""Builds the Bolt app around a workflow; the only place that chooses Socket Mode or HTTP."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.settings import Settings
from bot.workflow import Workflow
from handlers import register

log = logging.getLogger(__name__)


class _RefusedWithoutBody(logging.Filter):
    """Bolt reports a bad signature with the whole request body at INFO, and that body holds
    citizen text and drafts; only the fact of the refusal is kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage().startswith("Invalid request signature"):
            record.msg, record.args = "refused a request with a missing, wrong or old signature", None
        return True


logging.getLogger("slack_bolt.RequestVerification").addFilter(_RefusedWithoutBody())


def build_app(
    settings: Settings,
    workflow: Workflow,
    *,
    client: WebClient | None = None,
    token_verification_enabled: bool = True,
    synchronous: bool = False,
) -> App:
    """The Slack front end with every listener registered.

    Tests and the demo pass a `WebClient` pointed at the fake Slack, turn token verification
    off and ask for `synchronous` listeners, so a dispatched request has had its full effect
    when `dispatch` returns; production acknowledges first and works after.
    """
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    app = App(
        token=None if client is not None else token,
        signing_secret=secret,
        client=client,
        token_verification_enabled=token_verification_enabled,
        process_before_response=synchronous,
        logger=logging.getLogger("borgerbot.slack"),
    )
    register(app, workflow)
    return app


def serve(app: App, settings: Settings) -> Any:
    """Start receiving Slack traffic in the configured mode; returns the running handler."""
    if settings.slack_mode == "socket":
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        if settings.slack_app_token is None:
            raise SystemExit("BORGERBOT_SLACK_APP_TOKEN (xapp-...) is required for Socket Mode")
        handler = SocketModeHandler(app, settings.slack_app_token.get_secret_value())
        handler.connect()  # type: ignore[no-untyped-call]
        log.info("connected to Slack in Socket Mode")
        return handler
    log.info("listening for Slack on port %s (HTTP mode)", settings.http_port)
    app.start(port=settings.http_port)
    return app
