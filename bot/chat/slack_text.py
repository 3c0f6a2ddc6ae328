"""A specialist's Slack message as the plain text a citizen should read.

Slack does not hand over what the person typed. A `message` event's `text` is mrkdwn: `&`, `<`
and `>` arrive as `&amp;`, `&lt;`, `&gt;`; links, e-mail addresses and mentions arrive wrapped
(`<https://x|label>`, `<mailto:a@b|a@b>`, `<@U1>`, `<#C1|name>`, `<!here>`, `<!subteam^S1>`);
emoji as `:shortcode:`; bold, italic and strike as `*…*`, `_…_`, `~…~`
(https://docs.slack.dev/messaging/formatting-message-text, "Retrieving messages"). Messages
written in a Slack client also carry a `rich_text` block with the same content as structured
elements whose text is literal (https://docs.slack.dev/reference/block-kit/blocks/rich-text-block),
so that is read first and `text` only when it is missing.

Mentions of people become their display name; a channel, group or broadcast mention, or a person
whose name Slack will not tell, means nothing to a citizen and would leak internal names, so the
draft is refused (`NotForCitizens`) with a Danish note for the specialist instead of guessed at.

Modal inputs (`plain_text_input`) are not mrkdwn and must never pass through here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import emoji

from bot import texts
from bot.errors import BorgerbotError

NameOf = Callable[[str], "str | None"]
"""A Slack user id → the name colleagues see (users.info), or None when Slack cannot tell."""

SKIN_TONES = {2: "\U0001f3fb", 3: "\U0001f3fc", 4: "\U0001f3fd", 5: "\U0001f3fe", 6: "\U0001f3ff"}
BROADCASTS = ("here", "channel", "everyone")


class NotForCitizens(BorgerbotError):
    """The message holds something only Slack can show; `note` tells the specialist in Danish."""

    def __init__(self, note: str) -> None:
        self.note = note
        super().__init__("a Slack message holds a mention or emoji a citizen cannot read")


def citizen_text(message: Mapping[str, Any], name_of: NameOf) -> str:
    """The plain text of a Slack message: its `rich_text` blocks when present, else its `text`."""
    blocks = [b for b in message.get("blocks") or [] if isinstance(b, dict) and b.get("type") == "rich_text"]
    if blocks:
        return "\n".join(_block(b, name_of) for b in blocks).strip()
    return from_mrkdwn(str(message.get("text") or ""), name_of).strip()


# --- rich_text ---------------------------------------------------------------------------------

def _block(block: Mapping[str, Any], name_of: NameOf) -> str:
    parts: list[str] = []
    for element in block.get("elements") or []:
        piece = _container(element, name_of)
        if parts and not parts[-1].endswith("\n"):
            parts.append("\n")
        parts.append(piece)
    return "".join(parts)


def _container(element: Mapping[str, Any], name_of: NameOf) -> str:
    """A section, preformatted text or quote is its inline elements; a list is one line per item."""
    kind = element.get("type")
    if kind == "rich_text_list":
        ordered = element.get("style") == "ordered"
        indent = "  " * int(element.get("indent") or 0)
        lines = [f"{indent}{f'{n}.' if ordered else '•'} {_inline(item.get('elements') or [], name_of).strip()}"
                 for n, item in enumerate(element.get("elements") or [], start=int(element.get("offset") or 0) + 1)]
        return "\n".join(lines) + "\n"
    return _inline(element.get("elements") or [], name_of)


def _inline(elements: Iterable[Mapping[str, Any]], name_of: NameOf) -> str:
    return "".join(_element(e, name_of) for e in elements)


def _element(element: Mapping[str, Any], name_of: NameOf) -> str:
    kind = element.get("type")
    if kind == "rich_text_section":  # a quote may hold sections rather than bare elements
        return _inline(element.get("elements") or [], name_of)
    if kind == "text":
        return str(element.get("text") or "")  # literal; its `style` (bold, code…) is dropped
    if kind == "link":
        return _link(str(element.get("url") or ""), element.get("text"))
    if kind == "user":
        return _person(str(element.get("user_id") or ""), name_of)
    if kind == "emoji":
        return _emoji(str(element.get("name") or ""), element.get("unicode"), element.get("skin_tone"))
    if kind == "date" and element.get("fallback"):
        return str(element["fallback"])
    if kind == "channel":
        raise NotForCitizens(texts.draft_has_internal_mention("en kanal"))
    if kind == "usergroup":
        raise NotForCitizens(texts.draft_has_internal_mention("@gruppe"))
    if kind == "broadcast":
        raise NotForCitizens(texts.draft_has_internal_mention("@" + str(element.get("range") or "")))
    raise NotForCitizens(texts.draft_has_internal_mention(str(kind)))


# --- mrkdwn `text` -----------------------------------------------------------------------------

_WRAPPED = re.compile(r"<([^<>]*)>")
_HOLE = re.compile("\ue000(\\d+)\ue001")  # private-use marks: a converted `<…>` waiting to go back
_STYLE = re.compile(r"(?<![\w*_~])([*_~])(?=\S)(.+?)(?<=\S)\1(?![\w*_~])", re.DOTALL)
_EMOJI = re.compile(r":([a-z0-9_+'-]+):(?::skin-tone-([2-6]):)?")


def from_mrkdwn(text: str, name_of: NameOf) -> str:
    """Plain text from Slack's wire markup: `<…>` converted, markers and entities removed."""
    converted: list[str] = []

    def hole(match: re.Match[str]) -> str:
        converted.append(_wrapped(match.group(1), name_of))
        return f"\ue000{len(converted) - 1}\ue001"

    shell = _WRAPPED.sub(hole, text.replace("\ue000", "").replace("\ue001", ""))
    while True:  # `*_fed_*` is bold and italic: peel one layer at a time
        peeled = _STYLE.sub(lambda m: m.group(2), shell)
        if peeled == shell:
            break
        shell = peeled
    shell = _EMOJI.sub(lambda m: _shortcode(m.group(1), m.group(2)), shell)
    shell = _unescape(shell)
    return _HOLE.sub(lambda m: converted[int(m.group(1))], shell)


def _wrapped(inner: str, name_of: NameOf) -> str:
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        return _person(target[1:], name_of)
    if target.startswith("#"):
        raise NotForCitizens(texts.draft_has_internal_mention("#" + (_unescape(label) or target[1:])))
    if target.startswith("!date^") and label:
        return _unescape(label)
    if target.startswith("!"):
        shown = "@gruppe" if target.startswith("!subteam^") else "@" + target[1:]
        raise NotForCitizens(texts.draft_has_internal_mention(shown))
    return _link(_unescape(target), _unescape(label) if label else None)


def _unescape(text: str) -> str:
    """Slack's three entities back to characters, `&amp;` last so `&amp;lt;` stays `&lt;`."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# --- shared ------------------------------------------------------------------------------------

def _link(url: str, label: object) -> str:
    """The URL, or "label (URL)" when the label says something else; mailto as the address."""
    target = url.removeprefix("mailto:")
    shown = str(label or "").strip()
    if not shown or shown in (url, target):
        return target
    if shown == re.sub(r"^https?://", "", target).rstrip("/"):
        return shown  # Slack's own label for a typed "www.…": what the writer wrote
    return f"{shown} ({target})"


def _person(user: str, name_of: NameOf) -> str:
    name = name_of(user) if user else None
    if not name:
        raise NotForCitizens(texts.draft_has_unknown_person())
    return name


def _emoji(name: str, unicode: object, skin_tone: object) -> str:
    """An emoji element: its `unicode` code points when Slack gives them (custom emoji have none)."""
    if isinstance(unicode, str) and unicode:
        try:
            return "".join(chr(int(point, 16)) for point in unicode.split("-"))
        except ValueError:
            pass
    tone = str(skin_tone) if isinstance(skin_tone, int) else None
    return _shortcode(name, tone, strict=True)


def _shortcode(name: str, tone: str | None, *, strict: bool = False) -> str:
    """`:name:` as Unicode through the `emoji` package's aliases (GitHub/Slack names); an
    unknown name in `text` may be ordinary text ("kl. 10:30:00") and stays, in rich_text it is a
    workspace's custom emoji, which a citizen cannot see."""
    shown = emoji.emojize(f":{name}:", language="alias")
    if shown == f":{name}:":
        shown = emoji.emojize(f":{name.replace('-', '_')}:", language="alias")
    if shown.startswith(":"):
        if strict:
            raise NotForCitizens(texts.draft_has_custom_emoji(name))
        return f":{name}:" + (f":skin-tone-{tone}:" if tone else "")
    return shown + (SKIN_TONES.get(int(tone), "") if tone else "")
