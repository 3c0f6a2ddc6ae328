"""The rules file: a communication officer's mistakes come back as one line naming file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.errors import ConfigError
from bot.rules import load_rules, parse_rules
from tests.conftest import RULES_FILE

VALID = """\
fallback: kommunikation
routes:
  kommunikation:
    name: Kommunikationsenheden
    channel: "#borgerbot-kommunikation"
  affald:
    name: Affald og genbrug
    channel: "#borgerbot-affald"
    rules:
      - weight: 3
        keywords: [storskrald]
flags:
  urgent:
    rules:
      - words: [brand]
"""


def _error(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse_rules(text, "rules.yaml")
    return caught.value


def test_the_shipped_rules_load() -> None:
    rules = load_rules(RULES_FILE)
    assert rules.fallback == "kommunikation"
    assert {"affald", "vej_park", "borgerservice"} <= set(rules.route_ids)


def test_every_shipped_route_has_a_danish_name_and_a_slack_channel() -> None:
    rules = load_rules(RULES_FILE)
    assert all(route.name and route.channel.startswith("#borgerbot-") for route in rules.routes)


def test_bad_yaml_names_file_and_line() -> None:
    error = _error(VALID.replace("name: Affald og genbrug", "name: Affald: og genbrug"))
    assert error.render().startswith("rules.yaml:7: not valid YAML")


def test_an_unknown_key_lists_the_known_ones() -> None:
    error = _error(VALID.replace("keywords: [storskrald]", "kewords: [storskrald]"))
    assert error.render().startswith("rules.yaml:11: unknown key 'kewords' (known: weight, keywords")


def test_a_duplicate_route_points_at_the_second_one() -> None:
    text = VALID.replace("flags:", "  affald:\n    name: X\n    channel: '#x'\nflags:")
    error = _error(text)
    assert (error.line, error.problem) == (12, "duplicate route 'affald'")
    assert error.hint == "first at line 6"


def test_a_duplicate_key_is_refused() -> None:
    error = _error(VALID.replace("    name: Affald og genbrug\n", "    name: A\n    name: B\n"))
    assert (error.line, error.problem) == (8, "duplicate key 'name'")


def test_a_fallback_naming_a_missing_route_is_refused() -> None:
    error = _error(VALID.replace("fallback: kommunikation", "fallback: presse"))
    assert error.line == 1 and "fallback route 'presse' is not defined" in error.problem


def test_no_fallback_is_refused() -> None:
    error = _error(VALID.replace("fallback: kommunikation\n", ""))
    assert error.problem == "no fallback route"


def test_no_routes_is_refused() -> None:
    assert _error("fallback: kommunikation\n").problem == "no routes"


def test_an_invalid_regular_expression_names_its_line() -> None:
    error = _error(VALID.replace("keywords: [storskrald]", "regex: ['(storskrald']"))
    assert error.line == 11 and "invalid regular expression" in error.problem


def test_a_route_without_rules_is_refused() -> None:
    text = VALID.replace("    rules:\n      - weight: 3\n        keywords: [storskrald]\n", "")
    error = _error(text)
    assert (error.line, error.problem) == (6, "route 'affald' has no rules")


def test_a_rule_without_terms_is_refused() -> None:
    error = _error(VALID.replace("        keywords: [storskrald]\n", ""))
    assert (error.line, error.problem) == (10, "empty rule")


def test_an_unknown_flag_lists_the_known_ones() -> None:
    error = _error(VALID.replace("  urgent:", "  urgnet:"))
    assert error.render() == (
        "rules.yaml:13: unknown flag 'urgnet' "
        "(known: urgent, no_reply_needed, journal_required, sensitive)"
    )


def test_a_short_keyword_is_sent_to_words() -> None:
    error = _error(VALID.replace("keywords: [storskrald]", "keywords: [storskrald, pas]"))
    assert error.line == 11 and error.hint and "words" in error.hint


def test_an_unknown_kind_is_refused() -> None:
    error = _error(VALID.replace("      - words: [brand]", "      - words: [brand]\n        kinds: [dm]"))
    assert (error.line, error.problem) == (16, "unknown kind 'dm'")


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_rules(tmp_path / "absent.yaml")


def test_other_parts_sections_are_allowed_and_handed_over_with_their_lines() -> None:
    rules = parse_rules(VALID + "deadlines:\n  comment: 4h\n", "rules.yaml")
    data, line_of = rules.section("deadlines")
    assert data == {"comment": "4h"} and line_of(("deadlines", "comment")) == 17


def test_an_absent_section_is_none() -> None:
    data, _ = parse_rules(VALID).section("accounts")
    assert data is None


def test_a_route_is_looked_up_by_id() -> None:
    rules = parse_rules(VALID)
    assert (rules.name_of("affald"), rules.channel_of("affald")) == ("Affald og genbrug", "#borgerbot-affald")


def test_an_unknown_route_id_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown route 'presse'"):
        parse_rules(VALID).channel_of("presse")


def test_rules_check_points_at_the_line_of_a_bad_account(tmp_path: Path) -> None:
    bad = tmp_path / "rules.yaml"
    bad.write_text(
        "fallback: kommunikation\nroutes:\n  kommunikation:\n    name: K\n    channel: '#k'\n"
        "    rules:\n      - keywords: [kommune]\naccounts:\n  - platform: facebok\n"
        "    account: '1'\n    token_env: T\n",
        encoding="utf-8",
    )
    outcome = CliRunner().invoke(app, ["rules", "check", str(bad)])
    assert outcome.exit_code == 2
    assert f"{bad}:9: unknown platform 'facebok'" in outcome.output


def test_the_shipped_deadline_sections_are_the_documented_defaults() -> None:
    from bot.assembly import load_configuration
    from bot.deadlines import DeadlinePolicy

    assert load_configuration(str(RULES_FILE)).policy == DeadlinePolicy()
