"""Rules that cannot freeze the service or leave inquiries without anyone to approve them."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.errors import ConfigError
from bot.routing import route
from bot.rules import parse_rules
from tests.conftest import REPO, RULES_FILE

RULES = """\
fallback: kommunikation
routes:
  kommunikation:
    name: Kommunikationsenheden
    channel: "#borgerbot-kommunikation"
  affald:
    name: Affald og genbrug
    channel: "#borgerbot-affald"
    rules:
      - keywords: [storskrald]
      - regex: ['PATTERN']
chat:
  officers: [U0KOMM001]
"""
PATTERN_LINE = 11
ALMOST = "a" * 40 + "!"
"""A text that makes `(a|a)+$` try every split of the a's: 2**40 paths in Python's `re`."""


def _with(pattern: str, tmp_path: Path, text: str = RULES) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(text.replace("PATTERN", pattern), "utf-8")
    return path


def _borgerbot(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], check=False, capture_output=True,
                          text=True, cwd=REPO, timeout=timeout)


def test_rules_check_refuses_a_nested_quantifier_at_its_line(tmp_path: Path) -> None:
    path = _with(r"(\w+\s?)+$", tmp_path)
    result = _borgerbot("rules", "check", str(path))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"{path}:{PATTERN_LINE}: regular expression")
    assert "can take for ever" in result.stderr


@pytest.mark.parametrize("pattern", [r"(a+)+b", r"(.*x){9}", r"((ab)*c)+", r"(?:\d+,?)*$"])
def test_other_nested_repeats_are_refused(pattern: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_rules(RULES.replace("PATTERN", pattern), "r.yaml")
    assert caught.value.line == PATTERN_LINE


@pytest.mark.parametrize("pattern", [r"^@", r"tag \d+ venner", r"(ab){2,3}", r"[\w\s]+$",
                                     r"(\w++\s?)+$", r"(?>\w+\s?)+$", r"\d{6}-?\d{4}"])
def test_patterns_without_nested_unbounded_repeats_are_accepted(pattern: str) -> None:
    parse_rules(RULES.replace("PATTERN", pattern), "r.yaml")


def test_a_runaway_pattern_the_check_cannot_see_does_not_hang_routing(tmp_path: Path) -> None:
    """Overlapping alternatives pass the static check; the time limit still stops them."""
    path = _with("(a|a)+$", tmp_path)
    result = _borgerbot("route", ALMOST, "--rules", str(path), "--json", timeout=30)
    assert result.returncode == 0 and '"route": "kommunikation"' in result.stdout


def test_a_pattern_that_times_out_is_reported_once_and_then_skipped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rules = parse_rules(RULES.replace("PATTERN", "(a|a)+$"), "r.yaml")
    with caplog.at_level(logging.ERROR):
        first = route(rules, ALMOST)
        second = route(rules, ALMOST + " storskrald")
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and errors[0].getMessage().startswith(f"r.yaml:{PATTERN_LINE}: ")
    assert ALMOST not in errors[0].getMessage()
    assert first.route == "kommunikation" and second.route == "affald"


def test_patterns_see_a_capped_text() -> None:
    """Text far beyond any real comment is not searched to its end (keywords still are)."""
    rules = parse_rules(RULES.replace("PATTERN", "slutord"), "r.yaml")
    assert route(rules, "slutord " + "x" * 100).route == "affald"
    assert route(rules, "x " * 100_000 + "slutord").route == "kommunikation"


def test_a_rules_file_that_is_not_utf8_gets_one_line_and_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_bytes(RULES.replace("PATTERN", "x").replace("Affald og", "Affald \u00e6").encode("latin-1"))
    result = _borgerbot("rules", "check", str(path))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith(f"{path}:7: not UTF-8 text: byte 0xe6")


@pytest.mark.parametrize("key, name, channel", [
    ("name", "affald og genbrug", '"#borgerbot-genbrug"'),
    ("channel", "Genbrugspladsen", '"#Borgerbot-Affald"'),
])
def test_two_routes_may_not_share_a_display_name_or_a_channel(key: str, name: str, channel: str) -> None:
    second = f"""  genbrug:
    name: {name}
    channel: {channel}
    rules:
      - keywords: [genbrugsplads]
chat:"""
    with pytest.raises(ConfigError) as caught:
        parse_rules(RULES.replace("PATTERN", "x").replace("chat:", second), "r.yaml")
    assert caught.value.line == (13 if key == "name" else 14)
    assert caught.value.problem.startswith(f"routes 'affald' and 'genbrug' have the same {key}")
    assert "first at line" in (caught.value.hint or "")


def test_nobody_to_approve_is_refused_by_rules_check_in_english_and_danish(tmp_path: Path) -> None:
    path = _with("x", tmp_path, RULES.replace("officers: [U0KOMM001]", "officers: []"))
    result = CliRunner().invoke(app, ["rules", "check", str(path)])
    assert result.exit_code == 2
    assert f"{path}:13: nobody can approve replies" in result.output
    assert "Ingen kan godkende svar" in result.output and "officer_group" in result.output


def test_an_officer_group_alone_is_enough(tmp_path: Path) -> None:
    path = _with("x", tmp_path, RULES.replace("officers: [U0KOMM001]", "officer_group: S0KOMM"))
    assert CliRunner().invoke(app, ["rules", "check", str(path)]).exit_code == 0


def test_the_shipped_file_names_who_approves() -> None:
    result = CliRunner().invoke(app, ["rules", "check", str(RULES_FILE)])
    assert result.exit_code == 0, result.output
