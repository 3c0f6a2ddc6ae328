"""Chat-side listeners: translate Slack payloads into calls on `bot.workflow`."""
