"""The fake Slack's world and its Web API methods: channels, messages, threads, ephemeral
messages, modals, users and user groups, with Slack's error codes.

Written from Slack's method reference (chat-platforms.md §4 and "What a fake Slack must
model"), not from borgerbot's client, so the two can disagree and a test will notice.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from bot.sandbox.slack_blockkit import block_errors, view_errors
from bot.sandbox.slack_composer import Composer

BOT_USER, BOT_ID, APP_ID = "UBOT", "BBOT", "A1"
TEXT_TRUNCATED_AT, UPDATE_TEXT_LIMIT, BLOCK_TEXT_BUDGET = 40_000, 4_000, 13_000
TRIGGER_LIFETIME = 3.0
PERMALINK_ROOT = "https://fake.slack.local/archives"

Args = dict[str, Any]


class SlackFailure(Exception):
    """A Slack error answer: `{"ok": false, "error": code}` plus optional extras."""

    def __init__(self, code: str, *, status: int = 200, retry_after: int | None = None,
                 messages: list[str] | None = None) -> None:
        super().__init__(code)
        self.code, self.status, self.retry_after = code, status, retry_after
        self.messages = messages or []


@dataclass
class Channel:
    id: str
    name: str
    private: bool = False
    archived: bool = False
    members: set[str] = field(default_factory=set)
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)  # ts -> message


def _required(args: Args, name: str, code: str = "invalid_arguments") -> str:
    value = args.get(name)
    if not value:
        raise SlackFailure(code)
    return str(value)


def _flag(value: Any) -> bool:
    """A boolean argument as clients send it: true, "true" or "1" (slack_sdk sends "1")."""
    return value is True or str(value).lower() in ("1", "true")


def _shown(messages: list[dict[str, Any]], args: Args) -> list[dict[str, Any]]:
    """Messages as a reader gets them: `metadata` only for a caller that asks for it."""
    keep = _flag(args.get("include_all_metadata"))
    return [m if keep else {k: v for k, v in m.items() if k != "metadata"}
            for m in copy.deepcopy(messages)]


def _in_window(ts: str, args: Args) -> bool:
    """conversations.replies' `oldest`/`latest` window, bounds excluded unless `inclusive`
    (https://docs.slack.dev/reference/methods/conversations.replies; a bound that is not a ts
    is `invalid_ts_oldest` / `invalid_ts_latest`)."""
    moment, inclusive = Decimal(ts), _flag(args.get("inclusive"))
    bounds = {}
    for name in ("oldest", "latest"):
        try:
            bounds[name] = Decimal(str(args[name])) if args.get(name) else None
        except InvalidOperation:
            raise SlackFailure(f"invalid_ts_{name}") from None
    oldest, latest = bounds["oldest"], bounds["latest"]
    if oldest is not None and (moment < oldest or (moment == oldest and not inclusive)):
        return False
    return latest is None or moment < latest or (moment == latest and inclusive)


def _page(items: list[Any], args: Args, default_limit: int) -> tuple[list[Any], str]:
    start = int(args.get("cursor") or 0)
    limit = int(args.get("limit") or default_limit)
    end = start + limit
    return items[start:end], (str(end) if end < len(items) else "")


class Workspace:
    """One team. `clock` (epoch seconds) drives ts values and trigger expiry."""

    def __init__(self, clock: Callable[[], float], team_id: str = "T1") -> None:
        self.clock = clock
        self.team_id = team_id
        self.channels: dict[str, Channel] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.usergroups: dict[str, list[str]] = {}
        self.ephemerals: list[dict[str, Any]] = []
        self.views: dict[str, dict[str, Any]] = {}
        self.triggers: dict[str, float] = {}
        self.versions: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._last_us = 0
        self._ids = itertools.count(1)

    # --- helpers -------------------------------------------------------------------------

    def next_ts(self) -> str:
        """Strictly increasing, equal-width `seconds.micros`, so string order is time order."""
        self._last_us = max(int(self.clock() * 1_000_000), self._last_us + 1)
        return f"{self._last_us // 1_000_000}.{self._last_us % 1_000_000:06d}"

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}"

    def channel(self, args: Args, *, member: str = BOT_USER, by_name: bool = False) -> Channel:
        """The channel named by `args["channel"]`. Only `chat.postMessage` and
        `chat.postEphemeral` take a `#name` as well as an id ("an encoded ID, or a name",
        docs.slack.dev/reference/methods/chat.postMessage); every other method wants the
        id and answers `channel_not_found`. A user id is not a channel: `channel_not_found`."""
        ref = _required(args, "channel", "channel_not_found")
        found = self.channels.get(ref)
        if found is None and by_name:
            found = next((c for c in self.channels.values() if c.name == ref.lstrip("#")), None)
        if found is None or (found.private and member not in found.members):
            raise SlackFailure("channel_not_found")
        if member not in found.members:
            raise SlackFailure("not_in_channel")
        return found

    def message(self, channel: Channel, ts: str) -> dict[str, Any]:
        if ts not in channel.messages:
            raise SlackFailure("message_not_found")
        return channel.messages[ts]

    @staticmethod
    def blocks_of(args: Args, *, required: bool = False) -> list[Any] | None:
        blocks = args.get("blocks")
        if isinstance(blocks, str):
            try:
                blocks = json.loads(blocks)
            except ValueError:
                raise SlackFailure("invalid_blocks_format") from None
        if blocks is None:
            return None
        errors = block_errors(blocks, text_budget=BLOCK_TEXT_BUDGET)
        if any("msg_blocks_too_long" in e for e in errors):
            raise SlackFailure("msg_blocks_too_long", messages=errors)
        if errors:
            raise SlackFailure("invalid_blocks", messages=errors)
        return list(blocks)

    # --- chat.* --------------------------------------------------------------------------

    def chat_postMessage(self, args: Args) -> Args:
        channel = self.channel(args, by_name=True)
        if channel.archived:
            raise SlackFailure("is_archived")
        blocks = self.blocks_of(args)
        text = str(args.get("text") or "")[:TEXT_TRUNCATED_AT]
        if not text and not blocks:
            raise SlackFailure("no_text")
        ts = self.next_ts()
        message: dict[str, Any] = {"type": "message", "user": BOT_USER, "bot_id": BOT_ID,
                                   "app_id": APP_ID, "team": self.team_id, "text": text, "ts": ts}
        if blocks is not None:
            message["blocks"] = blocks
        if args.get("metadata"):
            message["metadata"] = args["metadata"]
        if args.get("thread_ts"):
            self._attach_to_thread(channel, message, str(args["thread_ts"]))
        channel.messages[ts] = message
        self.versions[(channel.id, ts)] = [copy.deepcopy(message)]
        return {"channel": channel.id, "ts": ts, "message": copy.deepcopy(message)}

    def add_human_message(self, channel: Channel, user: str, text: str, thread_ts: str | None, *,
                          broadcast: bool = False, files: tuple[str, ...] = ()) -> dict[str, Any]:
        """`broadcast`: "Also send to channel", subtype `thread_broadcast` with a `root`
        describing the parent (docs.slack.dev/reference/events/message/thread_broadcast);
        `files`: subtype `file_share` with `files` and `upload` (docs.slack.dev/reference/
        events/message/file_share)."""
        ts = self.next_ts()
        message: dict[str, Any] = {"type": "message", "user": user, "ts": ts, "team": self.team_id,
                                   "client_msg_id": self.new_id("cm-")} | self.typed(text)
        if thread_ts:
            self._attach_to_thread(channel, message, thread_ts)
        if broadcast and thread_ts:
            message["subtype"] = "thread_broadcast"
            message["root"] = copy.deepcopy(channel.messages[message["thread_ts"]])
        if files:
            message.update(subtype="file_share", upload=True, display_as_bot=False, files=[
                {"id": self.new_id("F"), "name": name, "title": name, "user": user,
                 "mode": "hosted", "url_private": f"https://files.fake.slack.local/{name}"}
                for name in files])
        channel.messages[ts] = message
        return copy.deepcopy(message)

    def delete_human_message(self, channel: Channel, ts: str, user: str) -> dict[str, Any]:
        """A person deletes their own message. Slack sends `message_deleted` with `deleted_ts`
        and `previous_message` (docs.slack.dev/reference/events/message/message_deleted); a
        thread parent that has replies is kept as a `tombstone` ("This message was deleted.")
        announced by `message_changed` (seen from Slack; the reference is silent)."""
        message = self.message(channel, ts)
        if message.get("user") != user:
            raise SlackFailure("cant_delete_message")
        previous, event_ts = copy.deepcopy(message), self.next_ts()
        if message.get("reply_count"):
            message.update(subtype="tombstone", text="This message was deleted.", hidden=True)
            message.pop("files", None)
            return {"type": "message", "subtype": "message_changed", "hidden": True,
                    "channel": channel.id, "ts": event_ts, "event_ts": event_ts,
                    "message": copy.deepcopy(message), "previous_message": previous}
        del channel.messages[ts]
        root = channel.messages.get(str(message.get("thread_ts", ts)))
        if root is not None and root["ts"] != ts:
            root["reply_count"] -= 1
        return {"type": "message", "subtype": "message_deleted", "hidden": True, "channel": channel.id,
                "ts": event_ts, "event_ts": event_ts, "deleted_ts": ts, "previous_message": previous}

    def edit_human_message(self, channel: Channel, ts: str, user: str, text: str) -> dict[str, Any]:
        """A person edits their own message; returns the `message_changed` event Slack sends."""
        message = self.message(channel, ts)
        if message.get("user") != user:
            raise SlackFailure("cant_update_message")  # Slack lets people edit only their own
        previous = copy.deepcopy(message)
        message.update(self.typed(text))
        message["edited"] = {"user": user, "ts": self.next_ts()}
        event_ts = self.next_ts()
        return {"type": "message", "subtype": "message_changed", "hidden": True, "channel": channel.id,
                "ts": event_ts, "event_ts": event_ts, "message": copy.deepcopy(message),
                "previous_message": previous}

    def typed(self, text: str) -> dict[str, Any]:
        """`text` and `blocks` as a Slack client sends what a person typed: escaped, wrapped
        and with a rich_text block (slack_composer explains the rules and cites Slack)."""
        names = {c.name: c.id for c in self.channels.values()}
        wire, blocks = Composer(self.users, self.usergroups, names).compose(text, self.new_id("b"))
        return {"text": wire, "blocks": blocks}

    def _attach_to_thread(self, channel: Channel, message: dict[str, Any], thread_ts: str) -> None:
        """A reply to a reply joins the parent's thread (our rule; Slack does not document it)."""
        parent = self.message(channel, thread_ts)
        root = channel.messages[parent.get("thread_ts", parent["ts"])]
        message["thread_ts"] = root["ts"]
        message["parent_user_id"] = root["user"]
        root["thread_ts"] = root["ts"]
        root["reply_count"] = root.get("reply_count", 0) + 1
        root["reply_users"] = sorted(set(root.get("reply_users", [])) | {message["user"]})
        root["latest_reply"] = message["ts"]

    def chat_update(self, args: Args) -> Args:
        channel = self.channel(args)
        message = self.message(channel, _required(args, "ts", "message_not_found"))
        if message.get("user") != BOT_USER:
            raise SlackFailure("cant_update_message")
        if "text" in args and len(str(args["text"])) > UPDATE_TEXT_LIMIT:
            raise SlackFailure("msg_too_long")
        blocks = self.blocks_of(args)
        if "text" in args:
            message["text"] = str(args["text"])
        if blocks is not None:
            message["blocks"] = blocks
        if args.get("metadata"):
            message["metadata"] = args["metadata"]
        message["edited"] = {"user": BOT_USER, "ts": self.next_ts()}
        self.versions[(channel.id, message["ts"])].append(copy.deepcopy(message))
        return {"channel": channel.id, "ts": message["ts"], "text": message["text"],
                "message": copy.deepcopy(message)}

    def chat_postEphemeral(self, args: Args) -> Args:
        channel = self.channel(args, by_name=True)
        user = _required(args, "user", "user_not_found")
        if user not in channel.members:
            raise SlackFailure("user_not_in_channel")
        blocks = self.blocks_of(args)
        if not args.get("text") and not blocks:
            raise SlackFailure("no_text")
        ts = self.next_ts()
        self.ephemerals.append({"channel": channel.id, "user": user, "text": args.get("text", ""),
                                "blocks": blocks, "thread_ts": args.get("thread_ts"),
                                "message_ts": ts})
        return {"message_ts": ts}

    def chat_getPermalink(self, args: Args) -> Args:
        channel = self.channel(args)
        message = self.message(channel, _required(args, "message_ts", "message_not_found"))
        link = f"{PERMALINK_ROOT}/{channel.id}/p{message['ts'].replace('.', '')}"
        if message.get("thread_ts", message["ts"]) != message["ts"]:
            link += f"?thread_ts={message['thread_ts']}&cid={channel.id}"
        return {"channel": channel.id, "permalink": link}

    # --- conversations.*, users, groups ----------------------------------------------------

    def conversations_history(self, args: Args) -> Args:
        channel = self.channel(args)
        top = [m for m in channel.messages.values() if m.get("thread_ts", m["ts"]) == m["ts"]]
        oldest = float(args.get("oldest") or 0)
        top = [m for m in top if float(m["ts"]) >= oldest]
        page, cursor = _page(sorted(top, key=lambda m: m["ts"], reverse=True), args, 100)
        return {"messages": _shown(page, args), "has_more": bool(cursor),
                "response_metadata": {"next_cursor": cursor}}

    def conversations_replies(self, args: Args) -> Args:
        channel = self.channel(args)
        ts = _required(args, "ts", "thread_not_found")
        if ts not in channel.messages:
            raise SlackFailure("thread_not_found")
        replies = [m for m in channel.messages.values() if m.get("thread_ts") == ts and m["ts"] != ts]
        window = [m for m in replies if _in_window(m["ts"], args)]
        thread = [channel.messages[ts], *sorted(window, key=lambda m: m["ts"])]  # parent always first
        page, cursor = _page(thread, args, 1000)
        return {"messages": _shown(page, args), "has_more": bool(cursor),
                "response_metadata": {"next_cursor": cursor}}

    def conversations_list(self, args: Args) -> Args:
        """Channels the bot may see: every public one, private ones only as a member."""
        types = str(args.get("types") or "public_channel").split(",")
        found = [c for c in sorted(self.channels.values(), key=lambda c: c.id)
                 if ("private_channel" if c.private else "public_channel") in types
                 and (not c.private or BOT_USER in c.members)
                 and not (c.archived and _flag(args.get("exclude_archived")))]
        page, cursor = _page(found, args, 100)
        channels = [{"id": c.id, "name": c.name, "is_channel": not c.private,
                     "is_private": c.private, "is_archived": c.archived,
                     "is_member": BOT_USER in c.members} for c in page]
        return {"channels": channels, "response_metadata": {"next_cursor": cursor}}

    def conversations_members(self, args: Args) -> Args:
        page, cursor = _page(sorted(self.channel(args).members), args, 100)
        return {"members": page, "response_metadata": {"next_cursor": cursor}}

    def usergroups_users_list(self, args: Args) -> Args:
        group = _required(args, "usergroup", "no_such_subteam")
        if group not in self.usergroups:
            raise SlackFailure("no_such_subteam")
        return {"users": list(self.usergroups[group])}

    def users_info(self, args: Args) -> Args:
        user = _required(args, "user", "user_not_found")
        if user not in self.users:
            raise SlackFailure("user_not_found")
        return {"user": copy.deepcopy(self.users[user])}

    # --- views.* ---------------------------------------------------------------------------

    def new_trigger(self) -> str:
        trigger = f"{next(self._ids)}.{int(self.clock())}.fake"
        self.triggers[trigger] = self.clock()
        return trigger

    def _view(self, args: Args) -> dict[str, Any]:
        view: Any = args.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        errors = view_errors(view)
        if errors:
            raise SlackFailure("invalid_arguments", messages=errors)
        if len(json.dumps(view)) > 250_000:
            raise SlackFailure("view_too_large")
        return dict(view)

    def views_open(self, args: Args) -> Args:
        trigger = _required(args, "trigger_id", "invalid_trigger_id")
        issued = self.triggers.get(trigger)
        if issued is None:
            raise SlackFailure("invalid_trigger_id")
        if issued < 0:
            raise SlackFailure("exchanged_trigger_id")
        if self.clock() - issued > TRIGGER_LIFETIME:
            raise SlackFailure("expired_trigger_id")
        view = self._view(args)
        self.triggers[trigger] = -1.0
        view_id = self.new_id("V")
        view.update(id=view_id, root_view_id=view_id, previous_view_id=None, app_id=APP_ID,
                    bot_id=BOT_ID, team_id=self.team_id, state={"values": {}},
                    hash=f"{self.next_ts()}.h", external_id=view.get("external_id", ""))
        self.views[view_id] = view
        return {"view": copy.deepcopy(view)}

    def views_update(self, args: Args) -> Args:
        view_id = args.get("view_id") or next(
            (v["id"] for v in self.views.values()
             if args.get("external_id") and v.get("external_id") == args["external_id"]), None)
        if view_id not in self.views:
            raise SlackFailure("not_found")
        current = self.views[view_id]
        if args.get("hash") and args["hash"] != current["hash"]:
            raise SlackFailure("hash_conflict")
        view = self._view(args)
        kept = {k: current[k] for k in ("id", "root_view_id", "previous_view_id", "app_id",
                                        "bot_id", "team_id", "state", "external_id")}
        view.update(kept, hash=f"{self.next_ts()}.h")
        self.views[view_id] = view
        return {"view": copy.deepcopy(view)}
