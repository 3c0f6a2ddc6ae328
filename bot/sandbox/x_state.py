"""The X emulator's world: users, posts and DM events, and how X pages and shapes them.

Kept apart from `x.py` (routes, rate limits, errors) so each file has one reason to
change: this one follows X's data model and query rules (§4.2), that one its HTTP surface.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import count
from typing import Any

from bot.sandbox.server import Request, Response, json_response

PROBLEMS = "https://api.x.com/2/problems/"


def problem(status: int, title: str, detail: str, kind: str = "about:blank") -> Response:
    return json_response({"title": title, "detail": detail, "type": kind, "status": status}, status)


def not_found(what: str, ident: str) -> Response:
    return problem(404, "Not Found Error", f"Could not find {what} with id: [{ident}].",
                   PROBLEMS + "resource-not-found")


def forbidden(detail: str) -> Response:
    """X's plain 403 (`about:blank`): this action is refused, the token itself is fine."""
    return problem(403, "Forbidden", detail)


def invalid() -> Response:
    return problem(400, "Invalid Request", "One or more parameters to your request was invalid.",
                   PROBLEMS + "invalid-request")


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


@dataclass
class Tweet:
    id: str
    author: str
    text: str
    created: datetime
    conversation_id: str
    replied_to: str | None = None
    in_reply_to_user_id: str | None = None
    hidden: bool = False
    deleted: bool = False


@dataclass
class DmEvent:
    id: str
    sender: str
    text: str
    created: datetime
    conversation_id: str
    participants: list[str] = field(default_factory=list)


class XState:
    def __init__(self, account_id: str, username: str) -> None:
        self.account_id, self.username = account_id, username
        self.users: dict[str, dict[str, str]] = {}
        self.tweets: dict[str, Tweet] = {}
        self.dms: list[DmEvent] = []
        self._tweet_ids = count(1_890_000_000_000_000_100)
        self._dm_ids = count(1_900_000_000_000_000_001)
        self._user_ids = count(4_400_000_001)
        self.users[account_id] = {"id": account_id, "username": username, "name": username}

    def add_user(self, username: str, name: str) -> str:
        user_id = str(next(self._user_ids))
        self.users[user_id] = {"id": user_id, "username": username, "name": name}
        return user_id

    def add_tweet(self, author: str, text: str, reply_to: str | None, created: datetime) -> Tweet:
        tweet_id = str(next(self._tweet_ids))
        parent = self.tweets[reply_to] if reply_to else None
        tweet = Tweet(tweet_id, author, text, created,
                      parent.conversation_id if parent else tweet_id, reply_to,
                      parent.author if parent else None)
        self.tweets[tweet_id] = tweet
        return tweet

    def add_dm(self, sender: str, recipient: str, text: str, created: datetime) -> DmEvent:
        pair = sorted((sender, recipient), key=int)
        event = DmEvent(str(next(self._dm_ids)), sender, text, created, "-".join(pair), pair)
        self.dms.append(event)
        return event

    def live(self) -> list[Tweet]:
        """Visible posts, newest first (ids grow with time, as X's do)."""
        return sorted((t for t in self.tweets.values() if not t.deleted),
                      key=lambda t: int(t.id), reverse=True)

    def mentions_account(self, tweet: Tweet) -> bool:
        """An explicit @handle, or the implicit one a reply to the account carries."""
        return (f"@{self.username}".lower() in tweet.text.lower()
                or tweet.in_reply_to_user_id == self.account_id)

    def summoned(self, target: Tweet) -> bool:
        """The 2026 reply rule: the target's author mentioned us or replied in our conversation."""
        root = self.tweets.get(target.conversation_id)
        return (target.author == self.account_id or self.mentions_account(target)
                or (root is not None and root.author == self.account_id))

    def query_matcher(self, query: str) -> Callable[[Tweet], bool] | None:
        """The search operators a poller needs (`from:`, `to:`, `conversation_id:`, `is:reply`)."""
        terms = query.split()
        if not terms or terms == ["is:reply"]:
            return None
        checks = [self._check(term) for term in terms]
        return lambda tweet: all(check(tweet) for check in checks)

    def _check(self, term: str) -> Callable[[Tweet], bool]:
        """One search term as a test of a tweet; a term without an operator is a word."""
        name, _, value = term.partition(":")
        if name in ("from", "to"):
            user = value.lower()
            if name == "from":
                return lambda t: self._is_user(t.author, user)
            return lambda t: self._is_user(t.in_reply_to_user_id, user)
        if name == "conversation_id":
            return lambda t: t.conversation_id == value
        if term == "is:reply":
            return lambda t: t.replied_to is not None
        word = term.lower()
        return lambda t: word in t.text.lower()

    def _is_user(self, user_id: str | None, name_or_id: str) -> bool:
        """`from:` and `to:` take a username or a numeric user id."""
        user = self.users.get(user_id or "", {})
        return name_or_id in (user.get("id"), user.get("username", "").lower())

    def user_json(self, user_id: str) -> dict[str, str]:
        return dict(self.users.get(user_id, {"id": user_id, "username": "", "name": ""}))

    # -- paging and shaping -----------------------------------------------------------------

    def tweet_page(self, request: Request, found: list[Tweet], low: int, default: int) -> Response:
        query = request.query
        fields = set((query.get("tweet.fields") or query.get("post.fields") or "").split(","))
        expansions = set(query.get("expansions", "").split(","))
        window = _window(query, [t.id for t in found], low, default)
        if window is None:
            return invalid()
        page, next_token = window
        tweets = [t for t in found if t.id in page]
        meta: dict[str, Any] = {"result_count": len(tweets)}
        body: dict[str, Any] = {"meta": meta}
        if tweets:
            body["data"] = [self._tweet_json(t, fields) for t in tweets]
            meta.update(newest_id=tweets[0].id, oldest_id=tweets[-1].id)
            includes = self._includes(tweets, expansions, fields)
            if includes:
                body["includes"] = includes
        if next_token:
            meta["next_token"] = next_token
        return json_response(body)

    def dm_page(self, request: Request, found: list[DmEvent]) -> Response:
        query = request.query
        wanted = set(query.get("event_types", "MessageCreate").split(","))
        fields = set(query.get("dm_event.fields", "").split(","))
        events = [e for e in found if "MessageCreate" in wanted]
        window = _window(query, [e.id for e in events], 1, 100)
        if window is None:
            return invalid()
        page, next_token = window
        chosen = [e for e in events if e.id in page]
        meta: dict[str, Any] = {"result_count": len(chosen)}
        body: dict[str, Any] = {"meta": meta}
        if chosen:
            body["data"] = [_dm_json(e, fields) for e in chosen]
            if "sender_id" in query.get("expansions", "").split(","):
                senders = dict.fromkeys(e.sender for e in chosen)
                body["includes"] = {"users": [self.user_json(s) for s in senders]}
        if next_token:
            meta["next_token"] = next_token
        return json_response(body)

    def _tweet_json(self, tweet: Tweet, fields: set[str]) -> dict[str, Any]:
        full: dict[str, Any] = {
            "created_at": _stamp(tweet.created), "author_id": tweet.author,
            "conversation_id": tweet.conversation_id,
            "in_reply_to_user_id": tweet.in_reply_to_user_id,
            "referenced_tweets": ([{"type": "replied_to", "id": tweet.replied_to}]
                                  if tweet.replied_to else None),
        }
        data = {"id": tweet.id, "text": tweet.text, "edit_history_tweet_ids": [tweet.id]}
        data.update({k: v for k, v in full.items() if k in fields and v is not None})
        return data

    def _includes(
        self, tweets: list[Tweet], expansions: set[str], fields: set[str]
    ) -> dict[str, Any]:
        includes: dict[str, Any] = {}
        if "author_id" in expansions:
            authors = dict.fromkeys(t.author for t in tweets)
            includes["users"] = [self.user_json(a) for a in authors]
        if "referenced_tweets.id" in expansions:
            parents = [self.tweets[t.replied_to] for t in tweets if t.replied_to
                       and not self.tweets[t.replied_to].deleted]
            if parents:
                includes["tweets"] = [self._tweet_json(p, fields) for p in parents]
        return includes


def _dm_json(event: DmEvent, fields: set[str]) -> dict[str, Any]:
    full = {"created_at": _stamp(event.created), "sender_id": event.sender,
            "dm_conversation_id": event.conversation_id, "participant_ids": event.participants}
    data: dict[str, Any] = {"id": event.id, "event_type": "MessageCreate", "text": event.text}
    data.update({k: v for k, v in full.items() if k in fields})
    return data


def _window(query: dict[str, str], ids: list[str], low: int,
            default: int) -> tuple[set[str], str | None] | None:
    """The ids of one newest-first page and the opaque token of the next, or None if invalid."""
    try:
        size = int(query.get("max_results", str(default)))
        since = int(query.get("since_id", "0"))
        until = int(query.get("until_id", str(10**20)))
        token = query.get("pagination_token") or query.get("next_token")
        before = int(base64.urlsafe_b64decode(token.encode()).decode()) if token else 10**20
    except ValueError:
        return None
    if not low <= size <= 100:
        return None
    eligible = [i for i in ids if since < int(i) < min(until, before)]
    page = eligible[:size]
    more = len(eligible) > size
    next_token = base64.urlsafe_b64encode(page[-1].encode()).decode() if more else None
    return set(page), next_token
