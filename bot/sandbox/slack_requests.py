"""Signed requests as Slack sends them to an app in HTTP mode: Events API callbacks, button
clicks, modal submissions and slash commands.

Each builder returns the exact body string and headers, signed with v0 HMAC-SHA256 over
`v0:<timestamp>:<body>` (chat-platforms.md §2), so a test can hand them to
`slack_bolt.BoltRequest(body=..., headers=...)` and `app.dispatch`, or POST them over HTTP.
The timestamp comes from the injected clock, so a frozen clock signs reproducibly.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from bot.sandbox.slack_workspace import APP_ID, BOT_USER

JSON_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded"


def signature(secret: str, timestamp: str, body: str) -> str:
    """`v0=<hex>` for `body` sent at `timestamp` (unix seconds, as a string)."""
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class SignedRequest:
    body: str
    headers: dict[str, str]


class SlackRequests:
    """Builds real-shaped, signed inbound requests for one workspace and app."""

    def __init__(self, signing_secret: str, *, clock: Callable[[], float] = time.time,
                 team_id: str = "T1", app_id: str = APP_ID) -> None:
        self.secret = signing_secret
        self.clock = clock
        self.team_id = team_id
        self.app_id = app_id
        self._ids = itertools.count(1)

    def sign(self, body: str, content_type: str, *, extra: Mapping[str, str] | None = None,
             timestamp: int | None = None) -> SignedRequest:
        stamp = str(int(self.clock()) if timestamp is None else timestamp)
        headers = {"content-type": content_type, "x-slack-request-timestamp": stamp,
                   "x-slack-signature": signature(self.secret, stamp, body), **(extra or {})}
        return SignedRequest(body, headers)

    def event(self, event: Mapping[str, Any], *, event_id: str | None = None,
              retry_num: int | None = None, retry_reason: str = "http_timeout") -> SignedRequest:
        """An Events API callback; a `retry_num` marks it as Slack's redelivery."""
        envelope = {"token": "legacy", "team_id": self.team_id, "api_app_id": self.app_id,
                    "type": "event_callback", "event_id": event_id or f"Ev{next(self._ids):08d}",
                    "event_time": int(self.clock()), "event": dict(event),
                    "authorizations": [{"team_id": self.team_id, "user_id": BOT_USER,
                                        "is_bot": True, "is_enterprise_install": False}],
                    "is_ext_shared_channel": False}
        extra = ({"x-slack-retry-num": str(retry_num), "x-slack-retry-reason": retry_reason}
                 if retry_num is not None else None)
        return self.sign(json.dumps(envelope), JSON_TYPE, extra=extra)

    def message_event(self, message: Mapping[str, Any]) -> SignedRequest:
        """The `message` event for a message as `FakeSlack.say` (or `FakeSlack.edit`) returns it."""
        event = {"channel_type": "channel", "event_ts": message["ts"], **message}
        return self.event(event)

    def deliveries(self, message: Mapping[str, Any], retries: int,
                   reason: str = "http_timeout") -> list[SignedRequest]:
        """A `message` event and `retries` redeliveries of it, as Slack sends them when it did
        not see an acknowledgement in time: the same envelope and `event_id`, with
        `X-Slack-Retry-Num` 1, 2, 3 and `X-Slack-Retry-Reason` (`http_timeout`,
        `http_error`, `too_many_redirects`, `ssl_error`, `connection_failed`, `unknown_error`;
        docs.slack.dev/apis/events-api/#retries). Slack retries up to three times; it can
        deliver a retry while the first delivery is still being processed."""
        event = {"channel_type": "channel", "event_ts": message["ts"], **message}
        event_id = f"Ev{next(self._ids):08d}"
        return [self.event(event, event_id=event_id, retry_num=number or None, retry_reason=reason)
                for number in range(retries + 1)]

    def _interactive(self, payload: Mapping[str, Any]) -> SignedRequest:
        return self.sign("payload=" + quote(json.dumps(payload)), FORM_TYPE)

    def _user(self, user: str) -> dict[str, str]:
        return {"id": user, "username": user.lower(), "name": user.lower(), "team_id": self.team_id}

    def block_action(self, *, user: str, action: Mapping[str, Any], message: Mapping[str, Any],
                     channel: str, trigger_id: str, response_url: str) -> SignedRequest:
        """A click on an element of a bot message (`message` as the fake stores it).
        `action` holds at least `action_id`, plus `value` or `selected_option`. A button's
        `value` is the one drawn in the message, whatever `action` says: Slack sends back
        what the app put in the button (docs.slack.dev/reference/block-kit/block-elements/
        button-element)."""
        element = {"block_id": _block_of(message, action["action_id"]),
                   "action_ts": f"{self.clock():.6f}", "type": "button", **action,
                   **_value_of(message, action["action_id"])}
        payload: dict[str, Any] = {"type": "block_actions", "api_app_id": self.app_id, "token": "legacy",
                   "trigger_id": trigger_id, "user": self._user(user),
                   "team": {"id": self.team_id, "domain": "fake"}, "enterprise": None,
                   "is_enterprise_install": False,
                   "container": {"type": "message", "message_ts": message["ts"],
                                 "channel_id": channel, "is_ephemeral": False},
                   "channel": {"id": channel, "name": channel.lower()}, "message": dict(message),
                   "state": {"values": {}}, "response_url": response_url, "actions": [element]}
        return self._interactive(payload)

    def view_submission(self, *, user: str, view: Mapping[str, Any],
                        values: Mapping[str, Mapping[str, str | None]],
                        trigger_id: str = "") -> SignedRequest:
        """Submitting a modal (`view` as `views.open` returned it); `values` maps
        block_id → action_id → typed text (None for an empty box)."""
        state = {block: {action: {"type": "plain_text_input", "value": text}
                         for action, text in fields.items()} for block, fields in values.items()}
        payload = {"type": "view_submission", "team": {"id": self.team_id},
                   "user": self._user(user), "api_app_id": self.app_id, "token": "legacy",
                   "trigger_id": trigger_id, "response_urls": [],
                   "view": {**view, "state": {"values": state}}}
        return self._interactive(payload)

    def slash_command(self, *, user: str, channel: str, trigger_id: str, response_url: str,
                      text: str = "", command: str = "/borgerbot") -> SignedRequest:
        form = {"token": "legacy", "team_id": self.team_id, "team_domain": "fake",
                "channel_id": channel, "channel_name": channel.lower(), "user_id": user,
                "user_name": user.lower(), "command": command, "text": text,
                "api_app_id": self.app_id, "response_url": response_url, "trigger_id": trigger_id}
        return self.sign(urlencode(form), FORM_TYPE)


def _block_of(message: Mapping[str, Any], action_id: str) -> str:
    """The block_id of the block holding `action_id`, as Slack reports it in a click."""
    for block in message.get("blocks", []):
        if any(e.get("action_id") == action_id for e in block.get("elements", [])):
            return str(block.get("block_id", ""))
    return ""


def _value_of(message: Mapping[str, Any], action_id: str) -> dict[str, str]:
    """`{"value": ...}` of the button `action_id` as the message draws it, if it is there."""
    for block in message.get("blocks", []):
        for element in block.get("elements", []):
            if element.get("action_id") == action_id and "value" in element:
                return {"value": str(element["value"])}
    return {}
