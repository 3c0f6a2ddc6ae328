"""Load routing_rules.yaml into frozen objects; every mistake is a ConfigError at its line.

The file is edited by a communication officer in a text editor, so the vocabulary is closed:
an unknown key, flag or route, a bad regular expression or a missing fallback is reported
with the file, the line and the words that would have been understood. The YAML is composed
into nodes first (`bot.yaml_lines`) so line numbers survive into validation.

Sections other parts own (deadlines, accounts, chat, reminders, business_hours) are allowed
at the top level and handed over as plain data with `RuleSet.section(name)` and
`RuleSet.line_of(path)`; this module does not look inside them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from bot.danish import MIN_COMPOUND_LENGTH, fold_pattern, normalise
from bot.errors import ConfigError
from bot.patterns import Pattern, compile_checked
from bot.yaml_lines import Document, KeyPath, compose_document

EXTENSION_SECTIONS = ("deadlines", "accounts", "chat", "reminders", "business_hours", "retention")
"""Top-level sections owned by other parts; add a name here to allow a new one."""
TOP_KEYS = ("fallback", "post_weight", "routes", "flags", *EXTENSION_SECTIONS)
ROUTE_KEYS = ("name", "channel", "group", "rules", "exclude", "exclude_regex")
FLAG_KEYS = ("name", "rules", "exclude", "exclude_regex", "min_score")
RULE_KEYS = ("weight", "keywords", "words", "phrases", "regex", "kinds", "no_words")
FLAGS = ("urgent", "no_reply_needed", "journal_required", "sensitive")
KINDS = ("comment", "reply", "message", "mention", "post")

LineOf = Callable[[KeyPath], "int | None"]


@dataclass(frozen=True)
class Rule:
    """Terms that count `weight` points towards their route or flag when found."""

    weight: float
    keywords: tuple[str, ...]
    words: tuple[str, ...]
    phrases: tuple[str, ...]
    regex: tuple[Pattern, ...]
    kinds: frozenset[str]
    """Only for these kinds of inquiry; empty means every kind."""
    no_words: bool
    """Counts when the text has no words at all (only emojis, tags or punctuation)."""
    line: int


@dataclass(frozen=True)
class Conditions:
    """What speaks for a route or flag (rules) and what rules it out (exclude)."""

    rules: tuple[Rule, ...]
    exclude: tuple[str, ...]
    exclude_regex: tuple[Pattern, ...]


@dataclass(frozen=True)
class Route:
    id: str
    name: str
    channel: str
    group: str | None
    conditions: Conditions
    line: int


@dataclass(frozen=True)
class Flag:
    id: str
    name: str
    conditions: Conditions
    min_score: float
    line: int


@dataclass(frozen=True, eq=False)
class RuleSet:
    """One loaded rules file. Compared by identity, so the compiled matcher can be cached."""

    file: str
    routes: tuple[Route, ...]
    """In file order, which is also the order that breaks ties."""
    flags: tuple[Flag, ...]
    fallback: str
    post_weight: float
    sections: Mapping[str, Any]
    """The extension sections present in the file, as plain YAML data."""
    _lines: Mapping[KeyPath, int]

    @property
    def route_ids(self) -> tuple[str, ...]:
        return tuple(route.id for route in self.routes)

    def route(self, route_id: str) -> Route:
        for route in self.routes:
            if route.id == route_id:
                return route
        raise ConfigError(f"unknown route {route_id!r}", file=self.file,
                          hint=f"known: {', '.join(self.route_ids)}")

    def channel_of(self, route_id: str) -> str:
        return self.route(route_id).channel

    def name_of(self, route_id: str) -> str:
        return self.route(route_id).name

    def group_of(self, route_id: str) -> str | None:
        return self.route(route_id).group

    def route_choices(self) -> tuple[tuple[str, str], ...]:
        """(route id, Danish name) pairs in file order, for a "move to" menu."""
        return tuple((route.id, route.name) for route in self.routes)

    def line_of(self, path: KeyPath) -> int | None:
        """The line of a key path from the top of the file, e.g. ("deadlines", "comment").

        List items are addressed by their index as a string: ("accounts", "0", "page_id").
        """
        return self._lines.get(tuple(str(part) for part in path))

    def section(self, name: str) -> tuple[Any, LineOf]:
        """An extension section's plain data (None when absent) and the line finder."""
        if name not in EXTENSION_SECTIONS:
            raise ValueError(f"{name!r} is not an extension section ({', '.join(EXTENSION_SECTIONS)})")
        return self.sections.get(name), self.line_of


def load_rules(path: str | Path) -> RuleSet:
    """Read and validate a rules file; the name in errors is the path as given."""
    name = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read rules file: {exc.strerror or exc}", file=name) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} cannot be read ({exc.reason})",
            file=name, line=data.count(b"\n", 0, exc.start) + 1,
            hint="save the file as UTF-8, e.g. in the editor's 'Save with encoding' menu",
        ) from None
    return parse_rules(text, name)


def parse_rules(text: str, file: str = "routing_rules.yaml") -> RuleSet:
    """Validate rules given as YAML text; `file` is only used in error messages."""
    return _Validator(compose_document(text, file)).rule_set()


class _Validator:
    """Turns the plain document into a RuleSet, failing at the first wrong key with its line."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc

    def fail(self, path: KeyPath, problem: str, hint: str | None = None) -> ConfigError:
        return ConfigError(problem, file=self.doc.file, line=self.doc.line(path),
                           key=".".join(path) or None, hint=hint)

    def mapping(self, value: Any, path: KeyPath, known: tuple[str, ...]) -> dict[str, Any]:
        what = ".".join(path) or "the rules file"
        if not isinstance(value, dict):
            raise self.fail(path, f"{what} must be a mapping of keys to values")
        for key in value:
            if key not in known:
                raise self.fail((*path, key), f"unknown key {key!r}", f"known: {', '.join(known)}")
        return value

    def rule_set(self) -> RuleSet:
        top = self.mapping(self.doc.data if self.doc.data is not None else {}, (), TOP_KEYS)
        routes = self.routes(top.get("routes"))
        fallback = top.get("fallback")
        if fallback is None:
            raise self.fail((), "no fallback route", "add e.g. 'fallback: kommunikation'")
        if fallback not in {route.id for route in routes}:
            raise self.fail(("fallback",), f"fallback route {fallback!r} is not defined",
                            f"known: {', '.join(route.id for route in routes)}")
        self.unique(routes, "name")
        self.unique(routes, "channel")
        for route in routes:
            if route.id != fallback and not route.conditions.rules:
                raise self.fail(("routes", route.id), f"route {route.id!r} has no rules",
                                "give it at least one rule with keywords, words, phrases or regex")
        return RuleSet(
            file=self.doc.file,
            routes=routes,
            flags=self.flags(top.get("flags")),
            fallback=fallback,
            post_weight=self.number(top.get("post_weight", 0.5), ("post_weight",)),
            sections=MappingProxyType({k: top[k] for k in EXTENSION_SECTIONS if k in top}),
            _lines=MappingProxyType(self.doc.lines),
        )

    def unique(self, routes: tuple[Route, ...], key: str) -> None:
        """Two routes with one display name cannot be told apart in the "move to" menu, and two
        with one channel mix their departments' cards; Slack names ignore case."""
        seen: dict[str, Route] = {}
        for route in routes:
            value = str(getattr(route, key))
            first = seen.setdefault(value.casefold(), route)
            if first is not route:
                raise self.fail(("routes", route.id, key),
                                f"routes {first.id!r} and {route.id!r} have the same {key} {value!r}",
                                f"first at line {self.doc.line(('routes', first.id, key))}; "
                                f"give each route its own {key}")

    def routes(self, value: Any) -> tuple[Route, ...]:
        if value is None:
            raise self.fail((), "no routes", "add a 'routes:' section")
        if not isinstance(value, dict) or not value:
            raise self.fail(("routes",), "routes must be a mapping of route ids to routes")
        return tuple(self.route(str(route_id), body) for route_id, body in value.items())

    def route(self, route_id: str, body: Any) -> Route:
        path = ("routes", route_id)
        if not re.fullmatch(r"[a-z][a-z0-9_]*", route_id):
            raise self.fail(path, f"route id {route_id!r} must be lower-case ASCII letters, digits or _")
        if body is None:
            raise self.fail(path, f"route {route_id!r} is empty", "give it a name, a channel and rules")
        body = self.mapping(body, path, ROUTE_KEYS)
        for required in ("name", "channel"):
            if not body.get(required):
                raise self.fail(path, f"route {route_id!r} has no {required}")
        channel = self.text(body["channel"], (*path, "channel"))
        if not channel.startswith("#"):
            raise self.fail((*path, "channel"), f"channel {channel!r} must start with #")
        group = body.get("group")
        return Route(
            id=route_id, name=self.text(body["name"], (*path, "name")), channel=channel,
            group=None if group is None else self.text(group, (*path, "group")),
            conditions=self.conditions(body, path), line=self.doc.line(path) or 0,
        )

    def flags(self, value: Any) -> tuple[Flag, ...]:
        if value is None:
            return ()
        if not isinstance(value, dict):
            raise self.fail(("flags",), "flags must be a mapping of flag names to rules",
                            f"known flags: {', '.join(FLAGS)}")
        result = []
        for flag_id, body in value.items():
            path = ("flags", str(flag_id))
            if flag_id not in FLAGS:
                raise self.fail(path, f"unknown flag {flag_id!r}", f"known: {', '.join(FLAGS)}")
            body = self.mapping(body or {}, path, FLAG_KEYS)
            conditions = self.conditions(body, path)
            if not conditions.rules:
                raise self.fail(path, f"flag {flag_id!r} has no rules")
            result.append(Flag(
                id=flag_id, name=self.text(body.get("name", flag_id), (*path, "name")),
                conditions=conditions,
                min_score=self.number(body.get("min_score", 1), (*path, "min_score")),
                line=self.doc.line(path) or 0,
            ))
        return tuple(result)

    def conditions(self, body: dict[str, Any], path: KeyPath) -> Conditions:
        rules_value = body.get("rules") or []
        if not isinstance(rules_value, list):
            raise self.fail((*path, "rules"), "rules must be a list of rules (lines starting with -)")
        return Conditions(
            rules=tuple(self.rule(item, (*path, "rules", str(i))) for i, item in enumerate(rules_value)),
            exclude=self.terms(body.get("exclude"), (*path, "exclude"), "exclude"),
            exclude_regex=self.patterns(body.get("exclude_regex"), (*path, "exclude_regex")),
        )

    def rule(self, value: Any, path: KeyPath) -> Rule:
        body = self.mapping(value, path, RULE_KEYS)
        rule = Rule(
            weight=self.number(body.get("weight", 1), (*path, "weight")),
            keywords=self.terms(body.get("keywords"), (*path, "keywords"), "keywords"),
            words=self.terms(body.get("words"), (*path, "words"), "words"),
            phrases=self.terms(body.get("phrases"), (*path, "phrases"), "phrases"),
            regex=self.patterns(body.get("regex"), (*path, "regex")),
            kinds=frozenset(self.kinds(body.get("kinds"), (*path, "kinds"))),
            no_words=body.get("no_words") is True,
            line=self.doc.line(path) or 0,
        )
        if not (rule.keywords or rule.words or rule.phrases or rule.regex or rule.no_words):
            raise self.fail(path, "empty rule", f"give it at least one of {', '.join(RULE_KEYS[1:5])}")
        return rule

    def terms(self, value: Any, path: KeyPath, key: str) -> tuple[str, ...]:
        result = []
        for item_path, item in self.items(value, path):
            term = self.text(item, item_path)
            words = normalise(term).words.split()
            if not words:
                raise self.fail(item_path, f"{term!r} has no letters or digits to match")
            if key in ("keywords", "words") and len(words) > 1:
                raise self.fail(item_path, f"{key} entry {term!r} has several words",
                                "put it under phrases")
            if key == "keywords" and len(words[0]) < MIN_COMPOUND_LENGTH:
                raise self.fail(item_path, f"keyword {term!r} is too short to look for inside words",
                                "put it under words, which match whole words only")
            result.append(term)
        return tuple(result)

    def patterns(self, value: Any, path: KeyPath) -> tuple[Pattern, ...]:
        result = []
        for item_path, item in self.items(value, path):
            source = self.text(item, item_path)
            try:
                result.append(compile_checked(source, fold_pattern(source), self.doc.file,
                                              self.doc.line(item_path) or 0))
            except re.error as exc:
                raise self.fail(item_path, f"invalid regular expression {item!r}: {exc.msg}") from None
            except ValueError as exc:
                raise self.fail(item_path, f"regular expression {item!r} can take for ever on "
                                f"some texts: {exc}",
                                "use one repeat per group, e.g. [\\w\\s]+ instead of (\\w+\\s?)+, "
                                "or a possessive ++ or atomic (?>...) group") from None
        return tuple(result)

    def kinds(self, value: Any, path: KeyPath) -> list[str]:
        result = []
        for item_path, item in self.items(value, path):
            if item not in KINDS:
                raise self.fail(item_path, f"unknown kind {item!r}", f"known: {', '.join(KINDS)}")
            result.append(item)
        return result

    def items(self, value: Any, path: KeyPath) -> list[tuple[KeyPath, Any]]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(path, f"{path[-1]} must be a list, e.g. [storskrald, haveaffald]")
        return [((*path, str(index)), item) for index, item in enumerate(value)]

    def text(self, value: Any, path: KeyPath) -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)) or str(value) == "":
            raise self.fail(path, f"{path[-1]} must be a non-empty text")
        return str(value)

    def number(self, value: Any, path: KeyPath) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise self.fail(path, f"{path[-1]} must be a number of zero or more, got {value!r}")
        return float(value)
