"""Instagram professional account connector: comments and replies on recent media, DMs.

One media request per 100 recent media brings each with its newest top-level comments and
their replies (docs 6). Instagram threads have one level: a reply is posted with
`POST /{top-level comment}/replies`, and moderation uses `hide` instead of `is_hidden`.

Known limit: a new reply under a top-level comment that is older than the newest
`comments_per_item` comments of its media is only seen once that media's comment page is
followed, which happens only while the page is entirely new.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.platforms.base import FetchResult, ReplyTarget
from bot.platforms.graph import GraphClient
from bot.platforms.graph_cursor import Collected, parse_time

REPLY_FIELDS = "id,text,timestamp,username,from{id,username},hidden,parent_id"


class InstagramClient(GraphClient):
    """`account` is the Instagram user id; `token` its Instagram (or Page) access token."""

    platform = "instagram"
    messaging_platform = "instagram"
    name_key = "username"
    hide_param = "hide"
    reply_edge = "replies"
    thread_fields = "id,text,from{id,username}"
    thread_params: dict[str, str] = {}

    def fetch_new(self, stream: str, cursor: str) -> FetchResult:
        if stream == "messages":
            items, own, next_cursor = self.fetch_messages(cursor)
            return FetchResult(items=items, own_replies=own, next_cursor=next_cursor)
        if stream != "comments":
            raise ValueError(f"unknown stream {stream!r}")
        seen = self.window(cursor)
        limit = self.comments_per_item
        nested = (
            f"comments.limit({limit}){{{REPLY_FIELDS},replies.limit({limit}){{{REPLY_FIELDS}}}}}"
        )
        first = self.get(
            f"{self.account}/media",
            limit=self.page_size,
            fields=f"id,caption,timestamp,permalink,comments_count,{nested}",
        )
        for number, media in enumerate(self.follow(first), start=1):
            self._collect_media(media, seen)
            if number >= self.recent_items:
                break
        return FetchResult(items=seen.items, own_replies=seen.own,
                           next_cursor=seen.next_cursor(cursor))

    def _collect_media(self, media: dict[str, Any], seen: Collected) -> None:
        """Top-level comments come newest first; replies are read in every listed thread."""
        for comment in self.follow(media.get("comments", {})):
            created = parse_time(comment["timestamp"])
            self._collect_comment(comment, media, created, seen)
            for reply in self.follow(comment.get("replies", {})):
                self._collect_comment(reply, media, parse_time(reply["timestamp"]), seen)
            if created <= seen.since:
                break

    def _collect_comment(
        self, comment: dict[str, Any], media: dict[str, Any], created: datetime, seen: Collected
    ) -> None:
        if comment.get("hidden") or not seen.is_new(comment["id"], created):
            return
        parent = comment.get("parent_id")
        if comment.get("from", {}).get("id") == self.account:
            seen.own.append(self.own_reply(comment, parent or media["id"], created))
            return
        thread = parent or comment["id"]
        target = ReplyTarget("comment", {"object_id": thread, "item_id": comment["id"]})
        seen.items.append(self.item(
            comment, kind="reply" if parent else "comment", created=created, target=target,
            post_id=media["id"], post_text=media.get("caption"),
            permalink=media.get("permalink"),
        ))
