"""The CLI contract other tools rely on: `route`, `eval` and `rules check`, shapes and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from bot.cli import app
from tests.conftest import REPO, RULES_FILE

runner = CliRunner()


def _borgerbot(*args: str) -> subprocess.CompletedProcess[str]:
    """The real entry point, so exit codes and stderr are exactly what a shell sees."""
    return subprocess.run([sys.executable, "-m", "bot", *args], check=False,
                          capture_output=True, text=True, cwd=REPO, timeout=60)


def test_route_json_is_exactly_the_promised_object() -> None:
    result = runner.invoke(app, ["route", "Hvornår kommer I?", "--post-text", "Bestil storskrald",
                                 "--kind", "comment", "--rules", str(RULES_FILE), "--json"])
    assert result.exit_code == 0
    decision = json.loads(result.stdout)
    assert set(decision) == {"route", "urgent", "no_reply_needed", "reasons"}
    assert decision["route"] == "affald" and decision["reasons"] == ['affald: "storskrald" i opslaget']


def test_route_prints_the_decision_for_people() -> None:
    result = runner.invoke(app, ["route", "Det brænder!", "--rules", str(RULES_FILE)])
    assert result.exit_code == 0 and "urgent: yes" in result.stdout


def test_rules_check_accepts_the_shipped_rules() -> None:
    result = runner.invoke(app, ["rules", "check", str(RULES_FILE)])
    assert result.exit_code == 0 and "ok: 10 routes" in result.stdout


def test_rules_check_names_file_and_line_and_exits_2(tmp_path: Path) -> None:
    broken = tmp_path / "rules.yaml"
    broken.write_text(RULES_FILE.read_text("utf-8").replace("keywords:", "kewords:", 1), "utf-8")
    result = _borgerbot("rules", "check", str(broken))
    assert result.returncode == 2
    assert f"{broken}:" in result.stderr and "unknown key 'kewords' (known:" in result.stderr
    assert "Traceback" not in result.stderr


def test_eval_json_reports_the_scores(tmp_path: Path) -> None:
    data = tmp_path / "set.jsonl"
    data.write_text(json.dumps({"text": "storskrald", "route": "affald"}) + "\n", "utf-8")
    result = runner.invoke(app, ["eval", str(data), "--rules", str(RULES_FILE), "--json"])
    report = json.loads(result.stdout)
    assert (report["n"], report["accuracy"]) == (1, 1.0)
    assert set(report["urgent"]) >= {"precision", "recall"}


def test_eval_of_a_broken_file_names_the_line_and_exits_2(tmp_path: Path) -> None:
    data = tmp_path / "set.jsonl"
    data.write_text("not json\n", "utf-8")
    result = _borgerbot("eval", str(data), "--rules", str(RULES_FILE))
    assert result.returncode == 2 and f"{data}:1: not valid JSON" in result.stderr
    assert "Traceback" not in result.stderr
