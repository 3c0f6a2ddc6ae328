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
from bot.models import utcnow
from bot.platforms import PLATFORMS
from bot.platforms.base import PlatformClient
from bot.platforms.http import Limits
from bot.platforms.x_auth import XApp
from bot.settings import Settings
from bot.store import Store
from bot.tokens import StoredRefreshToken

KNOWN_KEYS = ("platform", "account", "name", "token_env", "poll_interval", "refresh_token_env")
LineOf = Callable[[tuple[str, ...]], int | None]


@dataclass(frozen=True)
class AccountConfig:
    """One account on one platform, polled every `poll_interval` seconds."""

    platform: str
    account: str
    name: str
    token_env: str
    poll_interval: float | None = None
    refresh_token_env: str = ""  # X: the variable holding the first OAuth 2.0 refresh token


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
            refresh_token_env=str(entry.get("refresh_token_env") or ""),
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
    store: Store | None = None,
) -> dict[tuple[str, str], PlatformClient]:
    """One client per account; a missing token is a configuration error naming the variable."""
    if environ is None:
        environ = token_environment()
    clients: dict[tuple[str, str], PlatformClient] = {}
    for account in accounts:
        token = clean_secret(account.token_env, environ.get(account.token_env, ""))
        extra = _x_oauth(account, settings, environ, store)
        if not token and not extra:
            raise ConfigError(
                f"the token for {account.platform} account {account.account} is missing",
                hint=f"set {account.token_env} in the environment or in .env",
            )
        client_class = PLATFORMS[account.platform]
        clients[(account.platform, account.account)] = client_class(
            account.account, token, base_url_for(settings, account.platform),
            timeout=settings.http_timeout_seconds,
            limits=Limits(settings.max_pages_per_poll, settings.max_items_per_poll,
                          settings.max_response_bytes),
            **extra,
        )
    return clients


def _x_oauth(account: AccountConfig, settings: Settings, environ: Mapping[str, str],
             store: Store | None) -> dict[str, Any]:
    """The refresh machinery of an X account with an OAuth 2.0 refresh token, else nothing.

    The access token then may be left empty: the first call fetches one.
    """
    if not account.refresh_token_env:
        return {}
    refresh = clean_secret(account.refresh_token_env, environ.get(account.refresh_token_env, ""))
    if account.platform != "x" or not refresh or not settings.x_client_id or store is None:
        raise ConfigError(
            f"{account.platform} account {account.account} cannot renew its token",
            hint=f"refresh_token_env is for X accounts; set {account.refresh_token_env} and "
                 "BORGERBOT_X_CLIENT_ID (and BORGERBOT_X_CLIENT_SECRET for a confidential app)",
        )
    secret = settings.x_client_secret.get_secret_value() if settings.x_client_secret else ""
    vault = StoredRefreshToken(store, account.platform, account.account, refresh, clock=utcnow)
    return {"oauth": (XApp(settings.x_client_id, secret), vault)}
