"""What the fake Slack enforces per Web API method besides its arguments: the bot scope the
app's manifest must grant, and the rate-limit tier.

Scopes and tiers are copied from each method's page in Slack's reference (docs.slack.dev/
reference/methods/<method>, "Required scopes" and "Rate limits"; summary in
shared/docs/chat-platforms.md §4). Tiers (docs.slack.dev/apis/web-api/rate-limits): Tier 1
1+/min, Tier 2 20+/min, Tier 3 50+/min, Tier 4 100+/min, each "per method, per workspace, per
app", with bursts tolerated; over the limit Slack answers HTTP 429 with `Retry-After` seconds
and `{"ok": false, "error": "ratelimited"}`. `chat.postMessage` is "special" (about 1/s per
channel) and paced in `FakeSlack.limit_posts_per_channel` instead.
"""

from __future__ import annotations

import math
from pathlib import Path

import yaml

from bot.sandbox.slack_workspace import Args, SlackFailure

MANIFEST = Path(__file__).resolve().parents[2] / "slack_manifest.yaml"

PER_MINUTE = {1: 1, 2: 20, 3: 50, 4: 100}

TIERS = {
    "chat.update": 3, "chat.delete": 3, "chat.postEphemeral": 4, "conversations.history": 3,
    "conversations.replies": 3, "conversations.list": 2, "conversations.members": 4,
    "usergroups.users.list": 2, "users.info": 4, "views.open": 4, "views.update": 4,
}


def needed_scopes(method: str, args: Args, private: bool | None) -> tuple[str, ...]:
    """The bot scopes of which one must be granted for this call (empty: none needed).
    Reading a channel needs the scope of its kind (`channels:*` public, `groups:*` private);
    `conversations.list` needs the scope of every kind it is asked for."""
    kind = "groups" if private else "channels"
    if method in ("chat.postMessage", "chat.update", "chat.delete", "chat.postEphemeral"):
        return ("chat:write",)
    if method in ("conversations.history", "conversations.replies"):
        return (f"{kind}:history",)
    if method == "conversations.members":
        return (f"{kind}:read",)
    if method == "conversations.list":
        wanted = str(args.get("types") or "public_channel").split(",")
        return tuple(scope for scope, kind_name in (("channels:read", "public_channel"),
                                                    ("groups:read", "private_channel"))
                     if kind_name in wanted)
    if method == "usergroups.users.list":
        return ("usergroups:read",)
    if method == "users.info":
        return ("users:read",)
    return ()  # auth.test, chat.getPermalink, views.*: no scope listed


def manifest_scopes(path: Path = MANIFEST) -> frozenset[str] | None:
    """The bot scopes `slack_manifest.yaml` asks for; None when there is no manifest to read
    (an installed package), so nothing is checked."""
    if not path.exists():
        return None
    manifest = yaml.safe_load(path.read_text(encoding="utf-8"))
    return frozenset(manifest["oauth_config"]["scopes"]["bot"])


def missing_scope(granted: frozenset[str], needed: tuple[str, ...]) -> Args | None:
    """Slack's answer when the token lacks every one of `needed`: HTTP 200 with
    `{"ok": false, "error": "missing_scope", "needed": ..., "provided": ...}` (the
    documented error of every scoped method; field names as Slack sends them)."""
    if not needed or any(scope in granted for scope in needed):
        return None
    return {"ok": False, "error": "missing_scope", "needed": ",".join(needed),
            "provided": ",".join(sorted(granted))}


class TierBuckets:
    """One token bucket per method of a tier, holding a minute's budget (the tolerated
    burst) and refilling at the tier's rate."""

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}  # method -> (tokens, at)

    def take(self, method: str, now: float) -> None:
        tier = TIERS.get(method)
        if tier is None:
            return
        budget = float(PER_MINUTE[tier])
        interval = 60.0 / budget
        tokens, at = self._buckets.get(method, (budget, now))
        tokens = min(budget, tokens + (now - at) / interval)
        if tokens < 1.0 - 1e-9:
            raise SlackFailure("ratelimited", status=429,
                               retry_after=max(1, math.ceil((1.0 - tokens) * interval)))
        self._buckets[method] = (tokens - 1.0, now)
