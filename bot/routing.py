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

from bot.danish import Kind, TermIndex, Text, normalise
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


@dataclass(frozen=True)
class _Entry:
    """What finding one term means: points (or a veto) for one route or flag."""

    target: int
    rule: Rule | None
    """None for an exclude term."""
    label: str


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
                self.entries.append(_Entry(target, rule, term))
        self.index = TermIndex(terms)
        self.patterns = [
            (target, rule, pattern)
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
        for found in self.index.find(text):
            entry = self.entries[found.term]
            if entry.rule is None:
                if own:
                    tally.vetoed.add(entry.target)
            elif not entry.rule.kinds or kind in entry.rule.kinds:
                # "vej" and "vejen" listed apart still make one find, worth its best weight.
                span = (entry.target, found.start, found.end)
                at_span[span] = max(at_span.get(span, (0.0, "")), (entry.rule.weight, entry.label))
        for (target, _, _), (weight, label) in at_span.items():
            _add(tally, target, f'"{label}"', weight * factor)
        for target, rule, pattern in self.patterns if own else self.route_patterns:
            match = pattern.search(text.plain) if _applies(rule, kind) else None
            if match:
                _add(tally, target, f'"{match.group(0).strip()[:30]}"', rule.weight * factor)
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

    def reasons(self, target: int, tallies: tuple[_Tally, ...]) -> Iterator[str]:
        found = [
            (weight, label, own)
            for own, tally in zip((True, False), tallies)
            for label, weight in tally.points.get(target, {}).items()
        ]
        for _, label, own in sorted(found, key=lambda item: -item[0])[:MAX_REASONS]:
            where = "" if label == _NO_WORDS else f" {_WHERE[own]}"
            yield f"{self.names[target]}: {label}{where}"


def _terms(conditions: Conditions) -> Iterator[tuple[Rule | None, Kind, str]]:
    for rule in conditions.rules:
        yield from ((rule, Kind.KEYWORD, term) for term in rule.keywords)
        yield from ((rule, Kind.WORD, term) for term in rule.words)
        yield from ((rule, Kind.PHRASE, term) for term in rule.phrases)
    yield from ((None, Kind.PHRASE, term) for term in conditions.exclude)


def _applies(rule: Rule, kind: str | None) -> bool:
    return not rule.kinds or kind in rule.kinds


def _add(tally: _Tally, target: int, label: str, weight: float) -> None:
    labels = tally.points.setdefault(target, {})
    labels[label] = max(weight, labels.get(label, 0.0))


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
        if post_text else _Tally({}, set())
    own_points, post_points = own.totals(), post.totals()
    routes = len(rules.routes)
    candidates = [
        (own_points.get(i, 0.0) + post_points.get(i, 0.0), own_points.get(i, 0.0), -i)
        for i in sorted(own_points.keys() | post_points.keys())
        if i < routes and i not in own.vetoed
    ]
    best = max(candidates, default=(0.0, 0.0, 0))
    reasons: list[str] = []
    if best[0] > 0:
        chosen = -best[2]
        reasons.extend(compiled.reasons(chosen, (own, post)))
        route_id = rules.routes[chosen].id
    else:
        route_id = rules.fallback
        reasons.append(f"{route_id}: ingen regel passede, standardruten")
    raised: set[str] = set()
    for target, points in sorted(own_points.items()):
        flag = rules.flags[target - routes] if target >= routes else None
        if flag is not None and target not in own.vetoed and points >= flag.min_score:
            raised.add(flag.id)
            reasons.extend(compiled.reasons(target, (own, _Tally({}, set()))))
    return RoutingDecision(
        route=route_id, urgent="urgent" in raised, no_reply_needed="no_reply_needed" in raised,
        journal_required="journal_required" in raised, sensitive="sensitive" in raised,
        reasons=tuple(reasons), score=max(best[0], 0.0),
    )
