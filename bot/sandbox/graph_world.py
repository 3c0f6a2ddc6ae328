"""What the Graph emulator knows: one Facebook Page, one Instagram account and their content.

Everything is a `Node` keyed by an opaque string id shaped like Graph's (post ids are
`{page}_{n}`, comment ids `{post part}_{n}`, conversations `t_…`, messages `m_…`). Edges
(`feed`, `comments`, `replies`, `messages`, …) are computed from the nodes, so deleting or
hiding something changes every list that would show it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S+0000"
MESSAGING_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)


@dataclass
class Node:
    id: str
    kind: str  # page, ig_user, post, comment, media, ig_comment, conversation, message
    owner: str  # the Page or Instagram account the node belongs to
    created: datetime
    author: dict[str, str]
    text: str = ""
    container: str | None = None  # post/media under a comment, conversation of a message
    parent: str | None = None  # top-level comment of a reply
    hidden: bool = False
    deleted: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def graph_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(TIME_FORMAT)


def as_time(value: datetime | str | None, default: datetime) -> datetime:
    """Admin calls pass ISO strings; Python callers pass datetimes."""
    if value is None:
        return default
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class GraphWorld:
    def __init__(
        self,
        *,
        page_id: str,
        page_name: str,
        ig_id: str,
        ig_username: str,
        now: Callable[[], datetime],
    ) -> None:
        self.page_id, self.ig_id, self.now = page_id, ig_id, now
        self.identities = {
            page_id: {"id": page_id, "name": page_name},
            ig_id: {"id": ig_id, "username": ig_username},
        }
        self.nodes: dict[str, Node] = {}
        self._numbers = itertools.count(1001)
        self.reset()

    def reset(self) -> None:
        self.malformed: dict[str, dict[str, Any]] = {}  # object id -> field -> value as rendered
        self.nodes.clear()
        self._numbers = itertools.count(1001)
        epoch = datetime(2020, 1, 1, tzinfo=UTC)
        self.nodes[self.page_id] = Node(self.page_id, "page", self.page_id, epoch, {})
        self.nodes[self.ig_id] = Node(self.ig_id, "ig_user", self.ig_id, epoch, {})

    def _number(self) -> str:
        return str(next(self._numbers))

    def get(self, node_id: str) -> Node:
        """The live node; KeyError when it never existed or was deleted."""
        node = self.nodes[node_id]
        if node.deleted:
            raise KeyError(node_id)
        return node

    # -- content created by citizens (and by the municipality outside the bot) -------------

    def add_post(
        self,
        message: str,
        *,
        author_id: str | None = None,
        author_name: str = "",
        created_at: datetime | str | None = None,
    ) -> str:
        """A Page post; with `author_id` a visitor post by that person."""
        author = {"id": author_id, "name": author_name} if author_id else self.identities[self.page_id]
        post_id = f"{self.page_id}_{self._number()}"
        created = as_time(created_at, self.now())
        self.nodes[post_id] = Node(post_id, "post", self.page_id, created, author, message)
        return post_id

    def add_media(self, caption: str, *, created_at: datetime | str | None = None) -> str:
        media_id = "1789" + self._number().zfill(13)
        created = as_time(created_at, self.now())
        author = self.identities[self.ig_id]
        self.nodes[media_id] = Node(media_id, "media", self.ig_id, created, author, caption)
        return media_id

    def add_comment(
        self,
        on: str,
        text: str,
        *,
        author_id: str,
        author_name: str = "",
        created_at: datetime | str | None = None,
    ) -> str:
        """A comment on a post or media, or a reply when `on` is a comment.

        Facebook keeps two levels: a reply to a reply joins the top-level comment's thread.
        """
        target = self.get(on)
        created = as_time(created_at, self.now())
        instagram = target.kind in ("media", "ig_comment")
        if instagram:
            author = {"id": author_id, "username": author_name}
            comment_id = "1790" + self._number().zfill(13)
            kind = "ig_comment"
        else:
            author = {"id": author_id, "name": author_name}
            post_part = (target.container or target.id).split("_")[-1]
            comment_id = f"{post_part}_{self._number()}"
            kind = "comment"
        is_comment = target.kind in ("comment", "ig_comment")
        container = target.container if is_comment else target.id
        parent = (target.parent or target.id) if is_comment else None
        self.nodes[comment_id] = Node(
            comment_id, kind, target.owner, created, author, text, container, parent
        )
        return comment_id

    def send_message(
        self,
        author_id: str,
        text: str,
        *,
        author_name: str = "",
        platform: str = "messenger",
        created_at: datetime | str | None = None,
    ) -> str:
        """A citizen's direct message to the Page (messenger) or Instagram account."""
        owner = self.page_id if platform == "messenger" else self.ig_id
        key = "name" if platform == "messenger" else "username"
        person = {"id": author_id, key: author_name}
        conversation = self.conversation_with(owner, platform, person)
        return self._message(conversation, person, text, as_time(created_at, self.now())).id

    def conversation_with(self, owner: str, platform: str, person: dict[str, str]) -> Node:
        for node in self.nodes.values():
            if (node.kind == "conversation" and node.extra["person"]["id"] == person["id"]
                    and node.owner == owner and not node.deleted):
                return node
        conversation_id = f"t_{self._number()}"
        node = Node(conversation_id, "conversation", owner, self.now(), {})
        node.extra.update(platform=platform, person=person)
        self.nodes[conversation_id] = node
        return node

    def _message(self, conversation: Node, sender: dict[str, str], text: str, at: datetime) -> Node:
        message_id = f"m_{self._number()}"
        node = Node(message_id, "message", conversation.owner, at, sender, text, conversation.id)
        self.nodes[message_id] = node
        return node

    # -- what the account does through the API ---------------------------------------------

    def account_comment(self, on: str, text: str) -> str:
        account = self.identities[self.get(on).owner]
        name = account.get("name") or account["username"]
        return self.add_comment(on, text, author_id=account["id"], author_name=name)

    def account_message(self, owner: str, recipient: str, text: str, human_agent: bool) -> str:
        """Send as the account; ValueError("window") outside the messaging window."""
        conversation = next(
            (
                n
                for n in self.nodes.values()
                if n.kind == "conversation" and n.owner == owner and not n.deleted
                and n.extra["person"]["id"] == recipient
            ),
            None,
        )
        if conversation is None:
            raise KeyError(recipient)
        last_heard = max(
            (m.created for m in self.edge(conversation, "messages") if m.author["id"] == recipient),
            default=conversation.created,
        )
        window = HUMAN_AGENT_WINDOW if human_agent else MESSAGING_WINDOW
        if self.now() - last_heard > window:
            raise ValueError("window")
        return self._message(conversation, self.identities[owner], text, self.now()).id

    # -- edges -----------------------------------------------------------------------------

    def edge(self, node: Node, name: str) -> list[Node]:
        """The live children of `node` on edge `name`, in Graph's default order.

        Children are picked before they are sorted: a post with ten thousand comments must
        not make every small edge (and every unknown field name) sort the whole world.
        """
        belongs = self._member_test(node, name)
        found = [n for n in self.nodes.values() if not n.deleted and belongs(n)]
        if name == "conversations":
            latest = {n.id: n.created for n in found}  # one pass, not one per conversation
            for message in self.nodes.values():
                if message.kind == "message" and not message.deleted and message.container in latest:
                    latest[message.container] = max(latest[message.container], message.created)
            return sorted(found, key=lambda n: latest[n.id], reverse=True)
        oldest_first = sorted(found, key=lambda n: (n.created, n.id))
        return oldest_first if name in ("comments", "replies") else oldest_first[::-1]

    @staticmethod
    def _member_test(node: Node, name: str) -> Callable[[Node], bool]:
        """Which nodes make up edge `name` of `node`; LookupError when it has no such edge."""
        if node.kind == "page" and name in ("feed", "posts", "published_posts"):
            own_only = name != "feed"
            return lambda n: (n.kind == "post" and n.owner == node.id
                              and (not own_only or n.author["id"] == node.id))
        if node.kind in ("page", "ig_user") and name == "conversations":
            return lambda n: n.kind == "conversation" and n.owner == node.id
        if node.kind == "ig_user" and name == "media":
            return lambda n: n.kind == "media" and n.owner == node.id
        if node.kind in ("post", "media") and name == "comments":
            return lambda n: n.container == node.id
        if node.kind in ("comment", "ig_comment") and name in ("comments", "replies"):
            return lambda n: n.parent == node.id
        if node.kind == "conversation" and name == "messages":
            return lambda n: n.container == node.id
        raise LookupError(name)

    def updated(self, node: Node) -> datetime:
        """Posts and conversations move when someone comments or writes in them."""
        kinds = {"post": "comments", "media": "comments", "conversation": "messages"}
        if node.kind not in kinds:
            return node.created
        return max([node.created, *(n.created for n in self.edge(node, kinds[node.kind]))])

    # -- read-back helpers for tests and the demo ------------------------------------------

    def replies_to(self, object_id: str) -> list[dict[str, Any]]:
        """What the account itself wrote under a post, media or comment thread."""
        thread = self.nodes[object_id]
        return [
            {"id": n.id, "text": n.text, "hidden": n.hidden}
            for n in self.nodes.values()
            if n.author.get("id") == thread.owner and not n.deleted
            and (n.parent == object_id or (n.container == object_id and n.parent is None))
            and n.kind in ("comment", "ig_comment")
        ]

    def messages_to(self, person_id: str) -> list[str]:
        return [
            n.text
            for c in self.nodes.values()
            if c.kind == "conversation" and c.extra["person"]["id"] == person_id
            for n in self.edge(c, "messages")[::-1]
            if n.author["id"] == c.owner
        ]
