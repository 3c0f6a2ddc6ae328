"""A fake Slack Web API on loopback, for tests and `make demo`.

Point slack_sdk's `WebClient(base_url=fake.base_url)` at it. It answers like Slack: HTTP
200 with `{"ok": false, "error": ...}` for failures, 429 with `Retry-After` when throttling,
JSON or form bodies alike, with each method's scope checked against slack_manifest.yaml and
its rate-limit tier enforced (`bot.sandbox.slack_limits`). Tests arrange the world (`add_channel`, `add_user`,
`add_usergroup`), inject failures (`fail_next`, `limit_posts_per_channel`) and then read
what people would see (`history`, `thread`, `ephemerals`, `views`). Imports nothing from bot.
"""

from __future__ import annotations

import copy
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from typing import Any, Literal

from bot.sandbox.slack_http import Transport, failure_answer, handler_for
from bot.sandbox.slack_limits import TierBuckets, manifest_scopes, missing_scope, needed_scopes
from bot.sandbox.slack_workspace import (
    APP_ID,
    BOT_ID,
    BOT_USER,
    Args,
    Channel,
    SlackFailure,
    Workspace,
)


@dataclass(frozen=True)
class Call:
    """One Web API call as the fake received it."""

    method: str
    args: Args
    at: float


@dataclass
class _Injected:
    error: str
    status: int
    retry_after: int | None
    remaining: int


class FakeSlack:
    """One workspace behind a `ThreadingHTTPServer` on 127.0.0.1, port chosen by the OS."""

    def __init__(self, *, bot_token: str = "xoxb-test", clock: Callable[[], float] = time.time,
                 team_id: str = "T1", scopes: frozenset[str] | None | Literal["manifest"] = "manifest",
                 rate_tiers: bool = True) -> None:
        """`scopes` are the bot scopes the token was granted: by default those
        slack_manifest.yaml asks for, so a call the manifest does not allow fails with
        `missing_scope` as it would after installing the app; None grants everything.
        `rate_tiers` throttles each method to its documented tier (see `slack_limits`)."""
        self.bot_token = bot_token
        self.clock = clock
        self.team_id = team_id
        self._granted = manifest_scopes() if scopes == "manifest" else scopes
        self.rate_tiers = rate_tiers
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self.reset()

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeSlack:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def root_url(self) -> str:
        assert self._server, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        """For `WebClient(base_url=...)`; the trailing slash matters to urljoin."""
        return f"{self.root_url}/api/"

    def reset(self) -> None:
        """Forget everything: an empty workspace with only the bot user in it."""
        with self._lock:
            self.workspace = Workspace(self.clock, self.team_id)
            self.calls: list[Call] = []
            self.hook_posts: list[tuple[str, Any]] = []
            self._injected: dict[str, list[_Injected]] = {}
            self._transport: dict[str, list[Transport]] = {}
            self.after_call: Callable[[str, Args, Args], None] | None = None
            self._post_interval: float | None = None
            self._post_burst = 1.0
            self._post_tokens: dict[str, tuple[float, float]] = {}  # channel -> (tokens, at)
            self._tiers = TierBuckets()
            self.scopes: frozenset[str] | None = self._granted
            self._content_refusals: list[tuple[str, str]] = []  # (text in the message, error)
            self._token_refusal: str | None = None
            self.add_user(BOT_USER, "borgerbot", is_bot=True)

    # --- arranging the world ---------------------------------------------------------------

    def add_channel(self, channel_id: str, name: str, *, private: bool = False,
                    members: tuple[str, ...] = (), bot_member: bool = True,
                    archived: bool = False) -> None:
        everyone = set(members) | ({BOT_USER} if bot_member else set())
        with self._lock:
            self.workspace.channels[channel_id] = Channel(channel_id, name, private, archived,
                                                          everyone)

    def add_user(self, user_id: str, name: str, *, real_name: str = "", display_name: str = "",
                 is_bot: bool = False, deleted: bool = False,
                 tz: str = "Europe/Copenhagen") -> None:
        profile = {"display_name": display_name, "real_name": real_name or name}
        with self._lock:
            self.workspace.users[user_id] = {
                "id": user_id, "team_id": self.team_id, "name": name, "deleted": deleted,
                "real_name": real_name or name, "tz": tz, "is_bot": is_bot, "profile": profile}

    def add_usergroup(self, group_id: str, members: tuple[str, ...]) -> None:
        with self._lock:
            self.workspace.usergroups[group_id] = list(members)

    def say(self, channel: str, user: str, text: str, thread_ts: str | None = None, *,
            broadcast: bool = False, files: tuple[str, ...] = ()) -> Args:
        """A person types `text` in Slack; returns the stored message, the body of its `message`
        event: escaped and wrapped mrkdwn `text` plus a rich_text block, as a Slack client
        sends it (slack_composer lists what counts as a link, mention or emoji). `broadcast` is
        a thread reply with "Also send to channel" (subtype `thread_broadcast`), `files` names
        files attached to it (subtype `file_share`)."""
        with self._lock:
            found = self.workspace.channel({"channel": channel}, member=user, by_name=True)
            return self.workspace.add_human_message(found, user, text, thread_ts, broadcast=broadcast,
                                                    files=files) | {"channel": found.id}

    def delete(self, channel: str, ts: str, user: str) -> Args:
        """A person deletes their message in Slack; returns the event Slack sends for it
        (`message_deleted`, or `message_changed` to a tombstone for a parent with replies)."""
        with self._lock:
            found = self.workspace.channel({"channel": channel}, member=user)
            return self.workspace.delete_human_message(found, ts, user)

    def edit(self, channel: str, ts: str, user: str, text: str) -> Args:
        """A person edits their message in Slack; returns the body of the `message_changed` event."""
        with self._lock:
            found = self.workspace.channel({"channel": channel}, member=user, by_name=True)
            return self.workspace.edit_human_message(found, ts, user, text)

    def new_trigger_id(self) -> str:
        """A trigger id as Slack puts in a click or command; single use, 3 s of fake time."""
        with self._lock:
            return self.workspace.new_trigger()

    def new_response_url(self) -> str:
        with self._lock:
            return f"{self.root_url}/hooks/{self.workspace.new_id('R')}"

    # --- failure injection -----------------------------------------------------------------

    def fail_next(self, method: str, error: str, *, times: int = 1, status: int = 200,
                  retry_after: int | None = None) -> None:
        """The next `times` calls to `method` fail; `status=429` with `retry_after` throttles."""
        with self._lock:
            self._injected.setdefault(method, []).append(
                _Injected(error, status, retry_after, times))

    def refuse_messages_containing(self, text: str, error: str = "msg_too_long") -> None:
        """Every `chat.postMessage` whose text or blocks contain `text` is refused with `error`,
        as Slack refuses a message it cannot take (`msg_too_long`, `msg_blocks_too_long`,
        `invalid_blocks`: docs.slack.dev/reference/methods/chat.postMessage, "Errors"),
        however often it is sent; other messages to the same channel go through."""
        with self._lock:
            self._content_refusals.append((text, error))

    def archive(self, channel: str) -> None:
        """An administrator archives the channel: posting there answers `is_archived`."""
        with self._lock:
            self.workspace.channels[channel].archived = True

    def revoke_token(self, error: str = "token_revoked") -> None:
        """Slack refuses the bot itself from now on: every call answers `error`
        (`invalid_auth`, `account_inactive`, `token_revoked`: the errors every Web API method
        lists, docs.slack.dev/reference/methods/auth.test), until `restore_token`."""
        with self._lock:
            self._token_refusal = error

    def restore_token(self) -> None:
        with self._lock:
            self._token_refusal = None

    def delay_next(self, method: str, seconds: float, *, times: int = 1) -> None:
        """The next `times` calls to `method` take effect, but their answer comes `seconds` late."""
        with self._lock:
            self._transport.setdefault(method, []).append(Transport(seconds, False, True, times))

    def drop_next(self, method: str, *, times: int = 1, apply: bool = True) -> None:
        """Close the connection without answering; with `apply` the call took effect first,
        the case a client must never answer by simply trying again."""
        with self._lock:
            self._transport.setdefault(method, []).append(Transport(0.0, True, apply, times))

    def clear_faults(self) -> None:
        """Every injected failure, delay and drop switched off; the world stays as it is."""
        with self._lock:
            self._injected.clear()
            self._transport.clear()
            self._content_refusals.clear()

    def take_transport(self, method: str) -> Transport | None:
        """The delay or drop switch for this call, consumed (the HTTP layer acts on it)."""
        with self._lock:
            queue = self._transport.get(method)
            if not queue:
                return None
            switch = queue[0]
            switch.remaining -= 1
            if switch.remaining <= 0:
                queue.pop(0)
            return switch

    def limit_posts_per_channel(self, per_second: float | None, *, burst: int = 1) -> None:
        """Slack's posting limit (about 1/s per channel), scalable for load tests; None = off.

        A token bucket holding `burst` posts: Slack tolerates short bursts, so a client that
        paces at exactly the rate is not refused for a few milliseconds of network jitter."""
        with self._lock:
            self._post_interval = 1.0 / per_second if per_second else None
            self._post_burst = float(max(1, burst))
            self._post_tokens.clear()

    # --- reading what people see -----------------------------------------------------------

    def history(self, channel: str) -> list[Args]:
        """Top-level messages, oldest first."""
        with self._lock:
            messages = self.workspace.channels[channel].messages.values()
            return [copy.deepcopy(m) for m in sorted(messages, key=lambda m: m["ts"])
                    if m.get("thread_ts", m["ts"]) == m["ts"]]

    def thread(self, channel: str, ts: str) -> list[Args]:
        """The replies under `ts`, oldest first (the parent excluded)."""
        with self._lock:
            messages = self.workspace.channels[channel].messages.values()
            return [copy.deepcopy(m) for m in sorted(messages, key=lambda m: m["ts"])
                    if m.get("thread_ts") == ts and m["ts"] != ts]

    def message(self, channel: str, ts: str) -> Args:
        with self._lock:
            return copy.deepcopy(self.workspace.channels[channel].messages[ts])

    def versions(self, channel: str, ts: str) -> list[Args]:
        """Every version of a bot message: as posted, then after each `chat.update`."""
        with self._lock:
            return copy.deepcopy(self.workspace.versions.get((channel, ts), []))

    @property
    def ephemerals(self) -> list[Args]:
        with self._lock:
            return copy.deepcopy(self.workspace.ephemerals)

    @property
    def views(self) -> dict[str, Args]:
        with self._lock:
            return copy.deepcopy(self.workspace.views)

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [call for call in self.calls if call.method == method]

    # --- serving ---------------------------------------------------------------------------

    def handle(self, method: str, args: Args,
               token: str | None) -> tuple[int, Args, dict[str, str]]:
        """One API call → (HTTP status, JSON body, extra headers)."""
        with self._lock:
            args = {k: v for k, v in args.items() if k not in ("token", "team_id")}
            self.calls.append(Call(method, copy.deepcopy(args), self.clock()))
            refused = self._scope_refusal(method, args) if token == self.bot_token else None
            if refused is not None:
                return 200, refused, {}
            try:
                body = self._dispatch(method, args, token)
            except SlackFailure as failure:
                return failure_answer(failure)
            return 200, {"ok": True, **body}, {}

    def _dispatch(self, method: str, args: Args, token: str | None) -> Args:
        if not token:
            raise SlackFailure("not_authed")
        if token != self.bot_token:
            raise SlackFailure("invalid_auth")
        if self._token_refusal is not None:
            raise SlackFailure(self._token_refusal)
        self._raise_injected(method)
        if self.rate_tiers:
            self._tiers.take(method, self.clock())
        if method == "chat.postMessage":
            self._refuse_content(args)
        if method == "auth.test":
            return {"url": "https://fake.slack.local/", "team": "Fake Kommune", "user": "borgerbot",
                    "team_id": self.team_id, "user_id": BOT_USER, "bot_id": BOT_ID,
                    "app_id": APP_ID, "is_enterprise_install": False}
        handler = getattr(self.workspace, method.replace(".", "_"), None)
        if handler is None or method.startswith("_"):
            raise SlackFailure("unknown_method")
        if method == "chat.postMessage":
            self._throttle_posts(str(args.get("channel", "")))
        result: Args = handler(args)
        return result

    def _scope_refusal(self, method: str, args: Args) -> Args | None:
        """`missing_scope` when the granted scopes do not cover the call."""
        if self.scopes is None:
            return None
        ref = str(args.get("channel") or "").lstrip("#")
        channel = self.workspace.channels.get(ref) or next(
            (c for c in self.workspace.channels.values() if c.name == ref), None)
        return missing_scope(self.scopes, needed_scopes(method, args, channel.private if channel else None))

    def _raise_injected(self, method: str) -> None:
        queue = self._injected.get(method)
        if not queue:
            return
        injected = queue[0]
        injected.remaining -= 1
        if injected.remaining <= 0:
            queue.pop(0)
        raise SlackFailure(injected.error, status=injected.status, retry_after=injected.retry_after)

    def _refuse_content(self, args: Args) -> None:
        content = f"{args.get('text') or ''}\n{args.get('blocks') or ''}"
        for text, error in self._content_refusals:
            if text in content:
                raise SlackFailure(error)

    def _throttle_posts(self, channel: str) -> None:
        if self._post_interval is None:
            return
        now = self.clock()
        tokens, at = self._post_tokens.get(channel, (self._post_burst, now))
        tokens = min(self._post_burst, tokens + (now - at) / self._post_interval)
        if tokens < 1.0 - 1e-9:  # a client pacing at exactly the rate is on time
            wait = (1.0 - tokens) * self._post_interval
            raise SlackFailure("ratelimited", status=429, retry_after=max(1, math.ceil(wait)))
        self._post_tokens[channel] = (tokens - 1.0, now)

    @contextmanager
    def running(self) -> Iterator[FakeSlack]:
        self.start()
        try:
            yield self
        finally:
            self.stop()
