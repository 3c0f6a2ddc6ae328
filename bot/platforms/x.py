"""X account: mentions and replies to the account, and direct messages.

Two streams. `mentions` costs two requests when idle: the mentions timeline (replies to the
account's posts carry its @handle, so they are there too) and a recent search for the
account's own replies, both from stored `since_id`s, so nothing is read twice and clocks do
not matter. `messages` costs one request: DM events have no `since_id`, so pages are read
newest first until the last stored event (or, if that one was deleted, until events older
than its time minus an overlap). Keep the DM poll at one per minute or slower: X allows 15
DM reads per 15 minutes.

With OAuth 2.0 user tokens (`oauth`), a refused access token is renewed once with the refresh
token and the call repeated (`x_auth`); only a refused refresh stops the account.

X keeps no idempotency key: an identical text is refused as a duplicate (403), and
`find_reply` reads back the account's replies in the conversation (§4.6).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx

from bot.errors import AuthExpired, DuplicateRejected, PlatformError, RateLimited, UsageCapped
from bot.platforms.base import FetchResult, IncomingItem, OwnReply, ReplyTarget, SentReply
from bot.platforms.http import (
    DEFAULT_LIMITS,
    DEFAULT_RETRY,
    DEFAULT_TIMEOUT,
    ApiClient,
    Limits,
    RetryPolicy,
    make_http,
    retry_after_seconds,
)
from bot.platforms.x_auth import TokenVault, XApp, XTokens
from bot.platforms.x_messages import DmReader, parse_time

log = logging.getLogger(__name__)

# A spent cap lifts at the monthly reset (legacy Basic/Pro) or as soon as someone buys credits
# or raises the spend limit (pay-per-use), and X's answer names neither moment: its
# `x-rate-limit-reset` is that of the 15-minute window (xdevplatform/xdk#25). So a capped
# account asks again about once an hour; a refused call costs nothing.
USAGE_CAP_REST_SECONDS = 3600.0

TWEET_FIELDS = {"tweet.fields": "created_at,author_id,conversation_id,in_reply_to_user_id,"
                "referenced_tweets", "expansions": "author_id,referenced_tweets.id",
                "user.fields": "username,name"}


def classify(response: httpx.Response, api: ApiClient) -> PlatformError | None:
    """X problem details (`title`, `detail`, `type`) or the legacy `errors[]`, before defaults."""
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    legacy = (body.get("errors") or [{}])[0]
    detail = str(body.get("detail") or legacy.get("message") or body.get("title") or "")
    kind = str(body.get("type") or "")
    message = f"HTTP {response.status_code} {kind}: {detail}"
    if response.status_code == 429 and (kind.endswith("/usage-capped")
                                        or body.get("title") == "UsageCapExceeded"):
        wait = max(retry_after_seconds(response.headers) or 0.0, USAGE_CAP_REST_SECONDS)
        return UsageCapped(api.redact(message), retry_after=wait, platform=api.platform,
                           account=api.account)
    if response.status_code != 403:
        return None
    if "duplicate content" in detail:
        return api.error(DuplicateRejected, message)
    if kind == "about:blank":
        # A refusal of this one action (reply not summoned, hide outside our conversation):
        # the token is fine, so the account must not be stopped.
        return api.error(PlatformError, message)
    return api.error(AuthExpired, message)


class XClient:
    """One X account; `account` is its numeric user id (a string, never parsed)."""

    platform = "x"

    def __init__(
        self,
        account: str,
        token: str,
        base_url: str,
        *,
        http: httpx.Client | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy = DEFAULT_RETRY,
        limits: Limits = DEFAULT_LIMITS,
        dm_page_size: int = 20,
        overlap: timedelta = timedelta(minutes=10),
        oauth: tuple[XApp, TokenVault] | None = None,
    ) -> None:
        self.account = account
        self._root = _api_root(base_url)
        self._api = ApiClient(http or make_http(base_url, timeout=timeout), platform=self.platform,
                              account=account, secrets=[token], classify=classify, retry=retry,
                              limits=limits)
        self._tokens = (XTokens(self._api, self._root + "/oauth2/token", *oauth, access_token=token)
                        if oauth else None)
        self._token = token
        self._dms = DmReader(self._get_pages, account, dm_page_size, overlap)

    def streams(self) -> list[str]:
        return ["mentions", "messages"]

    # -- reading ------------------------------------------------------------------------------

    def fetch_new(self, stream: str, cursor: str) -> FetchResult:
        self._api.begin_poll()
        if stream == "messages":
            try:
                return self._dms.fetch_new(cursor)
            except UsageCapped:
                raise  # the cap is the app's, not the endpoint's: the whole account waits
            except RateLimited as exc:
                # X limits each endpoint on its own: mentions can still be read meanwhile.
                raise RateLimited(str(exc), retry_after=exc.retry_after, platform=self.platform,
                                  account=self.account, per_stream=True) from None
        if stream != "mentions":
            raise ValueError(f"unknown X stream {stream!r}")
        since = json.loads(cursor) if cursor else {}
        items, newest_mention = self._mentions(since.get("mentions", ""))
        own, newest_own = self._own_replies(since.get("own", ""))
        next_cursor = json.dumps({"mentions": newest_mention or since.get("mentions", ""),
                                  "own": newest_own or since.get("own", "")})
        log.debug("x/%s: %d mentions, %d own replies", self.account, len(items), len(own))
        return FetchResult(items, own, next_cursor)

    def _mentions(self, since_id: str) -> tuple[list[IncomingItem], str]:
        items: list[IncomingItem] = []
        newest = ""
        for page in self._get_pages(f"/users/{self.account}/mentions", since_id=since_id,
                                    max_results="100", **TWEET_FIELDS):
            newest = newest or page.get("meta", {}).get("newest_id", "")
            users = {u["id"]: u for u in page.get("includes", {}).get("users", [])}
            parents = {t["id"]: t for t in page.get("includes", {}).get("tweets", [])}
            for tweet in page.get("data", []):
                if tweet.get("author_id") != self.account:
                    items.append(self._item(tweet, users, parents))
        return sorted(items, key=lambda i: i.created_at), newest

    def _own_replies(self, since_id: str) -> tuple[list[OwnReply], str]:
        """The account's replies, whether the bot sent them or someone answered on x.com."""
        own: list[OwnReply] = []
        newest = ""
        for page in self._get_pages("/tweets/search/recent", query=f"from:{self.account} is:reply",
                                    since_id=since_id, max_results="100", **TWEET_FIELDS):
            newest = newest or page.get("meta", {}).get("newest_id", "")
            for tweet in page.get("data", []):
                answers = _replied_to(tweet)
                if answers:
                    own.append(OwnReply(self.platform, tweet["id"], answers, tweet["text"],
                                        parse_time(tweet["created_at"])))
        return own, newest

    def _item(self, tweet: dict[str, Any], users: dict[str, dict[str, Any]],
              parents: dict[str, dict[str, Any]]) -> IncomingItem:
        author = users.get(tweet.get("author_id", ""), {})
        parent = parents.get(_replied_to(tweet) or "", {})
        ours = parent.get("author_id") == self.account
        reply = tweet.get("in_reply_to_user_id") == self.account
        ref = {"tweet_id": tweet["id"], "conversation_id": tweet.get("conversation_id", "")}
        return IncomingItem(
            platform=self.platform, account=self.account, external_id=tweet["id"],
            kind="reply" if reply else "mention", author_id=tweet.get("author_id", ""),
            author_name=author.get("name") or author.get("username", ""), text=tweet["text"],
            created_at=parse_time(tweet["created_at"]),
            reply_target=ReplyTarget("comment", ref),
            post_id=parent.get("id") if ours else None,
            post_text=parent.get("text") if ours else None,
            conversation_id=tweet.get("conversation_id"),
            permalink=_status_url(tweet["id"]),
        )

    # -- writing ------------------------------------------------------------------------------

    def send_reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> SentReply:
        """A public reply under the post, or a DM to the sender of a message."""
        if target.mode == "message":
            participant = target.ref["participant_id"]
            sent = self._call("POST", f"{self._root}/dm_conversations/with/{participant}"
                              "/messages", json={"text": text})["data"]
            external_id, link = sent["dm_event_id"], _dm_url(sent["dm_conversation_id"])
        else:
            body = {"text": text, "reply": {"in_reply_to_tweet_id": target.ref["tweet_id"]}}
            sent = self._call("POST", f"{self._root}/tweets", json=body)["data"]
            external_id, link = sent["id"], _status_url(sent["id"])
        log.info("x/%s: sent %s (key %s)", self.account, external_id, idempotency_key)
        return SentReply(external_id, link)

    def find_reply(self, target: ReplyTarget, idempotency_key: str) -> SentReply | None:
        """The account's reply to exactly this post or message, read back from X.

        X has no client key; the workflow sends one reply per inquiry, so a reply of ours
        to the target is the one this key stands for.
        """
        self._api.begin_poll()
        if target.mode == "message":
            conversation = target.ref["dm_conversation_id"]
            found = self._dms.own_answer(conversation, target.ref["dm_event_id"])
            return SentReply(found, _dm_url(conversation)) if found else None
        query = f"from:{self.account} conversation_id:{target.ref['conversation_id']}"
        for page in self._get_pages("/tweets/search/recent", query=query, max_results="100",
                                    **TWEET_FIELDS):
            for tweet in reversed(page.get("data", [])):
                if _replied_to(tweet) == target.ref["tweet_id"]:
                    return SentReply(tweet["id"], _status_url(tweet["id"]))
        return None

    def hide(self, target: ReplyTarget, hidden: bool) -> None:
        """Hide a reply; X allows it only in conversations the account started."""
        if target.mode != "comment":
            raise PlatformError("X cannot hide a direct message",
                                platform=self.platform, account=self.account)
        self._call("PUT", f"{self._root}/tweets/{target.ref['tweet_id']}/hidden",
                   json={"hidden": hidden}, idempotent=True)

    def close(self) -> None:
        self._api.close()

    def _call(self, method: str, url: str, **kwargs: Any) -> Any:
        """One API call as the account; a refused access token is renewed once, then the
        call is repeated (X refuses before acting, so a refused write never happened)."""
        token = self._tokens.access_token if self._tokens else self._token
        if self._tokens is not None and not token:
            token = self._tokens.refresh("")  # configured with a refresh token only
        try:
            return self._api.call(method, url, headers=_bearer(token), **kwargs)
        except AuthExpired:
            if self._tokens is None:
                raise
            token = self._tokens.refresh(token)
        return self._api.call(method, url, headers=_bearer(token), **kwargs)

    def _get_pages(self, path: str, **params: str) -> Iterator[dict[str, Any]]:
        """Every page of a newest-first X list; `meta.next_token` is absent on the last.

        A token seen before in this walk (a `next_token` loop), or a poll past its limits,
        ends the walk with a `PlatformError`; so does a page that is not a JSON object."""
        params = {k: v for k, v in params.items() if v}
        walk = self._api.walk(f"X paging of {path}")
        while True:
            page = self._call("GET", self._root + path, params=params)
            if not isinstance(page, dict):
                raise self._api.error(PlatformError, f"GET {path}: a page of an unexpected form")
            data = page.get("data")
            walk.took(len(data) if isinstance(data, list) else 0)
            yield page
            meta = page.get("meta")
            token = meta.get("next_token") if isinstance(meta, dict) else None
            if not token:
                return
            walk.follow(str(token))
            params["pagination_token"] = str(token)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _api_root(base_url: str) -> str:
    """`…/2`, whether the configured URL names the version (`https://api.x.com/2/`, the
    default setting) or not (an emulator's bare root)."""
    root = base_url.rstrip("/")
    return root if root.endswith("/2") else root + "/2"


def _replied_to(tweet: dict[str, Any]) -> str | None:
    return next((r["id"] for r in tweet.get("referenced_tweets", [])
                 if r.get("type") == "replied_to"), None)


def _status_url(tweet_id: str) -> str:
    return f"https://x.com/i/web/status/{tweet_id}"


def _dm_url(conversation_id: str) -> str:
    return f"https://x.com/messages/{conversation_id}"


