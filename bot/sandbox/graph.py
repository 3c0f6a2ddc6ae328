"""Facebook Page and Instagram Graph API emulator (docs/platform-apis.md sections 1, 2, 5).

Serves versioned paths (`/v26.0/...`), takes the token as `access_token` or a Bearer
header, answers with Graph's field expansion, cursor paging and error envelopes, and adds
Meta's usage headers once `set_usage` is on. Switches beyond the shared ones: `throttle`
(codes 4/17/32/613/80001 with usage headers), `server_error`, `delete`, and
`reject_duplicates` (code 506 for a repeated identical reply).
"""

from __future__ import annotations

import json
import re
import secrets
from typing import Any
from urllib.parse import parse_qsl

from bot.sandbox.graph_fields import FieldSyntaxError, parse_fields
from bot.sandbox.graph_render import LIST_OPTIONS, Context, GraphRequestError, Renderer
from bot.sandbox.graph_world import GraphWorld, Node
from bot.sandbox.hostile import Hostility
from bot.sandbox.server import Emulator, Request, Response, json_response

VERSION = "v26.0"
_VERSION_PREFIX = re.compile(r"^/v\d+\.\d+(?=/|$)")
EDGES = ("feed", "posts", "published_posts", "comments", "replies", "conversations", "media",
         "messages")
_AUTH = {
    "invalid": (190, None, "Invalid OAuth access token - Cannot parse access token"),
    "expired": (190, 463, "Error validating access token: Session has expired"),
    "revoked": (190, 460, "Error validating access token: the user changed their password"),
    "permission": (200, None, "(#200) Permissions error"),
}


def graph_error(
    code: int,
    message: str,
    *,
    subcode: int | None = None,
    kind: str = "OAuthException",
    status: int = 400,
    transient: bool = False,
    headers: dict[str, str] | None = None,
) -> Response:
    error: dict[str, Any] = {"message": message, "type": kind, "code": code,
                             "is_transient": transient, "fbtrace_id": secrets.token_hex(6)}
    if subcode is not None:
        error["error_subcode"] = subcode
    return json_response({"error": error}, status, headers)


GONE_VARIANTS = ("100/33", "100", "33", "1705")


def gone(object_id: str, method: str = "get", variant: str = "100/33") -> Response:
    """Graph's answers for an object that was deleted (or is out of reach), as clients meet them:

    - "100/33": `GraphMethodException` "Unsupported get request. Object with ID … does not
      exist …" [doc: graph-api/guides/error-handling; platform-apis.md §1.9];
    - "100": the same without a subcode, "(#100) Object does not exist, cannot be loaded due
      to missing permission or reviewable feature, or does not support this operation."
      [issue: facebookarchive/php-graph-sdk#1233];
    - "33": "(#33) This object does not exist or does not support this action"
      (`OAuthException`) [issue: criso/fbgraph#141];
    - "1705": a write to a post that is gone, "(#1705) There was an error posting to this
      wall" (Meta's legacy code list: "Selected wall post … does not exist"), on writes only.
    """
    if variant == "100":
        return graph_error(100, "(#100) Object does not exist, cannot be loaded due to missing "
                           "permission or reviewable feature, or does not support this operation.")
    if variant == "33":
        return graph_error(33, "(#33) This object does not exist or does not support this action")
    if variant == "1705" and method != "get":
        return graph_error(1705, "(#1705) There was an error posting to this wall")
    return graph_error(
        100,
        f"Unsupported {method} request. Object with ID '{object_id}' does not exist, cannot be "
        "loaded due to missing permissions, or does not support this operation.",
        subcode=33,
        kind="GraphMethodException",
    )


class GraphEmulator(Emulator):
    admin_actions = (
        *Emulator.admin_actions,
        "add_post", "add_media", "add_comment", "send_message", "replies_to", "messages_to",
        "delete", "set_usage", "throttle", "server_error", "reject_duplicates", "get_node",
        "answer_gone_as",
        "loop_paging", "huge_pages", "malform",
    )

    def __init__(
        self,
        *,
        token: str = "sandbox-page-token",
        page_id: str = "1000000001",
        page_name: str = "Eksempel Kommune",
        ig_id: str = "17841400000000001",
        ig_username: str = "eksempelkommune",
    ) -> None:
        super().__init__(token=token)
        self.world = GraphWorld(
            page_id=page_id, page_name=page_name, ig_id=ig_id, ig_username=ig_username,
            now=self.now,
        )
        self.renderer = Renderer(self.world)
        self.usage: float | None = None
        self.duplicates_rejected = False
        self.gone_variant = GONE_VARIANTS[0]
        self.regain_minutes = 0
        self.hostility = Hostility()
        self.route("POST", "/", self._batch)
        self.route("GET", "/", self._many)
        for edge in EDGES:
            self.route("GET", f"/{{id}}/{edge}", self._list)
        self.route("GET", "/{id}", self._one)
        self.route("POST", "/{id}/comments", self._comment)
        self.route("POST", "/{id}/replies", self._comment)
        self.route("POST", "/{id}/messages", self._send)
        self.route("POST", "/{id}", self._update)
        self.route("DELETE", "/{id}", self._delete)

    def state_reset(self) -> None:
        self.world.reset()
        self.usage = None
        self.regain_minutes = 0
        self.duplicates_rejected = False
        self.gone_variant = GONE_VARIANTS[0]
        self.hostility = Hostility()

    # -- controls (Python and POST /_admin/<name>) ----------------------------------------

    def add_post(self, message: str, **kwargs: Any) -> str:
        with self.lock:
            return self.world.add_post(message, **kwargs)

    def add_media(self, caption: str, **kwargs: Any) -> str:
        with self.lock:
            return self.world.add_media(caption, **kwargs)

    def add_comment(self, on: str, text: str, **kwargs: Any) -> str:
        with self.lock:
            return self.world.add_comment(on, text, **kwargs)

    def send_message(self, author_id: str, text: str, **kwargs: Any) -> str:
        with self.lock:
            return self.world.send_message(author_id, text, **kwargs)

    def replies_to(self, object_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return self.world.replies_to(object_id)

    def messages_to(self, person_id: str) -> list[str]:
        with self.lock:
            return self.world.messages_to(person_id)

    def get_node(self, node_id: str) -> dict[str, Any]:
        with self.lock:
            node = self.world.nodes[node_id]
            return {"id": node.id, "kind": node.kind, "text": node.text,
                    "hidden": node.hidden, "deleted": node.deleted}

    def delete(self, object_id: str) -> None:
        with self.lock:
            self.world.nodes[object_id].deleted = True

    def answer_gone_as(self, variant: str) -> None:
        """Which of Graph's "object does not exist" errors deleted objects answer with."""
        if variant not in GONE_VARIANTS:
            raise ValueError(f"variant must be one of {GONE_VARIANTS}")
        with self.lock:
            self.gone_variant = variant

    def set_usage(self, percent: float | None, regain_minutes: int = 0) -> None:
        """Send usage headers at this percent from now on (None: send none, like a quiet app),
        with `estimated_time_to_regain_access` in the business-use-case header."""
        with self.lock:
            self.usage = percent
            self.regain_minutes = regain_minutes

    def throttle(
        self, code: int = 4, *, minutes: int = 5, status: int = 400, route: str | None = None,
        times: int = 1,
    ) -> None:
        """Refuse calls as throttled, with usage headers at 100 % and a time to regain access."""
        headers = self._usage_headers(100.0, minutes)
        body = graph_error(code, f"(#{code}) Application request limit reached", transient=True)
        self.fail_next(status, body.body, headers, route=route, times=times)

    def server_error(self, *, route: str | None = None, times: int = 1) -> None:
        body = graph_error(2, "An unexpected error has occurred. Please retry your request later.",
                           transient=True, status=500)
        self.fail_next(500, body.body, route=route, times=times)

    def reject_duplicates(self, on: bool = True) -> None:
        with self.lock:
            self.duplicates_rejected = on

    def loop_paging(self, on: bool = True) -> None:
        """Every list answer's `paging.next` links back to the page itself (a hostile Graph)."""
        with self.lock:
            self.hostility.loop = on

    def huge_pages(self, megabytes: float) -> None:
        """Pad every list answer to at least this size (0: off)."""
        with self.lock:
            self.hostility.pad_bytes = int(megabytes * 1024 * 1024)

    def malform(self, object_id: str, field: str, value: Any) -> None:
        """Render `field` of this object as `value`, whatever shape Graph documents for it."""
        with self.lock:
            self.world.malformed.setdefault(object_id, {})[field] = value

    # -- hooks of the shared base --------------------------------------------------------

    def route_path(self, path: str) -> str:
        """Unversioned calls are served by the oldest live version, as on Graph."""
        return _VERSION_PREFIX.sub("", path) or "/"

    def extract_token(self, request: Request) -> str | None:
        return request.params().get("access_token") or request.bearer()

    def auth_error(self, problem: str) -> Response:
        code, subcode, message = _AUTH.get(problem, _AUTH["invalid"])
        return graph_error(code, message, subcode=subcode, status=403 if code == 200 else 400)

    def not_found(self, request: Request) -> Response:
        return graph_error(100, f"Unknown path components: {request.path}", kind="OAuthException")

    def extra_headers(self, request: Request, response: Response) -> dict[str, str]:
        if self.usage is None:
            return {}
        return self._usage_headers(self.usage, self.regain_minutes)

    def _usage_headers(self, percent: float, minutes: int) -> dict[str, str]:
        app = {"call_count": percent, "total_cputime": percent / 2, "total_time": percent / 2}
        buc = {self.world.page_id: [dict(app, type="pages",
                                         estimated_time_to_regain_access=minutes)]}
        return {"X-App-Usage": json.dumps(app), "X-Business-Use-Case-Usage": json.dumps(buc)}

    # -- reads -----------------------------------------------------------------------------

    def _context(self, request: Request) -> Context:
        host = request.headers.get("host", "127.0.0.1")
        return Context(root=f"http://{host}/{VERSION}/", token=self.extract_token(request) or "")

    def _node(self, request: Request) -> Node:
        node_id = request.args["id"]
        return self.world.get(self.world.page_id if node_id == "me" else node_id)

    def _guarded(self, request: Request, read: Any) -> Response:
        try:
            return json_response(read())
        except (FieldSyntaxError, GraphRequestError) as exc:
            return graph_error(100, str(exc))
        except KeyError as exc:
            return gone(str(exc.args[0]) if exc.args else request.path,
                        variant=self.gone_variant)

    def _one(self, request: Request) -> Response:
        fields = request.query.get("fields")
        return self._guarded(request, lambda: self.renderer.node(
            self._node(request), parse_fields(fields) if fields else None, self._context(request)
        ))

    def _list(self, request: Request) -> Response:
        edge = self.route_path(request.path).rsplit("/", 1)[1]
        options = {k: v for k, v in request.query.items() if k in LIST_OPTIONS}
        fields = request.query.get("fields")

        def read() -> dict[str, Any]:
            node = self._node(request)
            specs = parse_fields(fields) if fields else None
            try:
                return self.renderer.envelope(node, edge, options, specs, self._context(request))
            except LookupError:
                raise GraphRequestError(f"(#100) Tried accessing nonexisting field ({edge})") from None

        answer = self._guarded(request, read)
        if self.hostility.loop and isinstance(answer.body, dict) and answer.status == 200:
            query = "&".join(f"{k}={v}" for k, v in request.query.items())
            host = request.headers.get("host", "127.0.0.1")
            answer.body.setdefault("paging", {})["next"] = f"http://{host}{request.path}?{query}"
        return self.hostility.padded(answer)

    def _many(self, request: Request) -> Response:
        """`GET /?ids=A,B&fields=…`: an object keyed by id."""
        ids = [i for i in request.query.get("ids", "").split(",") if i]
        fields = request.query.get("fields")
        return self._guarded(request, lambda: {
            i: self.renderer.node(self.world.get(i), parse_fields(fields) if fields else None,
                                  self._context(request))
            for i in ids
        })

    def _batch(self, request: Request) -> Response:
        """Up to 50 operations in one round trip; each answered in order with its own code."""
        params = request.params()
        operations = params.get("batch")
        operations = json.loads(operations) if isinstance(operations, str) else operations
        if not isinstance(operations, list) or len(operations) > 50:
            return graph_error(100, "(#100) batch must be a JSON list of at most 50 operations")
        token = self.extract_token(request) or ""
        results = [self._operation(op, token, request.headers) for op in operations]
        return json_response(results)

    def _operation(self, op: dict[str, Any], token: str, headers: dict[str, str]) -> dict[str, Any]:
        path, _, query = str(op.get("relative_url", "")).lstrip("/").partition("?")
        sub = Request(
            method=str(op.get("method", "GET")).upper(),
            path="/" + path,
            query=dict(parse_qsl(query, keep_blank_values=True), access_token=token),
            headers={"host": headers.get("host", ""),
                     "content-type": "application/x-www-form-urlencoded"},
            body=str(op.get("body", "")).encode(),
        )
        answer = self.dispatch(sub, count=False)
        return {
            "code": answer.status,
            "headers": [{"name": k, "value": v} for k, v in answer.headers.items()],
            "body": answer.encoded().decode("utf-8"),
        }

    # -- writes ----------------------------------------------------------------------------

    def _comment(self, request: Request) -> Response:
        target_id = request.args["id"]
        text = str(request.params().get("message", ""))
        try:
            target = self.world.get(target_id)
        except KeyError:
            return gone(target_id, "post", self.gone_variant)
        if self.duplicates_rejected and any(
            r["text"] == text for r in self.world.replies_to(target.id)
        ):
            return graph_error(506, "Duplicate status message")
        return json_response({"id": self.world.account_comment(target.id, text)})

    def _send(self, request: Request) -> Response:
        params = request.params()
        owner = self._node(request).id
        recipient = _as_dict(params.get("recipient"))
        text = str(_as_dict(params.get("message")).get("text", ""))
        human_agent = params.get("tag") == "HUMAN_AGENT"
        person = recipient.get("id")
        if "comment_id" in recipient:
            return self._private_reply(owner, str(recipient["comment_id"]), text)
        try:
            message_id = self.world.account_message(owner, str(person), text, human_agent)
        except KeyError:
            return graph_error(100, "(#100) No matching user found", subcode=2018001)
        except ValueError:
            subcode = 2018278 if owner == self.world.page_id else 2534022
            return graph_error(10, "(#10) This message is sent outside of allowed window.",
                               subcode=subcode)
        return json_response({"recipient_id": person, "message_id": message_id})

    def _private_reply(self, owner: str, comment_id: str, text: str) -> Response:
        try:
            comment = self.world.get(comment_id)
        except KeyError:
            return gone(comment_id, "post", self.gone_variant)
        if comment.extra.get("private_replied"):
            return graph_error(10900, "Activity already replied to")
        comment.extra["private_replied"] = True
        platform = "messenger" if owner == self.world.page_id else "instagram"
        self.world.conversation_with(owner, platform, comment.author)
        message_id = self.world.account_message(owner, comment.author["id"], text, True)
        return json_response({"recipient_id": comment.author["id"], "message_id": message_id})

    def _update(self, request: Request) -> Response:
        params = request.params()
        try:
            node = self._node(request)
        except KeyError:
            return gone(request.args["id"], "post", self.gone_variant)
        flag = params.get("is_hidden", params.get("hide"))
        if flag is not None:
            node.hidden = str(flag).lower() == "true"
        if "message" in params:
            node.text = str(params["message"])
        return json_response({"success": True})

    def _delete(self, request: Request) -> Response:
        try:
            self._node(request).deleted = True
        except KeyError:
            return gone(request.args["id"], "delete", self.gone_variant)
        return json_response({"success": True})


def _as_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        value = json.loads(value) if value.startswith("{") else {}
    return value if isinstance(value, dict) else {}
