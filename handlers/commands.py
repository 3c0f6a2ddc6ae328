"""`/borgerbot`: a person's own open inquiries; the communication unit sees all, by department."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.chat import slack_blocks
from bot.workflow import Workflow


def register(app: App, workflow: Workflow) -> None:
    @app.command("/borgerbot")
    def on_command(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        user = body["user_id"]
        everyone = workflow.queries.is_officer(user)
        views = workflow.queries.open_views(None if everyone else user)
        respond(response_type="ephemeral", **slack_blocks.overview(views, everyone=everyone))
