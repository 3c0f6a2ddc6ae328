"""Runtime settings, read from `BORGERBOT_*` environment variables and an optional `.env`.

Secrets are `SecretStr` so they never show up in a repr, a log line or an error message,
and they are only ever read from the environment: the YAML files hold no tokens.
"""

from __future__ import annotations

import os
import secrets
import socket
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class SettingsError(Exception):
    """Settings failed validation; the message lists every wrong variable in plain English."""


def default_replica_id() -> str:
    """Unique per process even when two replicas share a host name (containers, restarts)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


class Settings(BaseSettings):
    """Everything an installation configures outside the rules file."""

    model_config = SettingsConfigDict(
        env_prefix="BORGERBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = Field(
        default="sqlite:///borgerbot.db",
        description="SQLAlchemy URL; sqlite:///file.db or postgresql+psycopg://user@host/db",
    )
    rules_file: Path = Field(default=Path("routing_rules.yaml"))
    log_level: str = "INFO"

    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_mode: str = Field(default="socket", description="socket or http")
    http_port: int = Field(default=3000, ge=1, le=65535)

    facebook_api_url: str = "https://graph.facebook.com/v25.0/"
    instagram_api_url: str = "https://graph.instagram.com/v25.0/"
    linkedin_api_url: str = "https://api.linkedin.com/"
    x_api_url: str = "https://api.x.com/2/"
    x_client_id: str = Field(default="", description="OAuth 2.0 Client ID of the X app; with "
                             "an account's refresh_token_env, X tokens renew themselves")
    x_client_secret: SecretStr | None = Field(default=None, description="set for a "
                                              "confidential X client, empty for a public one")

    poll_interval_seconds: float = Field(default=60.0, gt=0)
    sweep_interval_seconds: float = Field(
        default=15.0, gt=0,
        description="new cards reach chat and reminders go out within about this time",
    )
    http_timeout_seconds: float = Field(default=10.0, gt=0)
    takeover_seconds: float = Field(
        default=30.0, ge=2,
        description="when a replica dies, the other has taken over its jobs within this time",
    )
    replica_id: str = Field(
        default_factory=default_replica_id, min_length=1, max_length=100,
        description="names this process in the lease rows; unique per running replica",
    )
    # -- bounds of one poll, whatever a platform returns (issue 13, intake) ----------------
    max_pages_per_poll: int = Field(
        default=200, ge=1, description="pages one poll of one account follows before it stops",
    )
    max_items_per_poll: int = Field(
        default=5000, ge=1, description="items one poll of one account reads before it stops",
    )
    max_response_bytes: int = Field(
        default=16 * 1024 * 1024, ge=64 * 1024,
        description="a platform answer larger than this is dropped unread",
    )

    front_end: str = Field(
        default="handlers.app:build_app",
        description="module:attribute of the chat front end, resolved at start",
    )

    @field_validator("slack_bot_token", "slack_app_token", "slack_signing_secret", mode="before")
    @classmethod
    def _clean_secret(cls, value: object) -> object:
        """Surrounding spaces and line breaks are dropped (a secret pasted with a trailing
        newline made every Slack request fail its signature check); an empty value is unset;
        whitespace inside a secret is refused, naming the variable."""
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if not isinstance(value, str):
            return value
        value = value.strip()
        if any(ch.isspace() for ch in value):
            raise ValueError("contains spaces or line breaks inside the secret; paste it again as one line")
        return value or None

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql")):
            raise ValueError("use sqlite:///path.db or postgresql+psycopg://user@host/db")
        return value

    @field_validator("slack_mode")
    @classmethod
    def _known_mode(cls, value: str) -> str:
        if value not in ("socket", "http"):
            raise ValueError("must be 'socket' (Socket Mode) or 'http' (Events API over HTTP)")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        upper = value.upper()
        if upper not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return upper


def load_settings(**overrides: object) -> Settings:
    """Read and validate settings, turning pydantic's report into one line per wrong variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            name = "BORGERBOT_" + "_".join(str(part) for part in error["loc"]).upper()
            lines.append(f"{name}: {error['msg']}")
        raise SettingsError("invalid settings:\n  " + "\n  ".join(lines)) from None
