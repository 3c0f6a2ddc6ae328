"""Turn Graph nodes into the JSON the real API sends: requested fields, nested edges, paging.

Nested edges and list endpoints share one code path (`envelope`), because on Graph
`comments.limit(5){…}` inside `fields` and `/{id}/comments?limit=5&fields=…` mean the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from bot.sandbox.graph_fields import FieldSpec, page, parse_fields, unparse
from bot.sandbox.graph_world import GraphWorld, Node, graph_time

DEFAULT_FIELDS = {
    "post": "id,message,created_time",
    "comment": "id,message,created_time,from",
    "media": "id",
    "ig_comment": "id,text,timestamp",
    "conversation": "id,updated_time",
    "message": "id,created_time",
    "page": "id,name",
    "ig_user": "id,username",
}
LIST_OPTIONS = ("limit", "after", "filter", "order", "since", "until", "platform", "summary")
MAX_LIMIT = 100


class GraphRequestError(ValueError):
    """A parameter the real API refuses with code 100."""


@dataclass(frozen=True)
class Context:
    """What a `paging.next` URL needs: where the emulator lives and the caller's token."""

    root: str  # e.g. http://127.0.0.1:5000/v26.0/
    token: str


class Renderer:
    def __init__(self, world: GraphWorld) -> None:
        self.world = world

    def node(self, node: Node, specs: Sequence[FieldSpec] | None, ctx: Context) -> dict[str, Any]:
        specs = specs or parse_fields(DEFAULT_FIELDS[node.kind])
        out: dict[str, Any] = {}
        for spec in specs:
            try:
                out[spec.name] = self.envelope(node, spec.name, spec.modifiers, spec.subfields, ctx)
                continue
            except LookupError:
                pass
            value = self._value(node, spec.name)
            if isinstance(value, dict) and spec.subfields is not None and "data" not in value:
                wanted = {s.name for s in spec.subfields}
                value = {k: v for k, v in value.items() if k in wanted}
            if value is not None:
                out[spec.name] = value
        for name, value in self.world.malformed.get(node.id, {}).items():
            if name in out:
                out[name] = value
        return out

    def envelope(
        self,
        node: Node,
        edge: str,
        options: dict[str, str],
        subfields: Sequence[FieldSpec] | None,
        ctx: Context,
    ) -> dict[str, Any]:
        """A list edge: `{"data": [...], "paging": {...}}`; LookupError if no such edge."""
        items = self._select(node, edge, options)
        limit = int(options.get("limit", 25))
        if limit > MAX_LIMIT:
            raise GraphRequestError(f"(#100) The limit must be at most {MAX_LIMIT}")
        try:
            cut = page([n.id for n in items], limit, options.get("after"))
        except KeyError:
            raise GraphRequestError("(#100) Invalid cursor: the item it points to is gone") from None
        by_id = {n.id: n for n in items}
        result: dict[str, Any] = {
            "data": [self.node(by_id[i], subfields, ctx) for i in cut.items]
        }
        if cut.before and cut.after:
            result["paging"] = {"cursors": {"before": cut.before, "after": cut.after}}
            if cut.has_more:
                query = {k: v for k, v in options.items() if k in LIST_OPTIONS and k != "after"}
                if subfields is not None:
                    query["fields"] = unparse(subfields)
                query.update(after=cut.after, access_token=ctx.token)
                result["paging"]["next"] = f"{ctx.root}{node.id}/{edge}?{urlencode(query)}"
        if options.get("summary") == "true":
            result["summary"] = {"total_count": len(items), "order": "chronological"}
        return result

    def _select(self, node: Node, edge: str, options: dict[str, str]) -> list[Node]:
        items = self.world.edge(node, edge)
        if node.kind == "post" and edge == "comments" and options.get("filter") != "stream":
            items = [n for n in items if n.parent is None]
        if node.kind == "media" and edge == "comments":
            items = [n for n in items if n.parent is None][::-1]
        if options.get("order") == "reverse_chronological":
            items = items[::-1]
        if edge == "conversations" and options.get("platform"):
            items = [n for n in items if n.extra["platform"] == options["platform"]]
        if edge in ("feed", "posts", "published_posts", "media"):
            since, until = options.get("since"), options.get("until")
            if since:
                items = [n for n in items if n.created > _epoch(since)]
            if until:
                items = [n for n in items if n.created < _epoch(until)]
        return items

    def _value(self, node: Node, name: str) -> Any:
        """One scalar field; counts and update times are functions, computed only when asked."""
        world = self.world
        common: dict[str, Any] = {"id": node.id}
        if node.kind == "post":
            common.update(
                message=node.text,
                created_time=graph_time(node.created),
                updated_time=lambda: graph_time(world.updated(node)),
                permalink_url=f"https://www.facebook.com/{node.id}",
                is_published=True,
            )
            common["from"] = node.author
        elif node.kind == "comment":
            common.update(
                message=node.text,
                created_time=graph_time(node.created),
                is_hidden=node.hidden,
                can_hide=True,
                object={"id": node.container},
                comment_count=lambda: len(world.edge(node, "comments")),
                permalink_url=f"https://www.facebook.com/{node.container}?comment_id={node.id}",
            )
            common["from"] = node.author
            if node.parent:
                common["parent"] = {"id": node.parent}
        elif node.kind == "media":
            common.update(
                caption=node.text,
                timestamp=graph_time(node.created),
                permalink=f"https://www.instagram.com/p/{node.id[-8:]}/",
                comments_count=lambda: len(world.edge(node, "comments")),
                media_type="IMAGE",
                media_product_type="FEED",
                username=node.author["username"],
            )
        elif node.kind == "ig_comment":
            common.update(
                text=node.text,
                timestamp=graph_time(node.created),
                username=node.author["username"],
                hidden=node.hidden,
                like_count=0,
                media={"id": node.container, "media_product_type": "FEED"},
                parent_id=node.parent,
            )
            common["from"] = node.author
        elif node.kind == "conversation":
            person, account = node.extra["person"], world.identities[node.owner]
            common.update(
                updated_time=lambda: graph_time(world.updated(node)),
                participants={"data": [person, account]},
                message_count=lambda: len(world.edge(node, "messages")),
                link=f"/{node.owner}/inbox/{node.id}",
            )
        elif node.kind == "message":
            conversation = world.nodes[node.container or ""]
            person, account = conversation.extra["person"], world.identities[node.owner]
            to = account if node.author["id"] == person["id"] else person
            common.update(message=node.text, created_time=graph_time(node.created), to={"data": [to]})
            common["from"] = node.author
        else:
            common.update(world.identities[node.id])
        value = common.get(name)
        return value() if callable(value) else value


def _epoch(value: str) -> datetime:
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except ValueError:
        raise GraphRequestError(f"(#100) since/until must be Unix seconds, got {value!r}") from None
