"""Graph's `fields=` mini-language and cursor paging, as the emulator understands them.

`comments.filter(stream).limit(50){id,from{name}}` becomes a `FieldSpec` tree; `page()`
cuts an ordered list the way Graph does: opaque cursors that name the last item seen, so a
cursor whose item was deleted stops working (as on the real API).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")

_MODIFIER = re.compile(r"\.(\w+)\(([^()]*)\)")


class FieldSyntaxError(ValueError):
    """The `fields` parameter does not parse; Graph answers this with code 100."""


@dataclass(frozen=True)
class FieldSpec:
    name: str
    modifiers: dict[str, str] = field(default_factory=dict)
    subfields: tuple[FieldSpec, ...] | None = None


def parse_fields(text: str) -> tuple[FieldSpec, ...]:
    return tuple(_parse_one(piece) for piece in _split_top_level(text) if piece.strip())


def _split_top_level(text: str) -> list[str]:
    pieces: list[str] = []
    depth, start = 0, 0
    for index, char in enumerate(text):
        if char in "{(":
            depth += 1
        elif char in "})":
            depth -= 1
            if depth < 0:
                raise FieldSyntaxError(f"unbalanced {char!r} in fields")
        elif char == "," and depth == 0:
            pieces.append(text[start:index])
            start = index + 1
    if depth:
        raise FieldSyntaxError("unbalanced brackets in fields")
    pieces.append(text[start:])
    return pieces


def _parse_one(piece: str) -> FieldSpec:
    piece = piece.strip()
    subfields = None
    if "{" in piece:
        if not piece.endswith("}"):
            raise FieldSyntaxError(f"bad field {piece!r}")
        brace = piece.index("{")
        subfields = parse_fields(piece[brace + 1 : -1])
        piece = piece[:brace]
    name, _, rest = piece.partition(".")
    if not re.fullmatch(r"\w+", name):
        raise FieldSyntaxError(f"bad field name {name!r}")
    rest = "." + rest if rest else ""
    modifiers = dict(_MODIFIER.findall(rest))
    if _MODIFIER.sub("", rest):
        raise FieldSyntaxError(f"bad modifiers on {name!r}")
    return FieldSpec(name, modifiers, subfields)


def unparse(specs: Sequence[FieldSpec]) -> str:
    """Back to text, for the `fields` of a `paging.next` URL."""
    parts = []
    for spec in specs:
        text = spec.name + "".join(f".{k}({v})" for k, v in spec.modifiers.items())
        if spec.subfields is not None:
            text += "{" + unparse(spec.subfields) + "}"
        parts.append(text)
    return ",".join(parts)


def encode_cursor(item_id: str) -> str:
    return base64.urlsafe_b64encode(item_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    padded = cursor + "=" * (-len(cursor) % 4)
    try:
        return base64.urlsafe_b64decode(padded.encode()).decode()
    except ValueError as exc:
        raise KeyError(cursor) from exc


@dataclass(frozen=True)
class Page:
    items: list[str]
    before: str | None
    after: str | None
    has_more: bool


def page(ids: Sequence[str], limit: int, after: str | None) -> Page:
    """One page of `ids` (already ordered) after the cursor; KeyError if its item is gone."""
    start = 0
    if after:
        wanted = decode_cursor(after)
        if wanted not in ids:
            raise KeyError(after)
        start = list(ids).index(wanted) + 1
    chunk = list(ids[start : start + limit])
    return Page(
        items=chunk,
        before=encode_cursor(chunk[0]) if chunk else None,
        after=encode_cursor(chunk[-1]) if chunk else after,
        has_more=start + limit < len(ids),
    )
