"""Refresh tokens kept in the database, so a rotated one survives a restart.

X refresh tokens work once (`bot.platforms.x_auth`): the one in `.env` is spent at the first
refresh, and from then on only the database holds a token that works. A refresh token the
operator configures later (after renewing the app's access) is recognised by its hash and
replaces the stored one. Tokens are never logged.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime

from bot.models import PlatformToken
from bot.store import Store


class StoredRefreshToken:
    """The `TokenVault` of one account: the database row, seeded from the configuration."""

    def __init__(self, store: Store, platform: str, account: str, configured: str,
                 clock: Callable[[], datetime]) -> None:
        self._store, self._key = store, (platform, account)
        self._configured = configured
        self._seed = hashlib.sha256(configured.encode()).hexdigest()
        self._clock = clock

    def load(self) -> str:
        with self._store.session() as session:
            row = session.get(PlatformToken, self._key)
            if row is None or row.seed != self._seed:
                return self._configured
            return row.refresh_token

    def save(self, refresh_token: str) -> None:
        with self._store.session() as session:
            row = session.get(PlatformToken, self._key) or PlatformToken(
                platform=self._key[0], account=self._key[1], refresh_token="", seed=self._seed)
            row.refresh_token, row.seed, row.updated_at = refresh_token, self._seed, self._clock()
            session.add(row)
