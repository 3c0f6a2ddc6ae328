"""LinkedIn Community Management API emulator (platform-apis.md §3), organisation side.

Models what a Page poller meets: versioned `/rest/` paths that refuse requests without
`LinkedIn-Version` and `X-Restli-Protocol-Version`, URNs with `:(,)` that arrive
URL-encoded in paths, Rest.li `List(...)` batch reads, offset paging with `paging.total`,
epoch-millisecond times, comment order that is not guaranteed, two-level threads, bare
429s without rate-limit headers, and the `{status, serviceErrorCode, code, message}`
error envelope. There are no DMs and no hide: LinkedIn has no API for either.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from itertools import count
from typing import Any
from urllib.parse import unquote

from bot.sandbox.hostile import Hostility
from bot.sandbox.linkedin_shapes import (
    Comment,
    Post,
    comment_json,
    error,
    page,
    post_json,
    rest_li_list,
)
from bot.sandbox.server import Emulator, Request, Response, json_response

VERSIONS = ("202508", "202601", "202606", "202609")
MEMBER = "urn:li:person:AbCdEf"
ORDERS = ("chronological", "newest_first", "shuffled")


_AUTH_ERRORS = {
    "invalid": (401, 65600, "INVALID_ACCESS_TOKEN", "Invalid access token"),
    "expired": (401, 65601, "EXPIRED_ACCESS_TOKEN", "The token used in the request has expired"),
    "revoked": (401, 65601, "REVOKED_ACCESS_TOKEN",
                "The token used in the request has been revoked by the user"),
    "permission": (403, 100, "ACCESS_DENIED",
                   "Not enough permissions to access: partnerApiSocialActions.GET.20260901"),
}


class LinkedInEmulator(Emulator):
    """One organisation page with posts and member comments; the org is the token's actor."""

    admin_actions = Emulator.admin_actions + (
        "add_post", "add_comment", "delete_comment", "delete_post", "org_replies",
        "throttle_next", "server_error_next", "reject_duplicates", "set_comment_order",
        "loop_paging", "huge_pages",
    )

    def __init__(self, org_id: str = "2414183", token: str = "sandbox-linkedin-token") -> None:
        super().__init__(token)
        self.org = f"urn:li:organization:{org_id}"
        self.route("GET", "/posts", self._get_posts)
        self.route("GET", "/socialActions", self._get_summaries)
        self.route("GET", "/socialActions/{target}/comments", self._get_comments)
        self.route("POST", "/socialActions/{target}/comments", self._create_comment)
        self.route("DELETE", "/socialActions/{target}/comments/{comment_id}", self._delete)
        self.route("GET", "/socialActions/{target}", self._get_summary)
        self.state_reset()

    def state_reset(self) -> None:
        self.posts: dict[str, Post] = {}
        self.comments: dict[str, Comment] = {}
        self.comment_order = "chronological"
        self.duplicates_rejected = False
        self.hostility = Hostility()
        self._ids = count(7_210_000_000_000_000_001)

    # -- control (Python and admin HTTP) --------------------------------------------------

    def add_post(self, text: str, created_at: datetime | None = None) -> str:
        with self.lock:
            number = next(self._ids)
            post = Post(f"urn:li:share:{number}", f"urn:li:activity:{number - 10**17}", self.org,
                        text, self._ms(created_at))
            self.posts[post.urn] = post
            return post.urn

    def add_comment(
        self, target: str, text: str, author: str = MEMBER, created_at: datetime | None = None
    ) -> str:
        """Comment on a post, or reply when `target` is a comment URN (as a citizen by default)."""
        with self.lock:
            return self._insert(target, author, text, self._ms(created_at)).urn

    def delete_comment(self, urn: str) -> None:
        with self.lock:
            self.comments[urn].deleted = True

    def delete_post(self, urn: str) -> None:
        with self.lock:
            self.posts[urn].deleted = True

    def org_replies(self, target: str) -> list[str]:
        """Texts the organisation wrote in reply to `target` (a comment or a post), oldest first."""
        with self.lock:
            return [c.text for c in self._live() if c.actor == self.org and target in
                    (c.parent, c.post.urn if c.parent is None else None)]

    def throttle_next(self, times: int = 1, route: str | None = None, daily: bool = True) -> None:
        """A bare 429 as LinkedIn sends it (no headers): the daily quota, or a passing blip."""
        message = ("Resource level throttle APPLICATION DAY limit for calls to this resource "
                   "is reached." if daily else "Too many requests")
        body = {"status": 429, "serviceErrorCode": 101 if daily else 0, "message": message}
        self.fail_next(429, body, route=route, times=times)

    def server_error_next(
        self, status: int = 504, times: int = 1, route: str | None = None
    ) -> None:
        body = {"status": status, "message": "Gateway Timeout"}
        self.fail_next(status, body, route=route, times=times)

    def reject_duplicates(self, on: bool = True) -> None:
        """⚠ Undocumented for comments: refuse an org reply identical to one in its thread."""
        with self.lock:
            self.duplicates_rejected = on

    def set_comment_order(self, order: str) -> None:
        if order not in ORDERS:
            raise ValueError(f"order must be one of {ORDERS}")
        with self.lock:
            self.comment_order = order

    # -- emulator hooks -------------------------------------------------------------------

    def loop_paging(self, on: bool = True) -> None:
        """Comment pages claim a `total` that never comes and always hold the first elements."""
        with self.lock:
            self.hostility.loop = on

    def huge_pages(self, megabytes: float) -> None:
        """Pad every list page to at least this size (0: off)."""
        with self.lock:
            self.hostility.pad_bytes = int(megabytes * 1024 * 1024)

    def dispatch(self, request: Request, *, count: bool = True) -> Response:
        looping = self.hostility.loop and request.method == "GET"
        if looping:
            request.query["start"] = "0"
        answer = super().dispatch(request, count=count)
        if not isinstance(answer.body, dict) or "elements" not in answer.body:
            return answer
        if looping and isinstance(answer.body.get("paging"), dict):
            answer.body["paging"]["total"] = 10**9
        return self.hostility.padded(answer)

    def route_path(self, path: str) -> str | None:
        return path[len("/rest"):] if path.startswith("/rest/") else None

    def auth_error(self, problem: str) -> Response:
        status, service_code, code, message = _AUTH_ERRORS.get(problem, _AUTH_ERRORS["invalid"])
        return error(status, message, service_code, code)

    # -- handlers -------------------------------------------------------------------------

    def _get_posts(self, request: Request) -> Response:
        refused = self._check_headers(request)
        if refused or request.query.get("q") != "author":
            return refused or error(400, "Invalid query: q=author is required", 0)
        # Posts are never edited here, so LAST_MODIFIED and CREATED order alike: newest first.
        posts = sorted((p for p in self.posts.values()
                        if not p.deleted and p.author == request.query.get("author")),
                       key=lambda p: p.created_ms, reverse=True)
        return page(request, [post_json(p) for p in posts], default_count=10)

    def _get_summaries(self, request: Request) -> Response:
        refused = self._check_headers(request)
        if refused:
            return refused
        results, errors = {}, {}
        for urn in rest_li_list(request.query.get("ids", "")):
            if self._find_post(urn) is None:
                errors[urn] = {"status": 404, "message": f"Not found: {urn}"}
            else:
                results[urn] = self._summary(urn)
        statuses = {urn: 200 for urn in results} | {urn: 404 for urn in errors}
        return json_response({"results": results, "statuses": statuses, "errors": errors})

    def _get_summary(self, request: Request) -> Response:
        refused = self._check_headers(request)
        target = unquote(request.args["target"])
        if refused or not self._exists(target):
            return refused or error(404, f"Not found: {target}")
        return json_response(self._summary(target))

    def _get_comments(self, request: Request) -> Response:
        refused = self._check_headers(request)
        target = unquote(request.args["target"])
        if refused or not self._exists(target):
            return refused or error(404, f"Not found: {target}")
        found = [comment_json(c, self._reply_count(c)) for c in self._children(target)]
        return page(request, found, default_count=10)

    def _create_comment(self, request: Request) -> Response:
        refused = self._check_headers(request)
        target = unquote(request.args["target"])
        body = request.json() or {}
        text = str((body.get("message") or {}).get("text") or "")
        if refused:
            return refused
        if not self._exists(target):
            return error(404, f"Not found: {target}")
        if body.get("actor") != self.org:
            return error(403, "Actor may not comment as this organization", 100, "ACCESS_DENIED")
        if not text:
            return error(422, "/message/text :: field is required but not found", 0)
        parent = self.comments.get(target)
        if parent is not None and parent.parent is not None:
            return error(422, "parentComment must be a top-level comment", 0)
        if self.duplicates_rejected and any(c.text == text for c in self._children(target)
                                            if c.actor == self.org):
            return error(422, "Content is a duplicate of an existing comment", 0, "DUPLICATE_POST")
        comment = self._insert(target, self.org, text, self._ms(None))
        return Response(201, comment_json(comment, replies=0), {"x-restli-id": comment.id})

    def _delete(self, request: Request) -> Response:
        refused = self._check_headers(request)
        urn = next((c.urn for c in self._live() if c.id == request.args["comment_id"]), None)
        if refused or urn is None:
            return refused or error(404, "Not found: comment")
        if self.comments[urn].actor != request.query.get("actor"):
            return error(403, "Only the author can delete this comment", 100, "ACCESS_DENIED")
        self.comments[urn].deleted = True
        return Response(204)

    # -- helpers --------------------------------------------------------------------------

    def _check_headers(self, request: Request) -> Response | None:
        if request.headers.get("x-restli-protocol-version") != "2.0.0":
            return error(400, "X-Restli-Protocol-Version 2.0.0 is required", 0)
        version = request.headers.get("linkedin-version", "")
        if version not in VERSIONS:
            return error(426, f"Requested version {version or '(none)'} is not active", 0,
                         "VERSION_MISSING" if not version else "NONEXISTENT_VERSION")
        return None

    def _ms(self, when: datetime | None) -> int:
        return int((when or self.now()).timestamp() * 1000)

    def _insert(self, target: str, author: str, text: str, created_ms: int) -> Comment:
        parent = self.comments.get(target)
        post = parent.post if parent else self._find_post(target)
        if post is None:
            raise KeyError(f"unknown target {target}")
        number = str(next(self._ids))
        comment = Comment(number, f"urn:li:comment:({post.activity},{number})", author, post,
                          text, created_ms, parent.urn if parent else None)
        self.comments[comment.urn] = comment
        return comment

    def _find_post(self, urn: str) -> Post | None:
        return next((p for p in self.posts.values()
                     if urn in (p.urn, p.activity) and not p.deleted), None)

    def _exists(self, urn: str) -> bool:
        comment = self.comments.get(urn)
        if comment is not None:
            return not comment.deleted and not comment.post.deleted
        return self._find_post(urn) is not None

    def _live(self) -> list[Comment]:
        return [c for c in self.comments.values() if not c.deleted and not c.post.deleted]

    def _children(self, target: str) -> list[Comment]:
        """Direct children of a post or comment, in the order the switch asks for."""
        post = self._find_post(target)
        children = [c for c in self._live() if c.parent == target
                    or (post is not None and c.parent is None and c.post is post)]
        if self.comment_order == "shuffled":
            return sorted(children, key=lambda c: hashlib.sha1(c.id.encode()).hexdigest())
        return sorted(children, key=lambda c: c.created_ms,
                      reverse=self.comment_order == "newest_first")

    def _summary(self, urn: str) -> dict[str, Any]:
        """`commentsSummary` of a post (all levels counted) or of a comment (its replies)."""
        live = self._live()
        post = self._find_post(urn)
        if post is not None:
            first = [c for c in live if c.post is post and c.parent is None]
            total = [c for c in live if c.post is post]
        else:
            first = total = [c for c in live if c.parent == urn]
        return {"target": urn, "likesSummary": {"totalLikes": 0, "aggregatedTotalLikes": 0},
                "commentsSummary": {"totalFirstLevelComments": len(first),
                                    "aggregatedTotalComments": len(total)}}

    def _reply_count(self, comment: Comment) -> int:
        return sum(1 for c in self._live() if c.parent == comment.urn)
