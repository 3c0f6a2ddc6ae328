"""What a Slack client makes of what a person types: the message `text` in Slack's wire markup
and the `rich_text` block the client sends with it.

Slack never stores a typed message as typed. In `text`, `&`, `<`, `>` become `&amp;`, `&lt;`,
`&gt;`; links, e-mail addresses and mentions are wrapped (`<https://x>`, `<https://x|label>`,
`<mailto:a@b|a@b>`, `<@U1>`, `<#C1|name>`, `<!here>`, `<!subteam^S1>`); emoji are
`:shortcode:`; bold/italic/strike are `*…*`, `_…_`, `~…~`
(https://docs.slack.dev/messaging/formatting-message-text, "Retrieving messages";
chat-platforms.md §3 "Incoming message text is mrkdwn"). Alongside, the client sends `blocks`
with one `rich_text` block whose elements (`text` with `style`, `link`, `user`, `channel`,
`usergroup`, `broadcast`, `emoji` with `unicode`) hold the same content literally
(https://docs.slack.dev/reference/block-kit/blocks/rich-text-block).

What the fake person "types", in the composer's own conventions (the Slack client offers the
same through its toolbar, autocomplete and "Format messages with markup" preference):
`https://…` or `www.…` links, `[label](https://…)` labelled links, e-mail addresses,
`@U…`/`@W…` for a person in the workspace, `@S…` for a user group, `@here`, `@channel`,
`@everyone`, `#name` for an existing channel, `:shortcode:` emoji, and `*bold*`, `_italic_`,
`~strike~`. Anything else is literal text.
"""

from __future__ import annotations

import re
from collections.abc import Container, Mapping
from typing import Any

import emoji

_TOKENS = re.compile(
    r"\[(?P<label>[^\]\n]+)\]\((?P<target>https?://[^\s)]+)\)"
    r"|(?P<url>(?:https?://|www\.)[^\s<>]*[^\s<>.,;:!?)\]])"
    r"|(?P<mail>[\w.+-]+@[\w-]+(?:\.[\w-]+)+)"
    r"|@(?P<at>[UWS][A-Z0-9]+|here|channel|everyone)\b"
    r"|(?<![\w&])#(?P<channel>[a-z0-9][a-z0-9_-]*)"
    r"|:(?P<emoji>[a-z0-9_+-]+):(?::skin-tone-(?P<tone>[2-6]):)?"
    r"|(?<![\w*_~])(?P<mark>[*_~])(?P<styled>\S(?:[^\n]*?\S)?)(?P=mark)(?![\w*_~])"
)
_STYLES = {"*": ("bold", "*"), "_": ("italic", "_"), "~": ("strike", "~")}


def escape(text: str) -> str:
    """Slack's three control characters as entities, `&` first (formatting docs, "Escaping text")."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class Composer:
    """Turns typed text into (`text`, `blocks`) for one workspace's users, groups and channels."""

    def __init__(self, users: Container[str], groups: Container[str],
                 channels: Mapping[str, str]) -> None:
        self._users, self._groups, self._channels = users, groups, channels  # channels: name -> id

    def compose(self, typed: str, block_id: str) -> tuple[str, list[dict[str, Any]]]:
        wire: list[str] = []
        elements: list[dict[str, Any]] = []
        at = 0
        for match in _TOKENS.finditer(typed):
            piece = self._token(match)
            if piece is None:
                continue
            _literal(typed[at:match.start()], wire, elements)
            wire.append(piece[0])
            elements.append(piece[1])
            at = match.end()
        _literal(typed[at:], wire, elements)
        section = {"type": "rich_text_section", "elements": elements}
        return "".join(wire), [{"type": "rich_text", "block_id": block_id, "elements": [section]}]

    def _token(self, m: re.Match[str]) -> tuple[str, dict[str, Any]] | None:
        """One wrapped piece: its wire form and its rich_text element, or None to stay literal.
        `&` inside a URL is escaped in `text` too: Slack escapes the whole text, then wraps."""
        if m["target"]:
            return (f"<{escape(m['target'])}|{escape(m['label'])}>",
                    {"type": "link", "url": m["target"], "text": m["label"]})
        if m["url"]:
            url = m["url"] if "://" in m["url"] else f"http://{m['url']}"
            shown = "" if url == m["url"] else f"|{escape(m['url'])}"
            return f"<{escape(url)}{shown}>", {"type": "link", "url": url} | ({"text": m["url"]} if shown else {})
        if m["mail"]:
            return (f"<mailto:{m['mail']}|{m['mail']}>",
                    {"type": "link", "url": f"mailto:{m['mail']}", "text": m["mail"]})
        if m["at"]:
            return self._mention(m["at"])
        if m["channel"]:
            found = self._channels.get(m["channel"])
            if found is None:
                return None
            return f"<#{found}|{m['channel']}>", {"type": "channel", "channel_id": found}
        if m["emoji"]:
            return _emoji(m["emoji"], m["tone"])
        style, mark = _STYLES[m["mark"]]
        return (f"{mark}{escape(m['styled'])}{mark}",
                {"type": "text", "text": m["styled"], "style": {style: True}})

    def _mention(self, who: str) -> tuple[str, dict[str, Any]] | None:
        if who in ("here", "channel", "everyone"):
            return f"<!{who}>", {"type": "broadcast", "range": who}
        if who.startswith("S"):
            if who not in self._groups:
                return None
            return f"<!subteam^{who}>", {"type": "usergroup", "usergroup_id": who}
        if who not in self._users:
            return None
        return f"<@{who}>", {"type": "user", "user_id": who}


def _literal(text: str, wire: list[str], elements: list[dict[str, Any]]) -> None:
    if text:
        wire.append(escape(text))
        elements.append({"type": "text", "text": text})


def _emoji(name: str, tone: str | None) -> tuple[str, dict[str, Any]]:
    """An emoji element carries lowercase hex code points in `unicode`; custom ones have none."""
    element: dict[str, Any] = {"type": "emoji", "name": name}
    shown = emoji.emojize(f":{name}:", language="alias")
    if not shown.startswith(":"):
        points = [f"{ord(c):x}" for c in shown]
        if tone:
            points.append(f"{0x1F3FB + int(tone) - 2:x}")
            element["skin_tone"] = int(tone)
        element["unicode"] = "-".join(points)
    return f":{name}:" + (f":skin-tone-{tone}:" if tone else ""), element
