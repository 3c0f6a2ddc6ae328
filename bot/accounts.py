"""The social accounts to watch, from the `accounts` section of the rules file.

The YAML names the environment variable that holds each token; the token itself is read
from the environment or from `.env`, exactly like every `BORGERBOT_*` setting (the process
environment wins), so no secret is ever written into the rules file.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

from bot.errors import ConfigError
from bot.platforms import PLATFORMS
from bot.platforms.base import PlatformClient
from bot.settings import Settings

KNOWN_KEYS = ("platform", "account", "name", "token_env", "poll_interval")
LineOf = Callable[[tuple[str, ...]], int | None]


@dataclass(frozen=True)
class AccountConfig:
    """One account on one platform, polled every `poll_interval` seconds."""

    platform: str
    account: str
    name: str
    token_env: str
    poll_interval: float | None = None


def accounts_from_config(data: Any, line_of: LineOf | None = None, file: str | None = None) -> list[AccountConfig]:
    """Validate the `accounts` list; each mistake names its file, line and key."""
    if data is None:
        return []

    def fail(path: tuple[str, ...], problem: str, hint: str | None = None) -> ConfigError:
        line = line_of(("accounts", *path)) if line_of else None
        return ConfigError(problem, file=file, line=line, key=".".join(("accounts", *path)), hint=hint)

    if not isinstance(data, list):
        raise fail((), "accounts must be a list of accounts", "start each with '- platform: ...'")
    found: list[AccountConfig] = []
    seen: set[tuple[str, str]] = set()
    for index, entry in enumerate(data):
        at = str(index)
        if not isinstance(entry, Mapping):
            raise fail((at,), "each account must be a mapping with platform, account and token_env")
        unknown = sorted(set(entry) - set(KNOWN_KEYS))
        if unknown:
            raise fail((at, unknown[0]), f"unknown key '{unknown[0]}'", "known: " + ", ".join(KNOWN_KEYS))
        for required in ("platform", "account", "token_env"):
            if not str(entry.get(required) or "").strip():
                raise fail((at,), f"account {index + 1} has no {required}")
        platform = str(entry["platform"])
        if platform not in PLATFORMS:
            raise fail((at, "platform"), f"unknown platform '{platform}'", "known: " + ", ".join(PLATFORMS))
        interval = entry.get("poll_interval")
        if interval is not None and (not isinstance(interval, (int, float)) or interval <= 0):
            raise fail((at, "poll_interval"), "poll_interval must be a positive number of seconds")
        key = (platform, str(entry["account"]))
        if key in seen:
            raise fail((at, "account"), f"account {key[1]} on {platform} is listed twice")
        seen.add(key)
        found.append(AccountConfig(
            platform=platform,
            account=str(entry["account"]),
            name=str(entry.get("name") or entry["account"]),
            token_env=str(entry["token_env"]),
            poll_interval=float(interval) if interval is not None else None,
        ))
    return found


def base_url_for(settings: Settings, platform: str) -> str:
    return str(getattr(settings, f"{platform}_api_url"))


def token_environment(env_file: str | Path | None = None) -> dict[str, str]:
    """Where tokens are looked up: `.env` (the settings' own file) under the process
    environment, the same precedence pydantic-settings gives every `BORGERBOT_*` variable."""
    path = Path(env_file if env_file is not None else str(Settings.model_config.get("env_file")))
    from_file = dotenv_values(path) if path.is_file() else {}
    return {**{k: v for k, v in from_file.items() if v is not None}, **os.environ}


def clean_secret(name: str, value: str) -> str:
    """A token as pasted: surrounding spaces and newlines dropped (a copied token often ends
    with one, and the platform then refuses it for ever); whitespace inside is refused."""
    token = value.strip()
    if any(ch.isspace() for ch in token):
        raise ConfigError(f"{name} contains spaces or line breaks inside the token",
                          key=name, hint="paste the token again as one line")
    return token


def build_clients(
    accounts: Sequence[AccountConfig],
    settings: Settings,
    environ: Mapping[str, str] | None = None,
) -> dict[tuple[str, str], PlatformClient]:
    """One client per account; a missing token is a configuration error naming the variable."""
    if environ is None:
        environ = token_environment()
    clients: dict[tuple[str, str], PlatformClient] = {}
    for account in accounts:
        token = clean_secret(account.token_env, environ.get(account.token_env, ""))
        if not token:
            raise ConfigError(
                f"the token for {account.platform} account {account.account} is missing",
                hint=f"set {account.token_env} in the environment or in .env",
            )
        client_class = PLATFORMS[account.platform]
        clients[(account.platform, account.account)] = client_class(
            account.account, token, base_url_for(settings, account.platform),
            timeout=settings.http_timeout_seconds,
        )
    return clients
