"""What the Facebook and Instagram connectors share: paging, time windows, comment threads,
Messenger-style conversations and the marker that makes replies findable.

The token travels in an `Authorization` header and is stripped from every `paging.next`
URL Graph hands back, so it never appears in a URL that httpx or we could log.

Graph's error codes are mapped in `graph_errors`; incremental reading (time window with
overlap, plus memory of what it returned) lives in `graph_cursor`.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any, ClassVar

import httpx

from bot.errors import PlatformError, RateLimited
from bot.platforms.base import FetchResult, IncomingItem, OwnReply, ReplyTarget, SentReply
from bot.platforms.graph_cursor import Collected, parse_time
from bot.platforms.graph_errors import classify_graph
from bot.platforms.http import (
    DEFAULT_LIMITS,
    DEFAULT_RETRY,
    DEFAULT_TIMEOUT,
    ApiClient,
    Limits,
    RetryPolicy,
    make_http,
)

# Meta throttles at 100 % of any budget in its usage headers (platform-apis.md §1.8): from
# 80 % on, the account rests until `estimated_time_to_regain_access` or this long, so
# polling slows down before Meta blocks it (a rolling window drains while we wait).
USAGE_LIMIT_PERCENT = 80.0
USAGE_REST_SECONDS = 600.0

# Invisible characters (zero-width space, non-joiner, joiner, word joiner) carry 2 bits
# each; the invisible separator U+2063 opens the marker.
SHAPE_ERRORS = (KeyError, TypeError, ValueError, AttributeError)
"""What reading a Graph object of an unexpected form raises: that object is set aside (see
`Collected.put_aside`) and the rest of the page is read."""

_MARK_START = "\u2063"
_MARK_DIGITS = "\u200b\u200c\u200d\u2060"


def reply_marker(idempotency_key: str) -> str:
    """48 bits of the key's hash, written in characters no reader sees.

    Graph has no idempotency keys (docs 1.12), so the key travels inside the reply itself;
    after a crash `find_reply` recognises our reply by it instead of guessing from the text.
    """
    value = int.from_bytes(hashlib.sha256(idempotency_key.encode()).digest()[:6], "big")
    digits = "".join(_MARK_DIGITS[(value >> shift) & 3] for shift in range(46, -2, -2))
    return _MARK_START + digits


def strip_marker(text: str) -> str:
    head, _, _ = text.partition(_MARK_START)
    return head


def _text(raw: dict[str, Any]) -> str:
    """Facebook objects and all messages say `message`; Instagram comments say `text`."""
    return str(raw.get("message", raw.get("text", "")))


class GraphClient(ABC):
    """Shared base of `FacebookClient` and `InstagramClient`: one account on Graph.

    The class attributes are where the two dialects differ; Facebook's are the defaults.
    """

    platform = "graph"
    messaging_platform = "messenger"
    name_key = "name"
    posts_edge = "feed"
    caption_key = "message"
    hidden_key = "is_hidden"
    hide_param = "is_hidden"
    reply_edge = "comments"
    thread_fields = "id,message,from"
    thread_params: ClassVar[Mapping[str, str]] = {"filter": "stream"}

    def __init__(
        self,
        account: str,
        token: str,
        base_url: str,
        *,
        http: httpx.Client | None = None,
        recent_items: int = 100,
        comments_per_item: int = 50,
        overlap: timedelta = timedelta(minutes=10),
        lookback: timedelta = timedelta(days=7),
        timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy = DEFAULT_RETRY,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self.account = account
        self.recent_items = recent_items
        self.page_size = min(recent_items, 100)
        self.comments_per_item = comments_per_item
        self.overlap, self.lookback = overlap, lookback
        self._base = httpx.URL(base_url if base_url.endswith("/") else base_url + "/")
        self._auth = {"Authorization": f"Bearer {token}"}
        self.api = ApiClient(
            http or make_http(str(self._base), timeout=timeout),
            platform=self.platform, account=account, secrets=[token],
            classify=classify_graph, retry=retry, limits=limits,
        )

    def streams(self) -> list[str]:
        return ["comments", "messages"]

    def close(self) -> None:
        self.api.close()

    # -- HTTP helpers ----------------------------------------------------------------------

    def get(self, path: str, **params: Any) -> Any:
        return self.api.call("GET", str(self._base.join(path)), params=params, headers=self._auth)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.api.call("POST", str(self._base.join(path)), headers=self._auth, **kwargs)

    def follow(self, envelope: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every element of a list envelope and the pages after it, fetched lazily.

        The end is "no paging.next", never a short page (docs 1.6). The caller stops the
        iteration as soon as it has reached what it already knows. A `next` link seen before
        in this walk, or a poll past its limits, ends the walk with a `PlatformError`.
        """
        walk = self.api.walk("Graph paging")
        while True:
            data = envelope.get("data", []) if isinstance(envelope, dict) else None
            if not isinstance(data, list):
                raise self.api.error(PlatformError, "a list answer of an unexpected form")
            walk.took(len(data))
            yield from data
            paging = envelope.get("paging")
            link = paging.get("next") if isinstance(paging, dict) else None
            if not link:
                return
            walk.follow(str(link))
            url = httpx.URL(link).copy_remove_param("access_token")
            if (url.scheme, url.host, url.port) != (
                self._base.scheme, self._base.host, self._base.port,
            ):
                raise self.api.error(PlatformError, f"paging link leaves {self._base.host}")
            envelope = self.api.call("GET", str(url), headers=self._auth)

    def window(self, cursor: str) -> Collected:
        return Collected.parse(cursor, self.overlap, self.lookback)

    # -- comments on the account's recent posts or media -----------------------------------

    def fetch_new(self, stream: str, cursor: str) -> FetchResult:
        self._rest_if_near_limit()
        try:
            return self._fetch(stream, cursor)
        except RateLimited:
            self.api.usage = None  # the pause this causes already answers the reading
            raise

    def _fetch(self, stream: str, cursor: str) -> FetchResult:
        self.api.begin_poll()
        if stream == "messages":
            return self.fetch_messages(cursor)
        if stream != "comments":
            raise ValueError(f"unknown stream {stream!r}")
        seen = self.window(cursor)
        first = self.get(
            f"{self.account}/{self.posts_edge}", limit=self.page_size, fields=self.posts_fields()
        )
        for number, post in enumerate(self.follow(first), start=1):
            try:
                self.collect_post(post, seen)
            except SHAPE_ERRORS as exc:
                seen.put_aside(post, exc)
            if number >= self.recent_items:
                break
        return seen.result(cursor)

    def _rest_if_near_limit(self) -> None:
        """Raise `RateLimited` (the poller pauses the account) when the last answer's usage
        headers said a budget is at 80 % or more, or Meta named a time to regain access.

        Checked before a fetch, so what the previous fetch read is stored first. The reading
        is spent by raising: after the pause, the next answer brings fresh headers.
        """
        usage = self.api.usage
        if usage is None or (usage.percent < USAGE_LIMIT_PERCENT and not usage.regain_seconds):
            return
        self.api.usage = None
        raise self.api.rate_limited(
            f"Meta usage headers at {usage.percent:.0f} % of a budget; resting",
            max(usage.regain_seconds, USAGE_REST_SECONDS),
        )

    @abstractmethod
    def posts_fields(self) -> str:
        """The `fields` of one posts request: each post with its newest comments nested."""

    @abstractmethod
    def collect_post(self, post: dict[str, Any], seen: Collected) -> None:
        """Walk one post's comment threads as far back as the window reaches."""

    def take_comment(
        self, comment: Any, post: dict[str, Any], seen: Collected, time_key: str
    ) -> datetime | None:
        """Collect one comment; its creation time, or None when it could not be read."""
        try:
            created = parse_time(comment[time_key])
            self.collect_comment(comment, post, created, seen)
        except SHAPE_ERRORS as exc:
            seen.put_aside(comment, exc)
            return None
        return created

    def parent_of(self, comment: dict[str, Any]) -> str | None:
        parent: str | None = comment.get("parent", {}).get("id")
        return parent

    def collect_comment(
        self, comment: dict[str, Any], post: dict[str, Any], created: datetime, seen: Collected
    ) -> None:
        """A citizen's comment or reply becomes an item; the account's own, an own reply."""
        if comment.get(self.hidden_key) or not seen.is_new(comment["id"], created):
            return
        parent = self.parent_of(comment)
        if comment.get("from", {}).get("id") == self.account:
            seen.own.append(self.own_reply(comment, parent or post["id"], created))
            return
        thread = parent or comment["id"]
        target = ReplyTarget("comment", {"object_id": thread, "item_id": comment["id"]})
        seen.items.append(self.item(
            comment, kind="reply" if parent else "comment", created=created, target=target,
            post_id=post["id"], post_text=post.get(self.caption_key),
            permalink=post.get("permalink"),
        ))

    # -- conversations (Messenger and Instagram DMs look the same) -------------------------

    def fetch_messages(self, cursor: str) -> FetchResult:
        seen = self.window(cursor)
        first = self.get(
            f"{self.account}/conversations",
            platform=self.messaging_platform,
            limit=25,
            fields="id,updated_time,participants,messages.limit(20)"
            "{id,created_time,from,message}",
        )
        for conversation in self.follow(first):
            try:
                if parse_time(conversation["updated_time"]) <= seen.since:
                    break
                messages = list(self._new_messages(conversation.get("messages", {}), seen.since))
                self._collect_messages(conversation["id"], messages, seen)
            except SHAPE_ERRORS as exc:
                seen.put_aside(conversation, exc)
        return seen.result(cursor)

    def _new_messages(self, envelope: dict[str, Any], since: datetime) -> Iterator[dict[str, Any]]:
        """Messages come newest first; stop once a page reaches back past the window."""
        for message in self.follow(envelope):
            yield message
            if parse_time(message["created_time"]) <= since:
                return

    def _collect_messages(
        self, conversation_id: str, messages: list[dict[str, Any]], seen: Collected
    ) -> None:
        latest_citizen: dict[str, Any] | None = None
        for message in sorted(messages, key=lambda m: (parse_time(m["created_time"]), m["id"])):
            created = parse_time(message["created_time"])
            author = message.get("from", {})
            own = author.get("id") == self.account
            if not own:
                latest_citizen = message
            if not seen.is_new(message["id"], created):
                continue
            if own and latest_citizen is not None:
                seen.own.append(self.own_reply(message, latest_citizen["id"], created))
            elif not own:
                target = ReplyTarget("message", {
                    "recipient_id": str(author.get("id", "")),
                    "conversation_id": conversation_id,
                    "item_id": message["id"],
                })
                seen.items.append(self.item(
                    message, kind="message", created=created, target=target,
                    conversation_id=conversation_id,
                ))

    # -- shaping ---------------------------------------------------------------------------

    def item(
        self,
        raw: dict[str, Any],
        *,
        kind: str,
        created: datetime,
        target: ReplyTarget,
        permalink: str | None = None,
        **extra: Any,
    ) -> IncomingItem:
        author = raw.get("from", {})
        return IncomingItem(
            platform=self.platform, account=self.account, external_id=raw["id"], kind=kind,
            author_id=str(author.get("id", "")),
            author_name=str(author.get(self.name_key) or raw.get("username") or ""),
            text=strip_marker(_text(raw)),
            created_at=created, reply_target=target,
            permalink=permalink or raw.get("permalink_url") or raw.get("permalink"), **extra,
        )

    def own_reply(self, raw: dict[str, Any], answers: str, created: datetime) -> OwnReply:
        return OwnReply(
            platform=self.platform, external_id=raw["id"], answers_external_id=answers,
            text=strip_marker(_text(raw)), created_at=created,
        )

    # -- replying --------------------------------------------------------------------------

    def send_reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> SentReply:
        """Post in the comment thread, or send a message; the marker makes it findable."""
        marked = text + reply_marker(idempotency_key)
        if target.mode == "message":
            answer = self.post(f"{self.account}/messages", json={
                "recipient": {"id": target.ref["recipient_id"]},
                "messaging_type": "RESPONSE",
                "message": {"text": marked},
            })
            return SentReply(external_id=str(answer["message_id"]))
        answer = self.post(f"{target.ref['object_id']}/{self.reply_edge}", data={"message": marked})
        return SentReply(external_id=str(answer["id"]))

    def find_reply(self, target: ReplyTarget, idempotency_key: str) -> SentReply | None:
        """Read back the thread or conversation and look for our marker (docs 1.12)."""
        marker = reply_marker(idempotency_key)
        self.api.begin_poll()
        if target.mode == "message":
            fields = "messages.limit(20){id,message,from}"
            envelope = self.get(target.ref["conversation_id"], fields=fields).get("messages", {})
        else:
            envelope = self.get(f"{target.ref['object_id']}/{self.reply_edge}",
                                fields=self.thread_fields, limit=100, **self.thread_params)
        for raw in self.follow(envelope):
            if raw.get("from", {}).get("id") == self.account and marker in _text(raw):
                return SentReply(external_id=str(raw["id"]))
        return None

    def hide(self, target: ReplyTarget, hidden: bool) -> None:
        if target.mode != "comment":
            raise self.api.error(PlatformError, "only comments can be hidden")
        self.post(target.ref["item_id"], data={self.hide_param: "true" if hidden else "false"})
