"""Scripted citizens: turn an inquiry record (routing-dev.jsonl format) into a platform item.

Each platform gets the item the way a real citizen would create it: a comment under a post
of ours, a reply in a comment thread, a private message, or a mention.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.sandbox.graph import GraphEmulator
from bot.sandbox.linkedin import LinkedInEmulator
from bot.sandbox.x import XEmulator

DEFAULT_POST = "Følg med i, hvad der sker i kommunen."
FIRST_NAMES = ("Anna", "Mads", "Sofie", "Jens", "Ida", "Lars", "Freja", "Mikkel", "Emma", "Søren",
               "Laura", "Peter", "Clara", "Henrik", "Maja", "Ole", "Alberte", "Niels", "Karen", "Emil",
               "Asta", "Bo", "Ella", "Frederik", "Lærke", "Kasper", "Nanna", "Rasmus", "Signe", "Troels")
LAST_NAMES = ("Jensen", "Nielsen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen",
              "Sørensen", "Rasmussen", "Jørgensen")


def citizen_name(number: int) -> str:
    """A made-up full name, as the platforms give one; different citizens, different names."""
    return f"{FIRST_NAMES[number % len(FIRST_NAMES)]} {LAST_NAMES[number // len(FIRST_NAMES) % len(LAST_NAMES)]}"


@dataclass
class Citizens:
    """Writes as citizens into the platform emulators and remembers our own posts by text."""

    graph: GraphEmulator
    linkedin: LinkedInEmulator
    x: XEmulator

    def __post_init__(self) -> None:
        self._numbers = itertools.count(1)
        self._posts: dict[tuple[str, str], str] = {}

    def write(self, record: Mapping[str, Any]) -> tuple[str, str]:
        """Create the item; returns (platform, external id) as the connector will report it."""
        platform = str(record.get("platform") or "facebook")
        kind = str(record.get("kind") or "comment")
        text = str(record.get("text") or "")
        post_text = str(record.get("post_text") or DEFAULT_POST)
        number = next(self._numbers)
        author_id, author_name = f"{9_000_000 + number}", citizen_name(number)
        if platform == "x":
            return "x", self._on_x(kind, text, post_text, number)
        if platform == "linkedin":
            post = self._post("linkedin", post_text)
            return "linkedin", self.linkedin.add_comment(post, text, author=f"urn:li:person:p{number}")
        if kind == "message":
            channel = "instagram" if platform == "instagram" else "messenger"
            return platform, self.graph.send_message(author_id, text, author_name=author_name, platform=channel)
        post = self._post(platform, post_text)
        if kind == "reply":
            first = self.graph.add_comment(post, "Godt spørgsmål", author_id=f"{8_000_000 + number}",
                                           author_name=f"Nabo {number}")
            return platform, self.graph.add_comment(first, text, author_id=author_id, author_name=author_name)
        return platform, self.graph.add_comment(post, text, author_id=author_id, author_name=author_name)

    def _on_x(self, kind: str, text: str, post_text: str, number: int) -> str:
        user = self.x.add_user(f"borger{number}", citizen_name(number))
        if kind == "message":
            return self.x.send_dm(user, text)
        if kind in ("comment", "reply"):
            return self.x.post(text, author=user, reply_to=self._post("x", post_text))
        return self.x.post(f"@{self.x.username} {text}", author=user)

    def _post(self, platform: str, text: str) -> str:
        """Our own post the comment is written under, created once per text."""
        key = (platform, text)
        if key not in self._posts:
            if platform == "instagram":
                self._posts[key] = self.graph.add_media(text)
            elif platform == "linkedin":
                self._posts[key] = self.linkedin.add_post(text)
            elif platform == "x":
                self._posts[key] = self.x.post(text)
            else:
                self._posts[key] = self.graph.add_post(text)
        return self._posts[key]
