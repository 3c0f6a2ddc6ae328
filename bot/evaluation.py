"""Score a rules file against labelled inquiries, so an edit's effect is a number, not a hunch.

A route counts as right when it is the labelled `route` or one of `also_ok`: some inquiries
honestly belong to two departments (departments.md). Flags are scored as plain
precision and recall, because a missed urgent inquiry and a false alarm cost differently.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import ConfigError
from bot.routing import RoutingDecision, route
from bot.rules import RuleSet

REQUIRED = ("text", "route")


@dataclass(frozen=True)
class Example:
    id: str
    text: str
    post_text: str | None
    platform: str | None
    kind: str | None
    route: str
    also_ok: tuple[str, ...]
    urgent: bool
    no_reply_needed: bool

    @property
    def accepted(self) -> frozenset[str]:
        return frozenset((self.route, *self.also_ok))


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    support: int


@dataclass(frozen=True)
class Miss:
    example: Example
    decision: RoutingDecision


@dataclass(frozen=True)
class Evaluation:
    n: int
    accuracy: float
    per_route: dict[str, Score]
    urgent: Score
    no_reply_needed: Score
    confusions: list[tuple[str, str, int]]
    """(gold, predicted, count) for wrong routes, most frequent first."""
    misses: list[Miss]

    def as_json(self) -> dict[str, Any]:
        def score(s: Score) -> dict[str, Any]:
            return {"precision": s.precision, "recall": s.recall, "support": s.support}
        return {
            "n": self.n,
            "accuracy": self.accuracy,
            "per_route": {name: score(s) for name, s in self.per_route.items()},
            "urgent": score(self.urgent),
            "no_reply_needed": score(self.no_reply_needed),
            "confusions": [list(row) for row in self.confusions],
            "misrouted": [
                {"id": m.example.id, "gold": m.example.route, "predicted": m.decision.route}
                for m in self.misses
            ],
        }


def load_examples(path: str | Path) -> list[Example]:
    """Read JSON Lines; a broken line is a ConfigError naming the file and the line."""
    name = str(path)
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read examples: {exc.strerror or exc}", file=name) from None
    return [_example(line, name, number) for number, line in enumerate(lines, 1) if line.strip()]


def _example(line: str, file: str, number: int) -> Example:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"not valid JSON: {exc.msg}", file=file, line=number) from None
    if not isinstance(row, dict):
        raise ConfigError("each line must be a JSON object", file=file, line=number)
    missing = [key for key in REQUIRED if not isinstance(row.get(key), str)]
    if missing:
        raise ConfigError(f"missing or non-text field(s): {', '.join(missing)}", file=file,
                          line=number)
    return Example(
        id=str(row.get("id", f"line {number}")), text=row["text"], post_text=row.get("post_text"),
        platform=row.get("platform"), kind=row.get("kind"), route=row["route"],
        also_ok=tuple(row.get("also_ok") or ()), urgent=bool(row.get("urgent")),
        no_reply_needed=bool(row.get("no_reply_needed")),
    )


def evaluate(rules: RuleSet, examples: Iterable[Example]) -> Evaluation:
    decided = [(ex, route(rules, ex.text, ex.post_text, ex.platform, ex.kind)) for ex in examples]
    right = [(ex, d) for ex, d in decided if d.route in ex.accepted]
    misses = [Miss(ex, d) for ex, d in decided if d.route not in ex.accepted]
    confusions = Counter((m.example.route, m.decision.route) for m in misses)
    return Evaluation(
        n=len(decided),
        accuracy=_ratio(len(right), len(decided)),
        per_route={name: _route_score(name, decided) for name in rules.route_ids},
        urgent=_flag_score([(ex.urgent, d.urgent) for ex, d in decided]),
        no_reply_needed=_flag_score([(ex.no_reply_needed, d.no_reply_needed) for ex, d in decided]),
        confusions=[(gold, got, count) for (gold, got), count in confusions.most_common()],
        misses=misses,
    )


def _route_score(name: str, decided: list[tuple[Example, RoutingDecision]]) -> Score:
    predicted = [ex for ex, d in decided if d.route == name]
    gold = [(ex, d) for ex, d in decided if ex.route == name]
    return Score(
        precision=_ratio(sum(name in ex.accepted for ex in predicted), len(predicted)),
        recall=_ratio(sum(d.route in ex.accepted for ex, d in gold), len(gold)),
        support=len(gold),
    )


def _flag_score(pairs: list[tuple[bool, bool]]) -> Score:
    hits = sum(gold and got for gold, got in pairs)
    return Score(
        precision=_ratio(hits, sum(got for _, got in pairs)),
        recall=_ratio(hits, sum(gold for gold, _ in pairs)),
        support=sum(gold for gold, _ in pairs),
    )


def _ratio(part: int, whole: int) -> float:
    """0.0 when there is nothing to divide: no predictions earn no precision."""
    return round(part / whole, 4) if whole else 0.0


def format_report(result: Evaluation, max_misses: int = 50) -> str:
    """The human report of `borgerbot eval`."""
    lines = [f"inquiries: {result.n}", f"accuracy:  {result.accuracy:.3f}", "",
             f"{'route':<16} {'precision':>9} {'recall':>7} {'support':>8}"]
    lines += [f"{name:<16} {s.precision:>9.3f} {s.recall:>7.3f} {s.support:>8}"
              for name, s in result.per_route.items()]
    lines += ["", f"{'flag':<16} {'precision':>9} {'recall':>7} {'support':>8}"]
    for name, s in (("urgent", result.urgent), ("no_reply_needed", result.no_reply_needed)):
        lines.append(f"{name:<16} {s.precision:>9.3f} {s.recall:>7.3f} {s.support:>8}")
    lines += ["", "top confusions (gold -> predicted):"]
    lines += [f"  {gold} -> {got}: {count}" for gold, got, count in result.confusions[:10]] or ["  none"]
    lines += ["", f"misrouted ({len(result.misses)}):"]
    for miss in result.misses[:max_misses]:
        text = " ".join(miss.example.text.split())[:90]
        lines.append(f"  {miss.example.id}: {miss.example.route} -> {miss.decision.route}  {text}")
    return "\n".join(lines)
