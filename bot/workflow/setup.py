"""The communication unit's chat set-up, read from the `chat` section of the rules file."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot import texts
from bot.errors import ConfigError

KNOWN_KEYS = (
    "comms_channel",
    "approval_channel",
    "officers",
    "officer_group",
    "greeting",
    "signoff",
    "crisis_plan_url",
    "oncall_contact",
)


@dataclass(frozen=True)
class ChatSetup:
    """Where the communication unit works in chat and who belongs to it."""

    comms_channel: str = "#borgerbot-kommunikation"
    approval_channel: str = "#borgerbot-godkendelse"
    officers: frozenset[str] = frozenset()
    officer_group: str | None = None
    greeting: str = "Hej {navn}"
    signoff: str = "Venlig hilsen {fornavn}, Albertslund Kommune"
    crisis_plan_url: str | None = None
    oncall_contact: str | None = None


def setup_from_config(
    data: Mapping[str, Any],
    line_of: Callable[[tuple[str, ...]], int | None] | None = None,
    file: str | None = None,
) -> ChatSetup:
    """Validate the `chat` section; every mistake names the file, line and key."""

    def fail(key: str, problem: str, hint: str | None = None) -> ConfigError:
        line = line_of(("chat", key)) if line_of else None
        return ConfigError(problem, file=file, line=line, key=f"chat.{key}", hint=hint)

    unknown = sorted(set(data) - set(KNOWN_KEYS))
    if unknown:
        raise fail(unknown[0], f"unknown key 'chat.{unknown[0]}'", "known: " + ", ".join(KNOWN_KEYS))
    values: dict[str, Any] = {}
    for key in KNOWN_KEYS:
        if key not in data:
            continue
        value = data[key]
        if key == "officers":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise fail(key, "chat.officers must be a list of Slack user ids", "e.g. [U012ABC]")
            values[key] = frozenset(value)
        elif not isinstance(value, str) or not value.strip():
            raise fail(key, f"chat.{key} must be a non-empty text")
        else:
            values[key] = value.strip()
    return ChatSetup(**values)


def require_approvers(
    setup: ChatSetup,
    line_of: Callable[[tuple[str, ...]], int | None] | None = None,
    file: str | None = None,
) -> None:
    """Refuse a set-up in which no click can ever approve a reply: every inquiry would wait
    for ever. Checked apart from `setup_from_config`, after the rest of the file, so the other
    sections' mistakes are reported first."""
    if setup.officers or setup.officer_group:
        return
    line = None
    if line_of:
        line = line_of(("chat", "officers")) or line_of(("chat",))
    raise ConfigError(
        "nobody can approve replies: chat.officers is empty and chat.officer_group is not set",
        file=file, line=line, key="chat.officers",
        hint="list the officers' Slack user ids, e.g. officers: [U012ABC, U034DEF], or set "
             f"officer_group: S0123ABCD (a Slack user group) / {texts.NO_APPROVERS}",
    )
