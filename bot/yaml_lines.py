"""YAML to plain data plus the line of every key, and duplicate keys refused.

PyYAML's `safe_load` forgets where things were and silently keeps the last of two equal
keys; a communication officer who pasted a route twice deserves to hear about it. Composing
nodes keeps their marks, so every later check can name the line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.errors import ConfigError

KeyPath = tuple[str, ...]
"""Keys from the top of the file; list items by their index as text, e.g. ("routes", "affald")."""


@dataclass(frozen=True)
class Document:
    file: str
    data: Any
    lines: dict[KeyPath, int]

    def line(self, path: KeyPath) -> int | None:
        """The line of `path`, else of its nearest ancestor that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())


def compose_document(text: str, file: str) -> Document:
    """Parse YAML text; bad syntax and duplicate keys become a ConfigError at their line."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"not valid YAML: {problem}", file=file,
                          line=mark.line + 1 if mark else None) from None
    lines: dict[KeyPath, int] = {}
    if node is None:
        return Document(file, None, lines)
    lines[()] = node.start_mark.line + 1
    return Document(file, _plain(node, (), lines, file), lines)


_SCALARS = SafeConstructor()


def _plain(node: Node, path: KeyPath, lines: dict[KeyPath, int], file: str) -> Any:
    if isinstance(node, MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _plain(key_node, path, lines, file)
            child = (*path, str(key))
            if key in result:
                what = "route" if path == ("routes",) else "key"
                raise ConfigError(f"duplicate {what} {key!r}", file=file,
                                  line=key_node.start_mark.line + 1,
                                  hint=f"first at line {lines[child]}")
            lines[child] = key_node.start_mark.line + 1
            result[key] = _plain(value_node, child, lines, file)
        return result
    if isinstance(node, SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            lines[(*path, str(index))] = item.start_mark.line + 1
            items.append(_plain(item, (*path, str(index)), lines, file))
        return items
    assert isinstance(node, ScalarNode)
    try:
        return _SCALARS.construct_object(node, deep=True)
    except yaml.YAMLError as exc:
        raise ConfigError(f"not a valid value: {exc}", file=file,
                          line=node.start_mark.line + 1) from None
