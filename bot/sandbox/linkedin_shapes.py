"""Data and JSON shapes of the LinkedIn emulator: what Rest.li resources look like (§3.3).

Kept apart from `linkedin.py` (routes, switches, rules) so the wire format can be checked
against the docs in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from bot.sandbox.server import Request, Response, json_response


@dataclass
class Post:
    urn: str
    activity: str
    author: str
    text: str
    created_ms: int
    deleted: bool = False


@dataclass
class Comment:
    id: str
    urn: str
    actor: str
    post: Post
    text: str
    created_ms: int
    parent: str | None = None
    deleted: bool = False


def error(status: int, message: str, service_code: int = 0, code: str = "") -> Response:
    body: dict[str, Any] = {"status": status, "serviceErrorCode": service_code, "message": message}
    if code:
        body["code"] = code
    return json_response(body, status)


def rest_li_list(value: str) -> list[str]:
    """Split `List(a,b)` at top-level commas; comment URNs carry commas inside parentheses."""
    inner = value[5:-1] if value.startswith("List(") and value.endswith(")") else value
    items, depth, start = [], 0, 0
    for index, char in enumerate(inner):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            items.append(inner[start:index])
            start = index + 1
    items.append(inner[start:])
    return [unquote(item) for item in items if item]


def page(request: Request, elements: list[dict[str, Any]], default_count: int) -> Response:
    """Offset paging: `start`/`count` in, `paging.total` and a `next` link out."""
    try:
        start = int(request.query.get("start", "0"))
        size = min(int(request.query.get("count", str(default_count))), 100)
    except ValueError:
        return error(400, "start and count must be integers", 0)
    links = []
    if start + size < len(elements):
        kept = [f"{k}={v}" for k, v in request.query.items() if k not in ("start", "count")]
        query = "&".join([*kept, f"start={start + size}", f"count={size}"])
        links.append({"rel": "next", "type": "application/json",
                      "href": f"{request.path}?{query}"})
    return json_response({"paging": {"start": start, "count": size, "total": len(elements),
                                      "links": links},
                          "elements": elements[start:start + size]})


def post_json(post: Post) -> dict[str, Any]:
    return {"id": post.urn, "author": post.author, "commentary": post.text,
            "visibility": "PUBLIC", "lifecycleState": "PUBLISHED",
            "createdAt": post.created_ms, "publishedAt": post.created_ms,
            "lastModifiedAt": post.created_ms}


def comment_json(comment: Comment, replies: int) -> dict[str, Any]:
    stamp = {"actor": comment.actor, "time": comment.created_ms}
    data: dict[str, Any] = {
        "id": comment.id, "commentUrn": comment.urn, "actor": comment.actor,
        "object": comment.post.activity, "message": {"text": comment.text, "attributes": []},
        "created": stamp, "lastModified": stamp,
        "likesSummary": {"totalLikes": 0, "aggregatedTotalLikes": 0},
        "commentsSummary": {"totalFirstLevelComments": replies,
                            "aggregatedTotalComments": replies},
    }
    if comment.parent:
        data["parentComment"] = comment.parent
    return data
