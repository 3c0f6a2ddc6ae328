"""X API v2 emulator (platform-apis.md §4): mentions, recent search, DMs, replies, hiding.

Models what an account poller meets: newest-first timelines with `since_id` and opaque
`pagination_token`s (`meta.next_token` absent on the last page), default fields only
unless `tweet.fields` (or the 2026 name `post.fields`) asks for more, `includes` via
expansions, `x-rate-limit-*` headers on every answer with 15-minute windows in emulator
time, problem-details error bodies, 403 on duplicate text and on replies the author did not
summon, and hide-reply limited to conversations the account started. OAuth 2.0 user
tokens expire after two hours and refresh tokens rotate (`x_oauth`); a spent monthly cap or
credit balance answers 429 `usage-capped` (`usage_cap_next`).
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta

from bot.sandbox.hostile import Hostility
from bot.sandbox.server import Emulator, Request, Response, json_response
from bot.sandbox.x_oauth import XOAuth
from bot.sandbox.x_state import PROBLEMS, XState, forbidden, invalid, not_found, problem

WINDOW = 900
LIMITS = {  # per user, per 15 minutes (§4.3)
    "GET /users/me": 75, "GET /users/{id}/mentions": 300, "GET /tweets/search/recent": 300,
    "POST /tweets": 100, "PUT /tweets/{id}/hidden": 50, "DELETE /tweets/{id}": 50,
    "GET /dm_events": 15, "GET /dm_conversations/{conversation}/dm_events": 15,
    "POST /dm_conversations/with/{participant}/messages": 15,
}
_AUTH = {
    "expired": (401, "Unauthorized", "about:blank", "Unauthorized"),
    "revoked": (401, "Unauthorized", "about:blank", "Unauthorized"),
    "invalid": (401, "Unauthorized", "about:blank", "Unauthorized"),
    "permission": (403, "Client Forbidden", PROBLEMS + "client-forbidden",
                   "This request must be made using an approved developer account."),
}


class XEmulator(Emulator):
    """One account (`account_id`, `@username`) and the citizens who write to it."""

    admin_actions = Emulator.admin_actions + (
        "add_user", "post", "send_dm", "answer_dm", "delete_tweet", "replies_from_account",
        "dms_from_account", "is_hidden", "throttle_next", "server_error_next",
        "issue_tokens", "revoke_refresh_tokens", "usage_cap_next",
        "loop_next_token", "huge_pages",
    )

    def __init__(self, account_id: str = "1500000000", username: str = "EksempelKommune",
                 token: str = "sandbox-x-token") -> None:
        super().__init__(token)
        self.account_id, self.username = account_id, username
        self.route("GET", "/users/me", self._me)
        self.route("GET", "/users/{id}/mentions", self._mentions)
        self.route("GET", "/tweets/search/recent", self._search)
        self.route("POST", "/tweets", self._create_tweet)
        self.route("PUT", "/tweets/{id}/hidden", self._hide)
        self.route("DELETE", "/tweets/{id}", self._delete_tweet)
        self.route("GET", "/dm_events", self._dm_events)
        self.route("GET", "/dm_conversations/{conversation}/dm_events", self._dm_events)
        self.route("POST", "/dm_conversations/with/{participant}/messages", self._send_dm)
        self.route("POST", "/oauth2/token", self._token, public=True)
        self.static_token = token
        self.state_reset()

    def state_reset(self) -> None:
        self.state = XState(self.account_id, self.username)
        self.windows: dict[str, tuple[datetime, int]] = {}
        self.oauth = XOAuth()
        self.token = self.static_token
        self.hostility = Hostility()

    # -- control (Python and admin HTTP) --------------------------------------------------

    def add_user(self, username: str, name: str = "") -> str:
        with self.lock:
            return self.state.add_user(username, name or username)

    def post(self, text: str, author: str | None = None, reply_to: str | None = None,
             created_at: datetime | None = None) -> str:
        """A post by `author` (the account when None), optionally replying to `reply_to`."""
        with self.lock:
            return self.state.add_tweet(author or self.account_id, text, reply_to,
                                        created_at or self.now()).id

    def send_dm(self, sender: str, text: str, created_at: datetime | None = None) -> str:
        """A citizen's direct message to the account."""
        with self.lock:
            return self.state.add_dm(sender, self.account_id, text, created_at or self.now()).id

    def answer_dm(self, recipient: str, text: str) -> str:
        """The account's staff answering in the X app, outside borgerbot."""
        with self.lock:
            return self.state.add_dm(self.account_id, recipient, text, self.now()).id

    def delete_tweet(self, tweet_id: str) -> None:
        with self.lock:
            self.state.tweets[tweet_id].deleted = True

    def replies_from_account(self, tweet_id: str) -> list[str]:
        with self.lock:
            return [t.text for t in self.state.live() if t.author == self.account_id
                    and t.replied_to == tweet_id]

    def dms_from_account(self, user_id: str) -> list[str]:
        with self.lock:
            return [e.text for e in self.state.dms if e.sender == self.account_id
                    and user_id in e.participants]

    def is_hidden(self, tweet_id: str) -> bool:
        with self.lock:
            return self.state.tweets[tweet_id].hidden

    def throttle_next(self, reset_in: int = 900, route: str | None = None, times: int = 1,
                      legacy_body: bool = False) -> None:
        """429 with `x-rate-limit-*` headers; the body in the problem or the legacy shape."""
        reset = int((self.now() + timedelta(seconds=reset_in)).timestamp())
        headers = {"x-rate-limit-limit": "15", "x-rate-limit-remaining": "0",
                   "x-rate-limit-reset": str(reset)}
        body = ({"errors": [{"code": 88, "message": "Rate limit exceeded"}]} if legacy_body else
                {"title": "Too Many Requests", "detail": "Too Many Requests",
                 "type": "about:blank", "status": 429})
        self.fail_next(429, body, headers, route=route, times=times)

    def server_error_next(
        self, status: int = 503, times: int = 1, route: str | None = None
    ) -> None:
        body = {"title": "Service Unavailable", "detail": "Service Unavailable",
                "type": "about:blank", "status": status}
        self.fail_next(status, body, route=route, times=times)

    def issue_tokens(self) -> list[str]:
        """Authorize the app as the account did once (with `offline.access`): from now on
        only the returned access token works, for two hours of emulator time, and the
        returned refresh token renews it once."""
        with self.lock:
            self.token, refresh = self.oauth.grant(self.now())
            return [self.token, refresh]

    def revoke_refresh_tokens(self) -> None:
        """The account owner removed the app on x.com: every refresh token is refused."""
        with self.lock:
            self.oauth.revoke()

    def usage_cap_next(self, times: int = 1) -> None:
        """429 `usage-capped`: the monthly cap or the prepaid credits are used up. The body
        is the one X sends (xdevplatform/xdk issue #25); the rate-limit headers still
        describe the 15-minute window, which is far from spent."""
        reset = int((self.now() + timedelta(seconds=WINDOW)).timestamp())
        headers = {"x-rate-limit-limit": "300", "x-rate-limit-remaining": "299",
                   "x-rate-limit-reset": str(reset)}
        body = {"account_id": "1", "product_name": "standard-basic", "title": "UsageCapExceeded",
                "period": "Monthly", "scope": "Product",
                "detail": "Usage cap exceeded: Monthly product cap",
                "type": "https://api.twitter.com/2/problems/usage-capped"}
        self.fail_next(429, body, headers, times=times)

    # -- emulator hooks -------------------------------------------------------------------

    def route_path(self, path: str) -> str | None:
        return path[2:] if path.startswith("/2/") else None

    def auth_error(self, problem_name: str) -> Response:
        status, title, kind, detail = _AUTH.get(problem_name, _AUTH["invalid"])
        return problem(status, title, detail, kind)

    def _check_token(self, request: Request) -> Response | None:
        """An access token from the token endpoint is refused once its two hours are up."""
        refusal = super()._check_token(request)
        if refusal is None and self.oauth.expired(self.now()):
            return self.auth_error("expired")
        return refusal

    def extra_headers(self, request: Request, response: Response) -> dict[str, str]:
        """Rate-limit headers of the route's window; windows advance with the emulator clock."""
        key = self._limit_key(request)
        if key is None or "x-rate-limit-limit" in response.headers:
            return {}
        start, used = self.windows[key]
        reset = int((start + timedelta(seconds=WINDOW)).timestamp())
        return {"x-rate-limit-limit": str(LIMITS[key]),
                "x-rate-limit-remaining": str(max(LIMITS[key] - used, 0)),
                "x-rate-limit-reset": str(reset)}

    def loop_next_token(self, on: bool = True) -> None:
        """Every list page carries the same `meta.next_token`: the paging never ends."""
        with self.lock:
            self.hostility.loop = on

    def huge_pages(self, megabytes: float) -> None:
        """Pad every list page to at least this size (0: off)."""
        with self.lock:
            self.hostility.pad_bytes = int(megabytes * 1024 * 1024)

    def dispatch(self, request: Request, *, count: bool = True) -> Response:
        key = self._limit_key(request)
        if key is not None and self._spend(key):
            refusal = problem(429, "Too Many Requests", "Too Many Requests")
            refusal.headers.update(self.extra_headers(request, refusal))
            return refusal
        answer = super().dispatch(request, count=count)
        if request.method != "GET" or not isinstance(answer.body, dict) or "meta" not in answer.body:
            return answer
        if self.hostility.loop:  # a valid token, of the first page: the walk starts over
            answer.body["meta"]["next_token"] = base64.urlsafe_b64encode(str(10**20).encode()).decode()
        return self.hostility.padded(answer)

    def _limit_key(self, request: Request) -> str | None:
        found = self._match(request)
        key = found[0].key if found else None
        return key if key in LIMITS else None

    def _spend(self, key: str) -> bool:
        """Count one call in the window; True when the window was already used up."""
        with self.lock:
            now = self.now()
            start, used = self.windows.get(key, (now, 0))
            if now >= start + timedelta(seconds=WINDOW):
                start, used = now, 0
            self.windows[key] = (start, used + 1)
            return used >= LIMITS[key]

    # -- handlers -------------------------------------------------------------------------

    def _me(self, request: Request) -> Response:
        return json_response({"data": self.state.user_json(self.account_id)})

    def _mentions(self, request: Request) -> Response:
        if request.args["id"] not in self.state.users:
            return not_found("user", request.args["id"])
        found = [t for t in self.state.live() if self.state.mentions_account(t)][:800]
        return self.state.tweet_page(request, found, low=5, default=10)

    def _search(self, request: Request) -> Response:
        matcher = self.state.query_matcher(request.query.get("query", ""))
        if matcher is None:
            return invalid()
        week_ago = self.now() - timedelta(days=7)
        found = [t for t in self.state.live() if t.created >= week_ago and matcher(t)]
        return self.state.tweet_page(request, found, low=10, default=10)

    def _create_tweet(self, request: Request) -> Response:
        body = request.json() or {}
        text = str(body.get("text") or "")
        reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        if any(t.text == text for t in self.state.live() if t.author == self.account_id):
            return forbidden("You are not allowed to create a Tweet with duplicate content.")
        if reply_to is not None:
            target = self.state.tweets.get(reply_to)
            if target is None or target.deleted:
                return not_found("tweet", reply_to)
            if not self.state.summoned(target):
                return forbidden("Reply to this post is not allowed because you have not been "
                                 "mentioned or otherwise engaged by the author of the post.")
        tweet = self.state.add_tweet(self.account_id, text, reply_to, self.now())
        return json_response({"data": {"id": tweet.id, "text": tweet.text,
                                       "edit_history_tweet_ids": [tweet.id]}}, 201)

    def _hide(self, request: Request) -> Response:
        tweet = self.state.tweets.get(request.args["id"])
        if tweet is None or tweet.deleted:
            return not_found("tweet", request.args["id"])
        root = self.state.tweets.get(tweet.conversation_id)
        if tweet.replied_to is None or root is None or root.author != self.account_id:
            return forbidden("You can only hide replies to conversations you started.")
        tweet.hidden = bool((request.json() or {}).get("hidden"))
        return json_response({"data": {"hidden": tweet.hidden}})

    def _delete_tweet(self, request: Request) -> Response:
        tweet = self.state.tweets.get(request.args["id"])
        if tweet is None or tweet.deleted or tweet.author != self.account_id:
            return not_found("tweet", request.args["id"])
        tweet.deleted = True
        return json_response({"data": {"deleted": True}})

    def _dm_events(self, request: Request) -> Response:
        conversation = request.args.get("conversation")
        month_ago = self.now() - timedelta(days=30)
        found = [e for e in reversed(self.state.dms) if e.created >= month_ago
                 and (conversation is None or e.conversation_id == conversation)]
        return self.state.dm_page(request, found)

    def _token(self, request: Request) -> Response:
        response, access = self.oauth.refresh(request, self.now())
        if access is not None:
            self.token = access
        return response

    def _send_dm(self, request: Request) -> Response:
        participant = request.args["participant"]
        if participant not in self.state.users or participant == self.account_id:
            return invalid()
        text = str((request.json() or {}).get("text") or "")
        event = self.state.add_dm(self.account_id, participant, text, self.now())
        return json_response({"data": {"dm_conversation_id": event.conversation_id,
                                       "dm_event_id": event.id}}, 201)

