"""Facebook Page connector: comments and replies on recent posts, visitor posts, Messenger.

One poll of the `comments` stream is one feed request per 100 recent posts: field
expansion brings each post with its newest comments and replies (`filter(stream)` flattens
threads, `reverse_chronological` puts the newest first). Only a post whose nested page is
entirely new has older comments worth a follow-up call (docs 6).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.platforms.base import FetchResult, ReplyTarget
from bot.platforms.graph import GraphClient
from bot.platforms.graph_cursor import Collected, parse_time

COMMENT_FIELDS = "id,message,created_time,from{id,name},parent{id},is_hidden,permalink_url"


class FacebookClient(GraphClient):
    """`account` is the Page id; `token` a Page access token."""

    platform = "facebook"

    def fetch_new(self, stream: str, cursor: str) -> FetchResult:
        if stream == "messages":
            items, own, next_cursor = self.fetch_messages(cursor)
            return FetchResult(items=items, own_replies=own, next_cursor=next_cursor)
        if stream != "comments":
            raise ValueError(f"unknown stream {stream!r}")
        seen = self.window(cursor)
        nested = (
            f"comments.filter(stream).order(reverse_chronological)"
            f".limit({self.comments_per_item}){{{COMMENT_FIELDS}}}"
        )
        first = self.get(
            f"{self.account}/feed",
            limit=self.page_size,
            fields=f"id,message,created_time,from{{id,name}},permalink_url,{nested}",
        )
        for number, post in enumerate(self.follow(first), start=1):
            self._collect_post(post, seen)
            if number >= self.recent_items:
                break
        return FetchResult(items=seen.items, own_replies=seen.own,
                           next_cursor=seen.next_cursor(cursor))

    def _collect_post(self, post: dict[str, Any], seen: Collected) -> None:
        created = parse_time(post["created_time"])
        author = post.get("from", {}).get("id")
        if author != self.account and seen.is_new(post["id"], created):
            target = ReplyTarget("comment", {"object_id": post["id"], "item_id": post["id"]})
            seen.items.append(self.item(post, kind="post", created=created, target=target,
                                        post_id=post["id"]))
        for comment in self.follow(post.get("comments", {})):
            created = parse_time(comment["created_time"])
            if created <= seen.since:
                break
            self._collect_comment(comment, post, created, seen)

    def _collect_comment(
        self, comment: dict[str, Any], post: dict[str, Any], created: datetime, seen: Collected
    ) -> None:
        if comment.get("is_hidden") or not seen.is_new(comment["id"], created):
            return
        parent = comment.get("parent", {}).get("id")
        if comment.get("from", {}).get("id") == self.account:
            seen.own.append(self.own_reply(comment, parent or post["id"], created))
            return
        thread = parent or comment["id"]
        target = ReplyTarget("comment", {"object_id": thread, "item_id": comment["id"]})
        seen.items.append(self.item(
            comment, kind="reply" if parent else "comment", created=created, target=target,
            post_id=post["id"], post_text=post.get("message"),
        ))
