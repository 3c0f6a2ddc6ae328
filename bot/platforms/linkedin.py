"""LinkedIn organisation page: comments and replies on the page's recent posts.

An idle poll costs two requests: the recent posts, and one Rest.li batch read of their
`commentsSummary`. Comments are read only for posts whose comment count moved since the
previous poll, and replies only for threads whose count moved. The counts live in memory,
tied to the cursor they were produced with: after a restart, or when the poller retries an
older cursor, every post with comments is read once, so memory is an optimisation, never
the source of truth. The cursor itself is the newest comment time seen (epoch ms); each
poll re-reads an overlap window before it because LinkedIn comment order is unspecified
and writes land late.

LinkedIn has no API for Page DMs and none for hiding comments (platform-apis.md §3.3).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from bot.errors import AuthExpired, DuplicateRejected, ObjectGone, PlatformError
from bot.platforms.base import FetchResult, IncomingItem, OwnReply, ReplyTarget, SentReply
from bot.platforms.http import (
    DEFAULT_LIMITS,
    DEFAULT_RETRY,
    DEFAULT_TIMEOUT,
    ApiClient,
    Limits,
    RetryPolicy,
    make_http,
)

log = logging.getLogger(__name__)

API_VERSION = "202609"
MEMBER_NAME = "LinkedIn-medlem"
PAGE_SIZE = 100


@dataclass
class _Counts:
    """Comment counts seen by the poll that produced `cursor`."""

    cursor: str = ""
    posts: dict[str, int] = field(default_factory=dict)
    threads: dict[str, int] = field(default_factory=dict)
    seen: dict[str, int] = field(default_factory=dict)  # handed out, within the overlap


@dataclass(frozen=True)
class Thread:
    """A top-level comment with the replies read for it, and the post it sits under."""

    post_urn: str
    post_text: str
    top: dict[str, Any]
    replies: list[dict[str, Any]]

    def comments(self) -> list[dict[str, Any]]:
        """Oldest first: LinkedIn does not promise any order, so we impose one."""
        return sorted([self.top, *self.replies], key=comment_time)


def comment_time(comment: dict[str, Any]) -> int:
    return int(comment["created"]["time"])


def answered(thread: Thread, reply: dict[str, Any], org: str) -> str | None:
    """The citizen comment an org reply answers: the newest one before it in its thread."""
    if not reply.get("parentComment"):
        return None
    before = [c for c in thread.comments() if comment_time(c) <= comment_time(reply)
              and c is not reply and c["actor"] != org]
    return before[-1]["commentUrn"] if before else None


def classify(response: httpx.Response, api: ApiClient) -> PlatformError | None:
    """LinkedIn's `{status, serviceErrorCode, code, message}` envelope, read before defaults."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    status = response.status_code
    detail = f"HTTP {status} {body.get('code', '')} {body.get('serviceErrorCode', '')}: " + str(
        body.get("message", "")
    )
    if status == 429:
        return api.rate_limited(detail, _throttle_pause(response, str(body.get("message", ""))))
    if status == 426:
        version = response.request.headers.get("LinkedIn-Version", "")
        return api.error(AuthExpired, f"LinkedIn-Version {version} is no longer served; {detail}")
    if status == 422 and "duplicate" in detail.lower():
        return api.error(DuplicateRejected, detail)
    return None


def _throttle_pause(response: httpx.Response, message: str) -> float:
    """LinkedIn sends no Retry-After: a daily quota resets at UTC midnight, a blip soon."""
    header = response.headers.get("retry-after", "")
    if header.isdigit():
        return float(header)
    if "DAY" in message:
        now = datetime.now(UTC)
        midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
        return (midnight - now).total_seconds()
    return 60.0


class LinkedInClient:
    """One organisation page; `account` is its numeric id or its `urn:li:organization:` URN."""

    platform = "linkedin"

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
        recent_posts: int = 50,
        overlap: timedelta = timedelta(minutes=10),
        version: str = API_VERSION,
    ) -> None:
        self.account = account
        self.org = account if account.startswith("urn:li:") else f"urn:li:organization:{account}"
        self._root = base_url.rstrip("/") + "/rest"
        self._headers = {"Authorization": f"Bearer {token}", "LinkedIn-Version": version,
                         "X-Restli-Protocol-Version": "2.0.0"}
        self._api = ApiClient(http or make_http(base_url, timeout=timeout), platform=self.platform,
                              account=account, secrets=[token], classify=classify, retry=retry,
                              limits=limits)
        self._recent = min(recent_posts, PAGE_SIZE)
        self._overlap_ms = int(overlap.total_seconds() * 1000)
        self._counts = _Counts()

    def streams(self) -> list[str]:
        return ["comments"]

    # -- reading ------------------------------------------------------------------------------

    def fetch_new(self, stream: str, cursor: str) -> FetchResult:
        self._api.begin_poll()
        if stream != "comments":
            raise ValueError(f"unknown LinkedIn stream {stream!r}")
        since = int(cursor) - self._overlap_ms if cursor else 0
        known = self._counts if self._counts.cursor == cursor and cursor else _Counts()
        posts = {p["id"]: p for p in self._get("/posts", q="author", author=self.org,
                                               count=str(self._recent), sortBy="LAST_MODIFIED")
                 ["elements"]}
        totals = self._comment_totals(list(posts))
        fresh = _Counts(posts=totals, threads=dict(known.threads))
        threads: list[Thread] = []
        for urn, total in totals.items():
            if total and total != known.posts.get(urn):
                threads.extend(self._post_threads(urn, posts[urn], known, fresh))
        items, own, newest = self._translate(threads, since, known.seen)
        fresh.cursor = str(max(newest, int(cursor or 0)))
        handed = {i.external_id: _ms(i.created_at) for i in items} | {
            o.external_id: _ms(o.created_at) for o in own}
        floor = int(fresh.cursor) - self._overlap_ms
        fresh.seen = {k: t for k, t in (known.seen | handed).items() if t >= floor}
        # Counts may stand in for a cursor only if no two polls can hand out the same cursor
        # for different states: a poll that found something without moving the cursor (late
        # writes) must not let a retry of that cursor skip the posts it read.
        reusable = fresh.cursor != cursor or not (items or own)
        self._counts = fresh if reusable else _Counts()
        log.debug("linkedin/%s: %d posts, %d threads read, %d new, %d own", self.account,
                  len(posts), len(threads), len(items), len(own))
        return FetchResult(items, own, fresh.cursor)

    def _comment_totals(self, urns: list[str]) -> dict[str, int]:
        if not urns:
            return {}
        ids = "List(" + ",".join(quote(u, safe="") for u in urns) + ")"
        results = self._api.call("GET", f"{self._root}/socialActions?ids={ids}",
                                 headers=self._headers)["results"]
        return {urn: int(r["commentsSummary"]["aggregatedTotalComments"])
                for urn, r in results.items()}

    def _post_threads(self, urn: str, post: dict[str, Any], known: _Counts,
                      fresh: _Counts) -> list[Thread]:
        """The post's top-level comments, each with its replies read where their count moved."""
        try:
            top = self._all_comments(urn)
        except ObjectGone:
            log.info("linkedin/%s: post %s vanished during the poll", self.account, urn)
            return []
        threads = []
        for comment in top:
            count = int(comment.get("commentsSummary", {}).get("aggregatedTotalComments", 0))
            changed = count and count != known.threads.get(comment["commentUrn"])
            replies = self._all_comments(comment["commentUrn"]) if changed else []
            fresh.threads[comment["commentUrn"]] = count
            threads.append(Thread(urn, str(post.get("commentary", "")), comment, replies))
        return threads

    def _all_comments(self, target: str) -> list[dict[str, Any]]:
        """Every page of a post's or a comment's comments (offset paging up to `paging.total`)."""
        found: list[dict[str, Any]] = []
        walk = self._api.walk("LinkedIn comment paging")
        while True:
            page = self._get(f"/socialActions/{quote(target, safe='')}/comments",
                             start=str(len(found)), count=str(PAGE_SIZE))
            walk.took(len(page["elements"]))
            found.extend(page["elements"])
            if not page["elements"] or len(found) >= int(page["paging"].get("total", 0)):
                return found
            walk.follow(str(len(found)))

    def _translate(self, threads: list[Thread], since: int, seen: dict[str, int]
                   ) -> tuple[list[IncomingItem], list[OwnReply], int]:
        """New items and our replies at or after `since`, minus those already handed out."""
        items: list[IncomingItem] = []
        own: list[OwnReply] = []
        newest = 0
        for thread in threads:
            for comment in thread.comments():
                created = comment_time(comment)
                newest = max(newest, created)
                if created < since or comment["commentUrn"] in seen:
                    continue
                if comment["actor"] == self.org:
                    answer = answered(thread, comment, self.org)
                    if answer is not None:
                        own.append(OwnReply(self.platform, comment["commentUrn"], answer,
                                            comment["message"]["text"], _when(created)))
                else:
                    items.append(self._item(thread, comment, created))
        return sorted(items, key=lambda i: i.created_at), own, newest

    def _item(self, thread: Thread, comment: dict[str, Any], created: int) -> IncomingItem:
        urn = comment["commentUrn"]
        ref = {"thread": thread.top["commentUrn"], "object": comment["object"], "comment": urn}
        return IncomingItem(
            platform=self.platform, account=self.account, external_id=urn,
            kind="reply" if comment.get("parentComment") else "comment",
            author_id=comment["actor"], author_name=MEMBER_NAME,
            text=comment["message"]["text"], created_at=_when(created),
            reply_target=ReplyTarget("comment", ref), post_id=thread.post_urn,
            post_text=thread.post_text, conversation_id=thread.top["commentUrn"],
            permalink=_permalink(comment["object"], urn),
        )

    # -- writing ------------------------------------------------------------------------------

    def send_reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> SentReply:
        """Reply in the comment's thread; LinkedIn nests two levels, so always under the top."""
        thread = self._thread_of(target)
        body = {"actor": self.org, "object": target.ref["object"], "parentComment": thread,
                "message": {"text": text}}
        created = self._api.call("POST", f"{self._root}/socialActions/{quote(thread, safe='')}"
                                 "/comments", json=body, headers=self._headers)
        log.info("linkedin/%s: replied %s under %s (key %s)", self.account,
                 created["commentUrn"], target.ref["comment"], idempotency_key)
        return SentReply(created["commentUrn"], _permalink(target.ref["object"],
                                                           created["commentUrn"]))

    def find_reply(self, target: ReplyTarget, idempotency_key: str) -> SentReply | None:
        """Our comment in the thread that answers exactly this comment, if one exists.

        LinkedIn keeps no client key, so the read-back relies on the workflow's rule of one
        reply per inquiry: an org comment answers the newest citizen comment before it.
        """
        self._api.begin_poll()
        thread_urn = self._thread_of(target)
        top = {"commentUrn": thread_urn, "actor": "", "created": {"time": 0}}
        thread = Thread("", "", top, self._all_comments(thread_urn))
        for comment in thread.comments():
            if comment["actor"] == self.org and answered(thread, comment, self.org) == \
                    target.ref["comment"]:
                return SentReply(comment["commentUrn"],
                                 _permalink(target.ref["object"], comment["commentUrn"]))
        return None

    def hide(self, target: ReplyTarget, hidden: bool) -> None:
        """LinkedIn offers no hide; deleting is its only moderation action (§3.3)."""
        raise PlatformError("LinkedIn has no API to hide a comment; only deletion exists",
                            platform=self.platform, account=self.account)

    def close(self) -> None:
        self._api.close()

    # -- helpers ------------------------------------------------------------------------------

    def _thread_of(self, target: ReplyTarget) -> str:
        if target.mode != "comment":
            raise PlatformError("LinkedIn Page messages have no public API",
                                platform=self.platform, account=self.account)
        return target.ref["thread"]

    def _get(self, path: str, **params: str) -> Any:
        return self._api.call("GET", self._root + path, params=params, headers=self._headers)


def _when(epoch_ms: int) -> datetime:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC)


def _ms(when: datetime) -> int:
    return round(when.timestamp() * 1000)


def _permalink(activity: str, comment_urn: str) -> str:
    return (f"https://www.linkedin.com/feed/update/{activity}/"
            f"?commentUrn={quote(comment_urn, safe='')}")


