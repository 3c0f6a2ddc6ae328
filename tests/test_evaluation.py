"""Scoring labelled inquiries: what counts as right, and broken input named by line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.evaluation import evaluate, format_report, load_examples
from bot.rules import RuleSet, load_rules
from tests.conftest import RULES_FILE


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules(RULES_FILE)


def _write(tmp_path: Path, *rows: dict[str, object]) -> Path:
    path = tmp_path / "set.jsonl"
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), "utf-8")
    return path


def _row(text: str, route: str, **extra: object) -> dict[str, object]:
    return {"id": text[:8], "platform": "facebook", "kind": "message", "post_text": None,
            "text": text, "route": route, "also_ok": [], "urgent": False,
            "no_reply_needed": False, **extra}


def test_a_route_in_also_ok_counts_as_right(rules: RuleSet, tmp_path: Path) -> None:
    path = _write(tmp_path, _row("Hvornår henter I storskrald?", "kommunikation", also_ok=["affald"]))
    assert evaluate(rules, load_examples(path)).accuracy == 1.0


def test_a_wrong_route_is_a_confusion(rules: RuleSet, tmp_path: Path) -> None:
    path = _write(tmp_path, _row("Hvornår henter I storskrald?", "kultur_fritid"))
    result = evaluate(rules, load_examples(path))
    assert (result.accuracy, result.confusions) == (0.0, [("kultur_fritid", "affald", 1)])


def test_per_route_scores_count_support_by_the_labelled_route(rules: RuleSet, tmp_path: Path) -> None:
    path = _write(tmp_path, _row("storskrald", "affald"), _row("mit pas er udløbet", "affald"))
    score = evaluate(rules, load_examples(path)).per_route["affald"]
    assert (score.precision, score.recall, score.support) == (1.0, 0.5, 2)


def test_flag_precision_and_recall(rules: RuleSet, tmp_path: Path) -> None:
    path = _write(tmp_path, _row("Det brænder i kælderen!", "byggeri_miljo", urgent=True),
                  _row("Hvornår åbner biblioteket?", "kultur_fritid", urgent=True))
    urgent = evaluate(rules, load_examples(path)).urgent
    assert (urgent.precision, urgent.recall) == (1.0, 0.5)


def test_the_json_has_the_promised_keys(rules: RuleSet, tmp_path: Path) -> None:
    result = evaluate(rules, load_examples(_write(tmp_path, _row("storskrald", "affald"))))
    assert {"n", "accuracy", "per_route", "urgent", "no_reply_needed", "confusions"} <= set(result.as_json())


def test_the_report_lists_misrouted_examples(rules: RuleSet, tmp_path: Path) -> None:
    path = _write(tmp_path, _row("Hvornår henter I storskrald?", "kultur_fritid"))
    report = format_report(evaluate(rules, load_examples(path)))
    assert "accuracy:  0.000" in report and "kultur_fritid -> affald" in report


def test_a_line_that_is_not_json_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "a", "route": "affald"}\n{oops\n', "utf-8")
    with pytest.raises(ConfigError) as caught:
        load_examples(path)
    assert (caught.value.file, caught.value.line) == (str(path), 2)


def test_a_line_without_text_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"route": "affald"}\n', "utf-8")
    with pytest.raises(ConfigError, match="missing or non-text field"):
        load_examples(path)
