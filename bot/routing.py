"""Pure: an inquiry's text (read with the post it was written under) → route, flags and reasons.

Scoring, as routing_rules.yaml explains it to the communication officer:
- every term found counts its rule's weight once per text (the heaviest rule if it sits in
  several); words from the municipality's post count `post_weight` times as much;
- a route or flag whose `exclude` terms appear in the citizen's own words gets nothing;
- the route with the most points wins; on equal points, the one with more points from the
  citizen's own words; then the one listed first in the file. No points: the fallback;
- a flag is raised when the citizen's own words reach its `min_score`; the post never
  raises a flag, since a post about flooding does not make every comment under it urgent.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from bot.danish import Kind, TermIndex, Text, normalise
from bot.patterns import Pattern
from bot.rules import Conditions, Rule, RuleSet

MAX_REASONS = 3
"""Reasons per route or flag shown in chat; the strongest first."""
_WHERE = {True: "i teksten", False: "i opslaget"}
_NO_WORDS = "kun emojis eller tegn"


@dataclass(frozen=True)
class RoutingDecision:
    route: str
    urgent: bool
    no_reply_needed: bool
    journal_required: bool
    sensitive: bool
    reasons: tuple[str, ...]
    """Short Danish lines for chat, e.g. 'affald: "storskrald" i teksten'."""
    score: float
    """Points of the chosen route; 0 when the fallback took it for lack of any match."""

    def as_json(self) -> dict[str, object]:
        """The shape `borgerbot route --json` promises other tools."""
        return {"route": self.route, "urgent": self.urgent,
                "no_reply_needed": self.no_reply_needed, "reasons": list(self.reasons)}


class _Entry(NamedTuple):
    """What finding one term means: points (or, without a rule, a veto) for one route or flag."""

    target: int
    rule: Rule | None
    label: str
    """The term as the rules file spells it, quoted for the reasons."""


@dataclass
class _Tally:
    """Points per target from one text: the best weight per distinct term, and vetoes."""

    points: dict[int, dict[str, float]]
    vetoed: set[int]

    def totals(self) -> dict[int, float]:
        return {target: sum(labels.values()) for target, labels in self.points.items()}


class _Compiled:
    """A RuleSet turned into one term index over every route and flag."""

    def __init__(self, rules: RuleSet) -> None:
        self.names = [route.id for route in rules.routes] + [flag.name for flag in rules.flags]
        self.conditions = [r.conditions for r in rules.routes] + [f.conditions for f in rules.flags]
        self.entries: list[_Entry] = []
        terms: list[tuple[Kind, str]] = []
        for target, conditions in enumerate(self.conditions):
            for rule, kind, term in _terms(conditions):
                terms.append((kind, term))
                self.entries.append(_Entry(target, rule, f'"{term}"'))
        self.index = TermIndex(terms)
        self.patterns = [
            (target, rule, pattern, _pattern_label(pattern))
            for target, conditions in enumerate(self.conditions)
            for rule in conditions.rules for pattern in rule.regex
        ]
        self.route_patterns = [item for item in self.patterns if item[0] < len(rules.routes)]
        """The post never raises a flag, so its text is only searched for route patterns."""
        self.vetoes = [
            (target, conditions.exclude_regex)
            for target, conditions in enumerate(self.conditions) if conditions.exclude_regex
        ]
        self.silent = [
            (target, rule) for target, conditions in enumerate(self.conditions)
            for rule in conditions.rules if rule.no_words
        ]

    def tally(self, text: Text, kind: str | None, factor: float, own: bool) -> _Tally:
        tally = _Tally({}, set())
        at_span: dict[tuple[int, int, int], tuple[float, str]] = {}
        entries = self.entries
        for term, start, end in self.index.find(text):
            target, rule, label = entries[term]
            if rule is None:
                if own:
                    tally.vetoed.add(target)
            elif not rule.kinds or kind in rule.kinds:
                # "vej" and "vejen" listed apart still make one find, worth its best weight.
                span = (target, start, end)
                at_span[span] = max(at_span.get(span, (0.0, "")), (rule.weight, label))
        for (target, _, _), (weight, label) in at_span.items():
            _add(tally, target, label, weight * factor)
        for target, rule, pattern, label in self.patterns if own else self.route_patterns:
            if _applies(rule, kind) and pattern.search(text.plain):
                _add(tally, target, label, rule.weight * factor)
        if not text.has_words:
            for target, rule in self.silent:
                if _applies(rule, kind):
                    _add(tally, target, _NO_WORDS, rule.weight * factor)
        if own:
            tally.vetoed.update(
                target for target, patterns in self.vetoes
                if any(pattern.search(text.plain) for pattern in patterns)
            )
        return tally

    def reasons(self, target: int, own: _Tally, post: _Tally) -> Iterator[str]:
        found = [(weight, label, True) for label, weight in own.points.get(target, {}).items()]
        found += [(weight, label, False) for label, weight in post.points.get(target, {}).items()]
        found.sort(key=lambda item: -item[0])
        for _, label, mine in found[:MAX_REASONS]:
            where = "" if label == _NO_WORDS else f" {_WHERE[mine]}"
            yield f"{self.names[target]}: {label}{where}"


def _terms(conditions: Conditions) -> Iterator[tuple[Rule | None, Kind, str]]:
    for rule in conditions.rules:
        yield from ((rule, Kind.KEYWORD, term) for term in rule.keywords)
        yield from ((rule, Kind.WORD, term) for term in rule.words)
        yield from ((rule, Kind.PHRASE, term) for term in rule.phrases)
    yield from ((None, Kind.PHRASE, term) for term in conditions.exclude)


def _pattern_label(pattern: Pattern) -> str:
    """A pattern is explained by itself, never by the citizen's words it matched: those may
    hold a CPR number, and reasons outlive the text (stored, journalised, shown in chat)."""
    return f'mønsteret "{" ".join(pattern.source.split())[:40]}"'


def _applies(rule: Rule, kind: str | None) -> bool:
    return not rule.kinds or kind in rule.kinds


def _add(tally: _Tally, target: int, label: str, weight: float) -> None:
    labels = tally.points.setdefault(target, {})
    labels[label] = max(weight, labels.get(label, 0.0))


_NOTHING = _Tally({}, set())
"""The tally of an absent post; never written to."""


@lru_cache(maxsize=16)
def _compiled(rules: RuleSet) -> _Compiled:
    return _Compiled(rules)


def route(
    rules: RuleSet,
    text: str,
    post_text: str | None = None,
    platform: str | None = None,
    kind: str | None = None,
) -> RoutingDecision:
    """Decide where an inquiry goes. `platform` is accepted for rules to come; none use it yet."""
    compiled = _compiled(rules)
    own = compiled.tally(normalise(text), kind, 1.0, own=True)
    post = compiled.tally(normalise(post_text), kind, rules.post_weight, own=False) \
        if post_text else _NOTHING
    own_points, post_points = own.totals(), post.totals()
    routes = len(rules.routes)
    best, chosen = (0.0, 0.0), -1
    for target in sorted(own_points.keys() | post_points.keys()):
        if target < routes and target not in own.vetoed:
            mine = own_points.get(target, 0.0)
            candidate = (mine + post_points.get(target, 0.0), mine)
            if candidate > best:
                best, chosen = candidate, target
    if chosen >= 0:
        reasons = list(compiled.reasons(chosen, own, post))
        route_id = rules.routes[chosen].id
    else:
        route_id = rules.fallback
        reasons = [f"{route_id}: ingen regel passede, standardruten"]
    raised: set[str] = set()
    for target, total in own_points.items():
        if target >= routes and target not in own.vetoed:
            flag = rules.flags[target - routes]
            if total >= flag.min_score:
                raised.add(flag.id)
                reasons.extend(compiled.reasons(target, own, _NOTHING))
    return RoutingDecision(
        route=route_id, urgent="urgent" in raised, no_reply_needed="no_reply_needed" in raised,
        journal_required="journal_required" in raised, sensitive="sensitive" in raised,
        reasons=tuple(reasons), score=best[0],
    )
