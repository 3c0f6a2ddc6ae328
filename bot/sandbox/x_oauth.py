"""X's OAuth 2.0 token endpoint as the X emulator serves it (platform-apis.md §4.1).

What a long-running poller meets [doc: docs.x.com resources/fundamentals/authentication/
oauth-2-0/authorization-code]: an access token is valid for two hours (`expires_in: 7200`);
with the `offline.access` scope a refresh token comes with it, and `POST /2/oauth2/token`
with `grant_type=refresh_token`, the `refresh_token` and the `client_id` (confidential
clients authenticate with HTTP Basic `client_id:client_secret`) returns a new pair. Refresh
tokens rotate: each is good for one use, and a used or revoked one is refused with HTTP 400
`{"error": "invalid_request", "error_description": "Value passed for the token was
invalid."}` (the body X sends, as quoted in node-twitter-api-v2 issues #496 and #319);
a confidential client without Basic auth gets 401 `unauthorized_client`, "Missing valid
authorization header" (omniauth-twitter2 #4, xdevplatform/oauth2.0-bot #2).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import count

from bot.sandbox.server import Request, Response, json_response

ACCESS_LIFETIME = timedelta(hours=2)
SCOPES = "tweet.read users.read tweet.write tweet.moderate.write dm.read dm.write offline.access"


def _oauth_error(status: int, error: str, description: str) -> Response:
    return json_response({"error": error, "error_description": description}, status)


@dataclass
class XOAuth:
    """The app's credentials and the tokens X has issued to the account."""

    client_id: str = "sandbox-x-client"
    client_secret: str = "sandbox-x-secret"
    expires_at: datetime | None = None  # of the current access token; None: never
    live_refresh: set[str] = field(default_factory=set)
    refreshes: int = 0
    _serial: count[int] = field(default_factory=lambda: count(1))

    def grant(self, now: datetime) -> tuple[str, str]:
        """A new access token valid for two hours and a new single-use refresh token."""
        n = next(self._serial)
        refresh = f"sandbox-x-refresh-{n}"
        self.live_refresh.add(refresh)
        self.expires_at = now + ACCESS_LIFETIME
        return f"sandbox-x-access-{n}", refresh

    def revoke(self) -> None:
        """The account owner revoked the app on x.com: no refresh token works any more."""
        self.live_refresh.clear()

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at

    def refresh(self, request: Request, now: datetime) -> tuple[Response, str | None]:
        """Answer one token request; the second value is the new access token, if issued."""
        form = request.params()
        if form.get("grant_type") != "refresh_token":
            return _oauth_error(400, "invalid_request", "Missing required parameter "
                                "[grant_type]."), None
        if not self._basic_ok(request.headers.get("authorization", "")) or \
                form.get("client_id", self.client_id) != self.client_id:
            return _oauth_error(401, "unauthorized_client",
                                "Missing valid authorization header"), None
        token = str(form.get("refresh_token") or "")
        if token not in self.live_refresh:
            return _oauth_error(400, "invalid_request",
                                "Value passed for the token was invalid."), None
        self.live_refresh.discard(token)
        self.refreshes += 1
        access, refresh = self.grant(now)
        return json_response({"token_type": "bearer", "expires_in": 7200,
                              "access_token": access, "scope": SCOPES,
                              "refresh_token": refresh}), access

    def _basic_ok(self, header: str) -> bool:
        if not header.lower().startswith("basic "):
            return False
        try:
            pair = base64.b64decode(header[6:]).decode()
        except ValueError:
            return False
        return pair == f"{self.client_id}:{self.client_secret}"
