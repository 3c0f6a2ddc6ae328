"""The one place where platform HTTP turns into `bot.errors` types.

Every connector talks through `ApiClient`, so timeouts, retries, throttling, token
redaction and logging behave the same on every platform. Platforms with their own error
bodies (Graph codes, X problem types) pass a `classify` hook that is consulted before the
status-based defaults.

Bounds: whatever a platform returns, one poll stays small. Every answer is read as a stream
and dropped past `Limits.max_bytes`; every paging loop goes through a `PageWalk`, which ends
the walk with an error at a repeated cursor or `next` link and past the pages and items a
poll may take. And once `STOPPING` is set (SIGTERM), no request starts and none is read on.

Retries: only `PlatformUnavailable` is retried, and only when repeating the call is
harmless: reads, or writes that never left this machine (connect failures). A write whose
answer was lost may have taken effect, so it is raised at once and the caller reads back
(`find_reply`) before sending again.
"""

from __future__ import annotations

import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from bot.errors import (
    AuthExpired,
    DuplicateRejected,
    ObjectGone,
    PlatformError,
    PlatformUnavailable,
    RateLimited,
)

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0
DEFAULT_RETRY_AFTER = 60.0
REDACTED = "***"
_TOKEN_PARAM = re.compile(
    r"((?:access_token|token|client_secret|appsecret_proof|code)=)[^&\s\"']+", re.IGNORECASE
)

Classifier = Callable[[httpx.Response, "ApiClient"], PlatformError | None]

STOPPING = threading.Event()
"""Set by the service on SIGTERM: calls in flight end at the next chunk, new ones never start."""

READ_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Limits:
    """What one poll of one account may take (BORGERBOT_MAX_PAGES_PER_POLL and friends)."""

    max_pages: int = 200
    max_items: int = 5000
    max_bytes: int = 16 * 1024 * 1024


DEFAULT_LIMITS = Limits()


class PageWalk:
    """One paging loop of one poll: refuses a cursor it has already followed, and ends the walk
    once the poll has followed `max_pages` pages or read `max_items` items."""

    def __init__(self, api: ApiClient, what: str) -> None:
        self.api, self.what = api, what
        self._followed: set[str] = set()

    def took(self, items: int) -> None:
        """A page of `items` elements was read."""
        self.api.poll_items += items
        if self.api.poll_items > self.api.limits.max_items:
            raise self.api.error(PlatformError, f"{self.what}: more than "
                                 f"{self.api.limits.max_items} items in one poll; walk ended")

    def follow(self, cursor: str) -> None:
        """About to ask for the page after `cursor` (a next link or a token)."""
        if cursor in self._followed:
            raise self.api.error(PlatformError, f"{self.what}: the platform repeated a paging "
                                 "cursor; walk ended")
        self._followed.add(cursor)
        self.api.poll_pages += 1
        if self.api.poll_pages > self.api.limits.max_pages:
            raise self.api.error(PlatformError, f"{self.what}: more than "
                                 f"{self.api.limits.max_pages} pages in one poll; walk ended")


def make_http(
    base_url: str, *, timeout: float = DEFAULT_TIMEOUT, headers: Mapping[str, str] | None = None
) -> httpx.Client:
    """An httpx client with a bounded timeout on every phase and no redirects to follow."""
    return httpx.Client(
        base_url=base_url,
        timeout=httpx.Timeout(timeout),
        headers=dict(headers or {}),
        follow_redirects=False,
    )


# -- redaction ------------------------------------------------------------------------------

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def register_secret(secret: str) -> None:
    """Make the log filter blank this value wherever httpx or we might print it."""
    if secret:
        with _secrets_lock:
            _secrets.add(secret)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` without token-like query values and without any registered secret."""
    with _secrets_lock:
        known = set(_secrets)
    for secret in sorted(known.union(secrets), key=len, reverse=True):
        if secret:
            text = text.replace(secret, REDACTED)
    return _TOKEN_PARAM.sub(rf"\1{REDACTED}", text)


class RedactingFilter(logging.Filter):
    """Rewrites records of the loggers it sits on (httpx logs full request URLs at INFO)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


_filter = RedactingFilter()
for _name in ("httpx", "httpcore", __name__):
    logging.getLogger(_name).addFilter(_filter)


# -- header parsing ------------------------------------------------------------------------


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from `Retry-After` (seconds or HTTP date) or an epoch reset header."""
    now = time.time() if now is None else now
    value = headers.get("retry-after")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                return max(0.0, parsedate_to_datetime(value).timestamp() - now)
            except (TypeError, ValueError):
                pass
    for name in ("x-rate-limit-reset", "x-ratelimit-reset"):
        reset = headers.get(name)
        if reset and reset.isdigit():
            return max(0.0, float(reset) - now)
    return None


@dataclass(frozen=True)
class Usage:
    """Meta's usage headers: the highest percent of any budget used, and minutes to wait."""

    percent: float
    regain_seconds: float


def meta_usage(headers: Mapping[str, str]) -> Usage | None:
    """Read `X-App-Usage` and `X-Business-Use-Case-Usage`; None when Meta sent neither."""
    percents: list[float] = []
    regain = 0.0
    for entry in _usage_entries(headers):
        for key in ("call_count", "total_cputime", "total_time"):
            if isinstance(entry.get(key), int | float):
                percents.append(float(entry[key]))
        minutes = entry.get("estimated_time_to_regain_access")
        if isinstance(minutes, int | float):
            regain = max(regain, float(minutes) * 60)
    if not percents and not regain:
        return None
    return Usage(max(percents, default=0.0), regain)


def _usage_entries(headers: Mapping[str, str]) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for name in ("x-app-usage", "x-business-use-case-usage", "x-page-usage"):
        raw = headers.get(name)
        if not raw:
            continue
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        if isinstance(data, dict) and any(isinstance(v, list) for v in data.values()):
            entries.extend(e for v in data.values() if isinstance(v, list) for e in v)
        elif isinstance(data, dict):
            entries.append(data)
    return [e for e in entries if isinstance(e, dict)]


# -- retries -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, so many accounts never retry in lockstep."""

    attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 8.0

    def delay(self, attempt: int) -> float:
        return random.uniform(0.0, min(self.max_delay, self.base_delay * 2**attempt))


DEFAULT_RETRY = RetryPolicy()


# -- the client ------------------------------------------------------------------------------


class ApiClient:
    """Calls one account's API and returns parsed JSON or raises a `PlatformError`."""

    def __init__(
        self,
        http: httpx.Client,
        *,
        platform: str,
        account: str,
        secrets: Iterable[str] = (),
        classify: Classifier | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self.http = http
        self.limits = limits
        self.poll_pages = self.poll_items = 0
        self.platform = platform
        self.account = account
        self.secrets = tuple(s for s in secrets if s)
        for secret in self.secrets:
            register_secret(secret)
        self.classify = classify
        self.retry = retry
        self.usage: Usage | None = None

    def begin_poll(self) -> None:
        """A new poll (or read-back) starts: its pages and items are counted from zero."""
        self.poll_pages = self.poll_items = 0

    def walk(self, what: str) -> PageWalk:
        return PageWalk(self, what)

    def call(self, method: str, url: str, *, idempotent: bool | None = None, **kwargs: Any) -> Any:
        """Send and parse; `kwargs` go to `httpx.Client.request` (params, json, data, headers)."""
        response = self.request(method, url, idempotent=idempotent, **kwargs)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise self.error(PlatformUnavailable, f"{method} {self._where(url)}: not JSON") from None

    def request(
        self, method: str, url: str, *, idempotent: bool | None = None, **kwargs: Any
    ) -> httpx.Response:
        """Send with retries; returns a 2xx response, raises a `PlatformError` otherwise."""
        repeatable = method.upper() in ("GET", "HEAD") if idempotent is None else idempotent
        where = f"{method} {self._where(url)}"
        attempt = 1
        while True:
            if STOPPING.is_set():
                raise self.error(PlatformUnavailable, f"{where}: stopping")
            try:
                response = self._bounded(method, url, where, **kwargs)
            except httpx.TransportError as exc:
                error = self.error(PlatformUnavailable, f"{where}: {type(exc).__name__}")
                unsent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
                may_retry = repeatable or unsent
            else:
                self._note_usage(response)
                log.debug(
                    "%s/%s: %s -> %s", self.platform, self.account, where, response.status_code
                )
                if response.is_success:
                    return response
                error = self._classified(response, where)
                may_retry = repeatable and isinstance(error, PlatformUnavailable)
            if not may_retry or attempt >= self.retry.attempts:
                raise error
            pause = self.retry.delay(attempt)
            log.info(
                "%s/%s: retrying %s in %.2fs after: %s",
                self.platform, self.account, where, pause, error,
            )
            if STOPPING.wait(pause):
                raise self.error(PlatformUnavailable, f"{where}: stopping")
            attempt += 1

    def _bounded(self, method: str, url: str, where: str, **kwargs: Any) -> httpx.Response:
        """The answer read chunk by chunk: dropped past `max_bytes` or once `STOPPING` is set,
        so neither a huge page nor a slow one holds the memory or the process."""
        cap = self.limits.max_bytes
        with self.http.stream(method, url, **kwargs) as streamed:
            declared = streamed.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > cap:
                raise self.error(PlatformError, f"{where}: answer of {declared} bytes is past "
                                 f"the limit of {cap}; not read")
            body = bytearray()
            for chunk in streamed.iter_bytes(READ_CHUNK):  # decoded: a gzip bomb counts in full
                body += chunk
                if len(body) > cap:
                    raise self.error(PlatformError, f"{where}: answer past the limit of {cap} "
                                     "bytes; not read further")
                if STOPPING.is_set():
                    raise self.error(PlatformUnavailable, f"{where}: stopping")
        headers = [(k, v) for k, v in streamed.headers.multi_items()
                   if k.lower() not in ("content-encoding", "content-length")]
        return httpx.Response(streamed.status_code, headers=headers, content=bytes(body),
                              request=streamed.request)

    def _note_usage(self, response: httpx.Response) -> None:
        usage = meta_usage(response.headers)
        if usage is not None:
            self.usage = usage

    def _classified(self, response: httpx.Response, where: str) -> PlatformError:
        if self.classify is not None:
            found = self.classify(response, self)
            if found is not None:
                return found
        status = response.status_code
        detail = f"{where}: HTTP {status} {self.redact(response.text[:200])}"
        if status == 429:
            wait = retry_after_seconds(response.headers)
            return self.rate_limited(detail, DEFAULT_RETRY_AFTER if wait is None else wait)
        if status in (401, 403):
            return self.error(AuthExpired, detail)
        if status in (404, 410):
            return self.error(ObjectGone, detail)
        if status == 409:
            return self.error(DuplicateRejected, detail)
        if status >= 500:
            return self.error(PlatformUnavailable, detail)
        return self.error(PlatformError, detail)

    def error(self, kind: type[PlatformError], message: str) -> PlatformError:
        """An error of `kind` tagged with this account, its message redacted."""
        return kind(self.redact(message), platform=self.platform, account=self.account)

    def rate_limited(self, message: str, retry_after: float) -> RateLimited:
        return RateLimited(
            self.redact(message),
            retry_after=retry_after,
            platform=self.platform,
            account=self.account,
        )

    def redact(self, text: str) -> str:
        return redact(text, self.secrets)

    def _where(self, url: str) -> str:
        """The URL as it may appear in logs and errors: path only, tokens removed."""
        return self.redact(url.split("?", 1)[0])

    def close(self) -> None:
        self.http.close()
