"""Chat-side listeners: translate Slack payloads into calls on `bot.workflow`.

`register` is the one list of listeners, so what the app reacts to is readable in one place.
"""

from __future__ import annotations

from slack_bolt import App

from bot.workflow import Workflow


def register(app: App, workflow: Workflow) -> None:
    from handlers import actions, commands, errors, messages, views

    errors.register(app)
    messages.register(app, workflow)
    actions.register(app, workflow)
    views.register(app, workflow)
    commands.register(app, workflow)
