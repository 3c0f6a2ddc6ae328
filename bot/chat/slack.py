"""`ChatGateway` over slack_sdk's `WebClient`: renders views with `slack_blocks`, posts them,
and turns every Slack failure into `bot.errors.ChatError`.

Two of Slack's limits are handled here so no caller has to think about them: a 429 is
waited out for its Retry-After (a few times, then it becomes a `ChatError`), and
`chat.postMessage` is paced per channel (about one message a second) by reserving a time
slot per channel, so a burst in one department's channel never delays another's.

Every message we post can carry a marker in Slack's message `metadata`, which only apps
that ask for it see; `find_marked` looks it up, so a post whose answer was lost to a
crash or a dropped connection is found instead of posted twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler
from slack_sdk.web import SlackResponse

from bot import privacy
from bot.chat import slack_blocks, slack_text
from bot.chat.base import ChatRef, InquiryView, ThreadReply
from bot.errors import ChatAuthRefused, ChatChannelRefused, ChatError, ChatRefused

log = logging.getLogger(__name__)

MARKER_EVENT = "borgerbot_post"
CLOCK_SKEW = timedelta(minutes=5)  # our clock against Slack's, when looking back for a marker


class SlackCallFailed(ChatError):
    """Slack answered `ok: false`; `code` is Slack's error string (e.g. `channel_not_found`)."""

    def __init__(self, method: str, code: str) -> None:
        self.method = method
        self.code = code
        super().__init__(f"Slack {method} failed: {code}")


class SlackMessageRefused(SlackCallFailed, ChatRefused):
    """Slack refused this message's content for good."""


class SlackChannelRefused(SlackCallFailed, ChatChannelRefused):
    """Slack refused the message because of its channel."""


class SlackAuthRefused(SlackCallFailed, ChatAuthRefused):
    """Slack refused the bot's token."""


# Slack's Web API error codes (chat-platforms.md "Errors", from docs.slack.dev/reference/methods/
# chat.postMessage and chat.update): which ones no retry of the same call can cure.
MESSAGE_REFUSALS = frozenset({"msg_too_long", "msg_blocks_too_long", "invalid_blocks",
                              "invalid_blocks_format", "no_text"})
CHANNEL_REFUSALS = frozenset({"channel_not_found", "not_in_channel", "is_archived"})
AUTH_REFUSALS = frozenset({"not_authed", "invalid_auth", "account_inactive", "token_revoked",
                           "token_expired"})


def refusal(method: str, code: str) -> SlackCallFailed:
    """Slack's `ok: false` as the error the workflow keys on."""
    if code in AUTH_REFUSALS:
        return SlackAuthRefused(method, code)
    if code in CHANNEL_REFUSALS:
        return SlackChannelRefused(method, code)
    if code in MESSAGE_REFUSALS:
        return SlackMessageRefused(method, code)
    return SlackCallFailed(method, code)


class ChannelPacer:
    """Hands out posting slots per channel; only callers for the same channel wait."""

    def __init__(self, interval: float, clock: Callable[[], float],
                 sleep: Callable[[float], None]) -> None:
        self._interval = interval
        self._clock = clock
        self._sleep = sleep
        self._next_slot: dict[str, float] = {}
        self._guard = threading.Lock()

    def wait_turn(self, channel: str) -> None:
        with self._guard:
            now = self._clock()
            slot = max(now, self._next_slot.get(channel, now))
            self._next_slot[channel] = slot + self._interval
        if slot > now:
            self._sleep(slot - now)

    def hold(self, channel: str, seconds: float) -> None:
        """Slack refused a post for `seconds`: no slot in the channel before they have passed,
        so the retry and the posts queued behind it are not refused in turn."""
        with self._guard:
            until = self._clock() + seconds
            self._next_slot[channel] = max(until, self._next_slot.get(channel, until))


class SlackGateway:
    """The workflow's view of Slack. Texts handed to the plain-message methods are our own
    Danish mrkdwn (from `bot.texts`); they are still CPR-masked on the way out."""

    def __init__(self, client: WebClient, *, messages_per_second: float = 1.0,
                 max_rate_limit_waits: int = 3, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        # slack_sdk would resend a call whose connection broke, posting a second copy of a
        # message Slack had already stored; a broken post is settled by `find_marked` instead.
        client.retry_handlers = [handler for handler in client.retry_handlers
                                 if not isinstance(handler, ConnectionErrorRetryHandler)]
        self._client = client
        self._sleep = sleep
        self._max_waits = max_rate_limit_waits
        self._pacer = ChannelPacer(1.0 / messages_per_second, clock, sleep)
        self._channel_ids: dict[str, str] = {}  # "#name" -> id, learnt from our own posts
        self._ids_guard = threading.Lock()

    def post_inquiry(self, channel: str, view: InquiryView, *, marker: str | None = None) -> ChatRef:
        return self._post(channel, slack_blocks.inquiry_card(view), marker)

    def post_approval(self, channel: str, view: InquiryView, *, marker: str | None = None) -> ChatRef:
        return self._post(channel, slack_blocks.approval_request(view), marker)

    def update(self, ref: ChatRef, view: InquiryView, *, approval: bool = False) -> None:
        render = slack_blocks.approval_request if approval else slack_blocks.inquiry_card
        self._call(self._client.chat_update, channel=ref.channel, ts=ref.ts, **render(view))

    def replace_with_notice(self, ref: ChatRef, text: str) -> None:
        # chat.update keeps omitted blocks and attachments on screen; `[]` removes them
        # (docs.slack.dev/reference/methods/chat.update; python-slack-sdk issue 523).
        self._call(self._client.chat_update, channel=ref.channel, ts=ref.ts, blocks=[], attachments=[],
                   **self._plain(text))

    def post_in_thread(self, ref: ChatRef, text: str, *, marker: str | None = None) -> ChatRef:
        return self._post(ref.channel, self._plain(text), marker, thread_ts=ref.ts)

    def notify(self, channel: str, text: str, *, marker: str | None = None) -> ChatRef:
        return self._post(channel, self._plain(text), marker)

    def find_marked(
        self, channel: str, marker: str, *, thread_ts: str | None = None, since: datetime | None = None
    ) -> ChatRef | None:
        channel_id = self._channel_id(channel)
        if channel_id is None:
            return None  # no such channel visible to us, so nothing of ours is in it
        window: dict[str, str | None]
        if thread_ts is not None:
            method, window = self._client.conversations_replies, {"ts": thread_ts}
        else:
            oldest = f"{(since - CLOCK_SKEW).timestamp():.6f}" if since is not None else None
            method, window = self._client.conversations_history, {"oldest": oldest}
        cursor = ""
        while True:
            page = self._call(method, channel=channel_id, include_all_metadata=True, limit=200,
                              cursor=cursor or None, **window)
            for message in page["messages"]:
                if _marker_of(message) == marker:
                    return ChatRef(channel_id, str(message["ts"]))
            cursor = (page.get("response_metadata") or {}).get("next_cursor", "")
            if not cursor:
                return None

    def thread_replies(self, ref: ChatRef, *, after: str) -> list[ThreadReply]:
        """conversations.replies from `after` on (Slack's `oldest` is exclusive unless
        `inclusive`; the parent comes first whatever the window), every page."""
        channel_id = self._channel_id(ref.channel)
        if channel_id is None:
            return []
        found: list[ThreadReply] = []
        cursor = ""
        while True:
            page = self._call(self._client.conversations_replies, channel=channel_id, ts=ref.ts,
                              oldest=after, limit=200, cursor=cursor or None)
            found += [reply for m in page["messages"] if _by_person(m) and m["ts"] != ref.ts
                      and (reply := self._reply(channel_id, m)) is not None]
            cursor = (page.get("response_metadata") or {}).get("next_cursor", "")
            if not cursor:
                return found

    def _reply(self, channel_id: str, message: dict[str, Any]) -> ThreadReply | None:
        """The reply as the thread listener reads it: the citizen's plain text, keyed by its
        version like `handlers.messages.chat_key`; None when it holds what only Slack can show
        (the listener told the writer so when it arrived)."""
        try:
            text = slack_text.citizen_text(message, self.display_name)
        except slack_text.NotForCitizens:
            return None
        edited = (message.get("edited") or {}).get("ts")
        key = f"{channel_id}:{message['ts']}" + (f":{edited}" if edited else "")
        return ThreadReply(str(message["ts"]), str(message["user"]), text, key)

    def post_ephemeral(self, channel: str, user: str, text: str) -> None:
        self._call(self._client.chat_postEphemeral, channel=channel, user=user, **self._plain(text))

    def open_modal(self, trigger_id: str, view: dict[str, Any]) -> str:
        """Open a modal built by `slack_blocks`; returns Slack's view id."""
        response = self._call(self._client.views_open, trigger_id=trigger_id, view=view)
        return str(response["view"]["id"])

    def permalink(self, ref: ChatRef) -> str:
        response = self._call(self._client.chat_getPermalink, channel=ref.channel,
                              message_ts=ref.ts)
        return str(response["permalink"])

    def usergroup_members(self, usergroup: str) -> frozenset[str]:
        response = self._call(self._client.usergroups_users_list, usergroup=usergroup)
        return frozenset(response["users"])

    def display_name(self, user: str) -> str | None:
        """The name colleagues know a person by (users.info, scope users:read); a mention in a
        draft becomes this name for the citizen. None when Slack knows no such person."""
        try:
            profile = self._call(self._client.users_info, user=user)["user"]
        except SlackCallFailed as exc:
            if exc.code in ("user_not_found", "user_not_visible"):
                return None
            raise
        details = profile.get("profile") or {}
        name = (details.get("display_name") or details.get("real_name")
                or profile.get("real_name") or profile.get("name"))
        return str(name) if name else None

    @staticmethod
    def _plain(text: str) -> dict[str, Any]:
        shown = slack_blocks.trusted(text)
        return {"text": privacy.shorten(shown, slack_blocks.FALLBACK_TEXT, "…")}

    def _post(self, channel: str, message: dict[str, Any], marker: str | None,
              **extra: Any) -> ChatRef:
        if marker is not None:
            extra["metadata"] = {"event_type": MARKER_EVENT, "event_payload": {"key": marker}}
        self._pacer.wait_turn(channel)
        response = self._call(self._client.chat_postMessage, paced=channel, channel=channel,
                              unfurl_links=False, unfurl_media=False, **message, **extra)
        log.info("posted to slack channel=%s ts=%s", response["channel"], response["ts"])
        if channel.startswith("#"):
            with self._ids_guard:
                self._channel_ids[channel] = str(response["channel"])
        return ChatRef(str(response["channel"]), str(response["ts"]))

    def _channel_id(self, channel: str) -> str | None:
        """Reading history needs the id; a "#name" is resolved once through conversations.list
        (scopes channels:read and groups:read), unless a post already told us the id."""
        if not channel.startswith("#"):
            return channel
        with self._ids_guard:
            known = self._channel_ids.get(channel)
        if known is not None:
            return known
        cursor = ""
        while True:
            page = self._call(self._client.conversations_list, types="public_channel,private_channel",
                              exclude_archived=True, limit=1000, cursor=cursor or None)
            for found in page["channels"]:
                with self._ids_guard:
                    self._channel_ids[f"#{found['name']}"] = str(found["id"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor", "")
            if not cursor:
                with self._ids_guard:
                    return self._channel_ids.get(channel)

    def _call(self, method: Callable[..., SlackResponse], *, paced: str | None = None,
              **arguments: Any) -> SlackResponse:
        """One Web API call with 429s waited out; a `paced` channel's slots move past the wait."""
        name = getattr(method, "__name__", "api_call")
        waits = 0
        while True:
            try:
                return method(**arguments)
            except SlackApiError as exc:
                if exc.response.status_code != 429 or waits >= self._max_waits:
                    raise refusal(name, str(exc.response.get("error", "unknown"))) from None
                waits += 1
                delay = _retry_after(exc.response.headers)
                log.warning("slack rate limit on %s; waiting %.1f s", name, delay)
                if paced is None:
                    self._sleep(delay)
                else:
                    self._pacer.hold(paced, delay)
                    self._pacer.wait_turn(paced)
            except (SlackClientError, OSError) as exc:
                raise ChatError(f"Slack {name} unreachable: {type(exc).__name__}") from None


def _by_person(message: dict[str, Any]) -> bool:
    """A plain message by a person: bots carry `bot_id`, joins and broadcasts a `subtype`."""
    return bool(message.get("user")) and not message.get("bot_id") and not message.get("subtype")


def _marker_of(message: dict[str, Any]) -> str | None:
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != MARKER_EVENT:
        return None
    key = (metadata.get("event_payload") or {}).get("key")
    return str(key) if key is not None else None


def _retry_after(headers: Any) -> float:
    """Slack's Retry-After in seconds; one second when missing or unreadable."""
    for key, value in dict(headers or {}).items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return max(0.0, float(raw))
            except ValueError:
                return 1.0
    return 1.0
