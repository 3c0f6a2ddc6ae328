"""What `borgerbot run` checks with Slack before it starts working, so a set-up that cannot
work stops the start with one line saying what to do, instead of failing card by card.

- the bot token is accepted (`auth.test`): a wrong or revoked token, or a Slack that cannot
  be reached, is named here rather than as a traceback or an endless retry;
- every channel the rules file names (each route's, the unit's and the approval channel)
  exists and the bot is a member (`conversations.list` with `is_member`, scopes
  `channels:read` and `groups:read`: private channels are only listed to members, so a
  private channel the bot was not invited to reads as missing, as Slack itself reports it).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot import texts
from bot.assembly import Configuration
from bot.errors import ChatError, ConfigError

log = logging.getLogger(__name__)

REFUSED_TOKEN = {"invalid_auth", "not_authed", "token_revoked", "token_expired",
                 "account_inactive", "no_permission", "missing_scope"}
"""auth.test and conversations.list errors that mean the token itself must be renewed."""


def configured_channels(config: Configuration) -> list[str]:
    """Every channel the bot will post to, each once, in the order the file names them."""
    names = [route.channel for route in config.rules.routes]
    names += [config.setup.comms_channel, config.setup.approval_channel]
    return list(dict.fromkeys(names))


def check_slack(web: WebClient, config: Configuration) -> None:
    """Raise `ConfigError` (or `ChatError` when Slack is unreachable) naming the first
    thing an operator must fix; return quietly when Slack is ready.

    A throttled Slack says nothing about the set-up, so the check is skipped with a WARNING
    rather than refusing to start (a replica restarting often would never start again); a
    channel that is really missing is then reported to the unit by the first refused card."""
    try:
        _call(web.auth_test)
        visible = _visible_channels(web)
    except _Throttled:
        log.warning("Slack throttled the start-up check of the token and channels; skipped")
        return
    problems = missing_channels(visible, configured_channels(config))
    if problems:
        raise ConfigError("; ".join(problems), file=config.rules.file,
                          hint="create the channel or fix its name in the rules file, and "
                               "invite the bot with /invite @borgerbot")


def missing_channels(visible: dict[str, bool], wanted: Iterable[str]) -> list[str]:
    """One English line with its Danish twin per channel that is missing or lacks the bot."""
    problems = []
    for channel in wanted:
        member = visible.get(channel.lstrip("#").lower())
        if member is None:
            problems.append(f"Slack channel {channel} does not exist or is private without the "
                            f"bot / {texts.channel_missing(channel)}")
        elif not member:
            problems.append(f"the bot is not a member of Slack channel {channel} / "
                            f"{texts.bot_not_in_channel(channel)}")
    return problems


def _visible_channels(web: WebClient) -> dict[str, bool]:
    """Channel name → whether the bot is a member, over every page of conversations.list."""
    found: dict[str, bool] = {}
    cursor = None
    while True:
        page = _call(web.conversations_list, types="public_channel,private_channel",
                     exclude_archived=True, limit=1000, cursor=cursor)
        for channel in page.get("channels") or []:
            found[str(channel["name"]).lower()] = bool(channel.get("is_member"))
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            return found


def _call(method: Any, **arguments: Any) -> dict[str, Any]:
    try:
        response = method(**arguments)
    except SlackApiError as exc:
        code = str(exc.response.get("error", "unknown"))
        if code == "ratelimited":
            raise _Throttled() from None
        if code in REFUSED_TOKEN:
            raise ConfigError(f"Slack refused BORGERBOT_SLACK_BOT_TOKEN ({code})",
                              key="BORGERBOT_SLACK_BOT_TOKEN",
                              hint="copy the Bot User OAuth Token (xoxb-...) again from the "
                                   "Slack app's OAuth & Permissions page") from None
        raise ChatError(f"Slack answered {code} at start") from None
    except (SlackClientError, OSError) as exc:
        raise ChatError(f"cannot reach Slack at BORGERBOT_SLACK_API_URL ({type(exc).__name__}); "
                        "check the network or proxy") from None
    return dict(response.data) if isinstance(response.data, dict) else {}


class _Throttled(Exception):
    """Slack answered 429 during the start-up check."""
