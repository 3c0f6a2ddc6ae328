"""Graph's error envelope mapped to `bot.errors`, for the Facebook and Instagram connectors.

Graph errors are classified by `error.code`, never by HTTP status (docs 1.8-1.9).
"""

from __future__ import annotations

import httpx

from bot.errors import (
    AuthExpired,
    DuplicateRejected,
    ObjectGone,
    PlatformError,
    PlatformUnavailable,
)
from bot.platforms.http import DEFAULT_RETRY_AFTER, ApiClient, meta_usage, retry_after_seconds

THROTTLE_CODES = {4, 17, 32, 341, 613, 80001, 80002, 80006}
WINDOW_SUBCODES = {2018278, 2534022}
AUTH_CODES = {102, 190}
PERMISSION_CODES = {10, *range(200, 300)}
DUPLICATE_CODES = {506, 10900}
TRANSIENT_CODES = {1, 2}
# Deleted or out-of-reach objects: 33 "This object does not exist or does not support this
# action", 1705 "There was an error posting to this wall" (writes to a deleted post), 551
# (Messenger: person unavailable); code 100 only with subcode 33 or a "does not exist" message,
# since plain 100 is any invalid parameter (platform-apis.md §1.9; sandbox `graph.gone`).
GONE_CODES = {33, 551, 1705}


def classify_graph(response: httpx.Response, api: ApiClient) -> PlatformError | None:
    """Map Graph's error envelope to the error tree; None leaves it to the status defaults."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return None
    if not isinstance(error, dict):
        return None
    code, subcode = error.get("code"), error.get("error_subcode")
    where = f"{response.request.method} {response.request.url.path}"
    detail = f"{where}: Graph error {code}/{subcode} {error.get('type')}: {error.get('message')}"
    if code in THROTTLE_CODES or response.status_code == 429:
        usage = meta_usage(response.headers)
        waits = [retry_after_seconds(response.headers), usage.regain_seconds if usage else None]
        wait = max((w for w in waits if w), default=DEFAULT_RETRY_AFTER)
        return api.rate_limited(detail, wait)
    if code == 10 and subcode in WINDOW_SUBCODES:
        return api.error(PlatformError, detail + " (messaging window closed)")
    if code in AUTH_CODES or code in PERMISSION_CODES:
        return api.error(AuthExpired, detail)
    if code in GONE_CODES or code == 100 and (
        subcode == 33 or "does not exist" in str(error.get("message", ""))
    ):
        return api.error(ObjectGone, detail)
    if code in DUPLICATE_CODES:
        return api.error(DuplicateRejected, detail)
    if code in TRANSIENT_CODES or error.get("is_transient") or response.status_code >= 500:
        return api.error(PlatformUnavailable, detail)
    return api.error(PlatformError, detail)
