"""Routing throughput: inquiries classified per second on the dev texts, on one core.

Runs the shipped rules, synthetic rule sets with 10x and 100x the terms, and a naive
baseline in the same process: every term its own regular expression search, which is what
routing looked like before the single trie. The last line is one JSON object for tools.

    python bench/routing.py [--data routing-dev.jsonl] [--seconds 1.5]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.danish import normalise
from bot.routing import route
from bot.rules import RuleSet, parse_rules

DEV_SET = REPO.parent / "shared" / "data" / "routing-dev.jsonl"
TERM_KEYS = ("keywords", "words", "phrases")


def inquiries(path: Path) -> list[tuple[str, str | None, str | None]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [(row["text"], row.get("post_text"), row.get("kind")) for row in rows]


def scaled(document: dict[str, Any], factor: int, seed: int = 7) -> str:
    """The shipped rules with (factor - 1) times their term count added as made-up keywords."""
    rng = random.Random(seed)
    syllables = ["ka", "be", "ro", "sk", "und", "mel", "tor", "vi", "ling", "hus", "gr", "ste", "bo"]
    blocks = [rule for route in document["routes"].values() for rule in route["rules"]]
    total = sum(len(rule.get(key, [])) for rule in blocks for key in TERM_KEYS)
    for _ in range(total * (factor - 1)):
        word = "".join(rng.choice(syllables) for _ in range(rng.randint(3, 5)))
        rng.choice(blocks).setdefault("keywords", []).append(word)
    return str(yaml.safe_dump(document, allow_unicode=True, sort_keys=False))


def naive(rules: RuleSet) -> Callable[[str, str | None, str | None], str]:
    """Each term compiled to its own regex and searched one by one: the baseline to beat."""
    checks = [
        (route.id, rule.weight, re.compile(r"(?<![a-z0-9])" + re.escape(" ".join(normalise(term).words.split()))))
        for route in rules.routes for rule in route.conditions.rules
        for key in TERM_KEYS for term in getattr(rule, key)
    ]

    def classify(text: str, post_text: str | None, kind: str | None) -> str:
        scores: dict[str, float] = {}
        for source, factor in ((text, 1.0), (post_text, rules.post_weight)):
            words = normalise(source).words if source else ""
            for route_id, weight, pattern in checks:
                if pattern.search(words):
                    scores[route_id] = scores.get(route_id, 0.0) + weight * factor
        return max(sorted(scores), key=lambda route_id: scores[route_id], default=rules.fallback)

    return classify


def per_second(classify: Callable[[str, str | None, str | None], object],
               items: list[tuple[str, str | None, str | None]], seconds: float,
               rounds: int = 5) -> float:
    """The best of several rounds, as timeit does: other processes only ever slow a round down."""
    for text, post, kind in items:  # warm caches and compile once, outside the clock
        classify(text, post, kind)
    best = 0.0
    for _ in range(rounds):
        done, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds / rounds:
            for text, post, kind in items:
                classify(text, post, kind)
            done += len(items)
        best = max(best, done / (time.perf_counter() - start))
    return best


def _router(rules: RuleSet) -> Callable[[str, str | None, str | None], object]:
    def classify(text: str, post_text: str | None, kind: str | None) -> object:
        return route(rules, text, post_text=post_text, kind=kind)
    return classify


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEV_SET)
    parser.add_argument("--rules", type=Path, default=REPO / "routing_rules.yaml")
    parser.add_argument("--seconds", type=float, default=2.0, help="per rule set")
    args = parser.parse_args()
    items = inquiries(args.data)
    text = args.rules.read_text(encoding="utf-8")
    sets = {factor: parse_rules(scaled(yaml.safe_load(text), factor) if factor > 1 else text,
                                f"x{factor}") for factor in (1, 10, 100)}
    results = {}
    for factor, rules in sets.items():
        results[factor] = per_second(_router(rules), items, args.seconds)
        terms = sum(len(getattr(rule, key)) for route_ in rules.routes
                    for rule in route_.conditions.rules for key in TERM_KEYS)
        print(f"rules x{factor:<3} {terms:>6} terms: {results[factor]:>9,.0f} inquiries/s")
    baseline = per_second(naive(sets[1]), items, args.seconds)
    print(f"naive baseline (one regex per term, shipped rules): {baseline:>9,.0f} inquiries/s")
    print(f"speedup over baseline: {results[1] / baseline:.1f}x; "
          f"cost of 100x terms: {results[1] / results[100]:.2f}x the shipped rules")
    print(json.dumps({
        "per_s": round(results[1]), "per_s_10x": round(results[10]),
        "per_s_100x": round(results[100]), "baseline_per_s": round(baseline),
        "speedup_vs_baseline": round(results[1] / baseline, 2),
        "cost_100x_vs_shipped": round(results[1] / results[100], 2), "n_texts": len(items),
    }))


if __name__ == "__main__":
    main()
