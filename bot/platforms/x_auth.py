"""X OAuth 2.0 user tokens that live longer than their two hours.

An access token from X's Authorization Code flow is valid for two hours; with the
`offline.access` scope a refresh token comes with it, and `POST /2/oauth2/token`
(`grant_type=refresh_token`, `client_id`; HTTP Basic `client_id:client_secret` for a
confidential client) returns a new access token and a NEW refresh token: each refresh token
works once [doc: docs.x.com resources/fundamentals/authentication/oauth-2-0/authorization-code;
platform-apis.md §4.1]. So the rotated refresh token is written to the vault (the database)
before the new access token is used, and every refresh reads the vault first, so a restarted
process, or another replica that refreshed meanwhile, never spends a used token.

Neither token is ever logged: both are registered with the redacting log filter.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol

import httpx

from bot.errors import AuthExpired, PlatformError, PlatformUnavailable, RateLimited
from bot.platforms.http import ApiClient, register_secret


class TokenVault(Protocol):
    """Where the account's current refresh token is kept between refreshes and restarts."""

    def load(self) -> str:
        """The refresh token to spend next ("" when there is none)."""

    def save(self, refresh_token: str) -> None:
        """Keep the rotated token; must be durable when it returns."""


@dataclass(frozen=True)
class XApp:
    """The developer app's OAuth 2.0 client; `client_secret` is empty for a public client."""

    client_id: str
    client_secret: str = ""


class XTokens:
    """The account's access token, renewed with the refresh token when X refuses it."""

    def __init__(self, api: ApiClient, token_url: str, app: XApp, vault: TokenVault,
                 access_token: str = "") -> None:
        self._api, self._url, self._app, self._vault = api, token_url, app, vault
        self._access = access_token
        self._lock = threading.Lock()
        register_secret(app.client_secret)

    @property
    def access_token(self) -> str:
        return self._access

    def refresh(self, refused: str) -> str:
        """A new access token after X refused `refused`; raises `AuthExpired` if X will not
        renew it (revoked app, used or unknown refresh token, wrong client credentials).

        Under a lock, and skipped when another thread has already replaced `refused`, so two
        callers that meet an expired token together spend the refresh token only once.
        """
        with self._lock:
            if self._access and self._access != refused:
                return self._access
            refresh_token = self._vault.load()
            if not refresh_token:
                raise self._api.error(AuthExpired, "X access token refused and no refresh "
                                      "token configured (needs the offline.access scope)")
            register_secret(refresh_token)
            pair = self._request(refresh_token)
            self._vault.save(pair["refresh_token"])
            self._access = pair["access_token"]
            return self._access

    def _request(self, refresh_token: str) -> dict[str, str]:
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token,
                "client_id": self._app.client_id}
        auth = (httpx.BasicAuth(self._app.client_id, self._app.client_secret)
                if self._app.client_secret else None)
        try:
            answer = self._api.call("POST", self._url, data=form, auth=auth, idempotent=False)
        except (PlatformUnavailable, RateLimited):
            raise  # X is down or busy: the next poll tries again with the same refresh token
        except PlatformError as exc:
            raise self._api.error(AuthExpired, f"X refused to refresh the token: {exc}") from None
        pair = answer if isinstance(answer, dict) else {}
        access, rotated = pair.get("access_token"), pair.get("refresh_token")
        if not isinstance(access, str) or not isinstance(rotated, str) or not access or not rotated:
            raise self._api.error(AuthExpired, "X token answer without access and refresh "
                                  "token (was offline.access granted?)")
        register_secret(access)
        register_secret(rotated)
        return {"access_token": access, "refresh_token": rotated}

