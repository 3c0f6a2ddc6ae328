"""The one registry of platforms: name -> client class, with no special cases outside it."""

from __future__ import annotations

from bot.platforms.facebook import FacebookClient
from bot.platforms.instagram import InstagramClient
from bot.platforms.linkedin import LinkedInClient
from bot.platforms.x import XClient

PLATFORMS: dict[str, type] = {
    "facebook": FacebookClient,
    "instagram": InstagramClient,
    "linkedin": LinkedInClient,
    "x": XClient,
}
