"""Facebook Page connector: comments and replies on recent posts, visitor posts, Messenger.

One poll of the `comments` stream is one feed request per 100 recent posts: field
expansion brings each post with its newest comments and replies (`filter(stream)` flattens
threads, `reverse_chronological` puts the newest first). Only a post whose nested page is
entirely new has older comments worth a follow-up call (docs 6).
"""

from __future__ import annotations

from typing import Any

from bot.platforms.base import ReplyTarget
from bot.platforms.graph import GraphClient
from bot.platforms.graph_cursor import Collected, parse_time

COMMENT_FIELDS = "id,message,created_time,from{id,name},parent{id},is_hidden,permalink_url"


class FacebookClient(GraphClient):
    """`account` is the Page id; `token` a Page access token."""

    platform = "facebook"

    def posts_fields(self) -> str:
        nested = (
            f"comments.filter(stream).order(reverse_chronological)"
            f".limit({self.comments_per_item}){{{COMMENT_FIELDS}}}"
        )
        return f"id,message,created_time,from{{id,name}},permalink_url,{nested}"

    def collect_post(self, post: dict[str, Any], seen: Collected) -> None:
        """A visitor's post is itself an inquiry; its comments come newest first."""
        created = parse_time(post["created_time"])
        author = post.get("from", {}).get("id")
        if author != self.account and seen.is_new(post["id"], created):
            target = ReplyTarget("comment", {"object_id": post["id"], "item_id": post["id"]})
            seen.items.append(self.item(post, kind="post", created=created, target=target,
                                        post_id=post["id"]))
        for comment in self.follow(post.get("comments", {})):
            when = self.take_comment(comment, post, seen, "created_time")
            if when is not None and when <= seen.since:
                break
