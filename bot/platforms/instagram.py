"""Instagram professional account connector: comments and replies on recent media, DMs.

One media request per 100 recent media brings each with its newest top-level comments and
their replies (docs 6). Instagram threads have one level: a reply is posted with
`POST /{top-level comment}/replies`, and moderation uses `hide` instead of `is_hidden`.

Known limit: a new reply under a top-level comment that is older than the newest
`comments_per_item` comments of its media is only seen once that media's comment page is
followed, which happens only while the page is entirely new.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from bot.platforms.graph import GraphClient
from bot.platforms.graph_cursor import Collected

REPLY_FIELDS = "id,text,timestamp,username,from{id,username},hidden,parent_id"


class InstagramClient(GraphClient):
    """`account` is the Instagram user id; `token` its Instagram (or Page) access token."""

    platform = "instagram"
    messaging_platform = "instagram"
    name_key = "username"
    posts_edge = "media"
    caption_key = "caption"
    hidden_key = "hidden"
    hide_param = "hide"
    reply_edge = "replies"
    thread_fields = "id,text,from{id,username}"
    thread_params: ClassVar[Mapping[str, str]] = {}

    def posts_fields(self) -> str:
        limit = self.comments_per_item
        nested = (
            f"comments.limit({limit}){{{REPLY_FIELDS},replies.limit({limit}){{{REPLY_FIELDS}}}}}"
        )
        return f"id,caption,timestamp,permalink,comments_count,{nested}"

    def collect_post(self, post: dict[str, Any], seen: Collected) -> None:
        """Top-level comments come newest first; replies are read in every listed thread."""
        for comment in self.follow(post.get("comments", {})):
            created = self.take_comment(comment, post, seen, "timestamp")
            if created is None:
                continue
            for reply in self.follow(comment.get("replies", {})):
                self.take_comment(reply, post, seen, "timestamp")
            if created <= seen.since:
                break

    def parent_of(self, comment: dict[str, Any]) -> str | None:
        return comment.get("parent_id")
