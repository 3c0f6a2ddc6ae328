"""Every operator command that cannot work ends with one clear line and exit 2, never a traceback.

The real entry point runs in a subprocess, so exit codes and stderr are what a shell sees."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.sandbox.slack import FakeSlack
from tests.conftest import RULES_FILE


def _borgerbot(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BORGERBOT_")}
    environ |= {"BORGERBOT_RULES_FILE": str(RULES_FILE),
                "BORGERBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}", **env}
    return subprocess.run([sys.executable, "-m", "bot", *args], check=False, capture_output=True,
                          text=True, cwd=tmp_path, env=environ, timeout=60)


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    assert result.stderr.rstrip().endswith(lines[0]), "the error is the last thing said"
    return lines[0]


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(bot_token="xoxb-right").running() as fake:
        yield fake


SLACK_OK = {"BORGERBOT_SLACK_BOT_TOKEN": "xoxb-right", "BORGERBOT_SLACK_APP_TOKEN": "xapp-x"}


def test_run_without_slack_tokens_names_the_variables(tmp_path: Path) -> None:
    line = _one_line(_borgerbot(tmp_path, "run"))
    assert "BORGERBOT_SLACK_BOT_TOKEN and BORGERBOT_SLACK_APP_TOKEN not set" in line


def test_run_with_a_wrong_token_says_slack_refused_it(tmp_path: Path, slack: FakeSlack) -> None:
    line = _one_line(_borgerbot(tmp_path, "run", **(SLACK_OK | {"BORGERBOT_SLACK_BOT_TOKEN": "xoxb-old"}),
                                BORGERBOT_SLACK_API_URL=slack.base_url))
    assert "Slack refused BORGERBOT_SLACK_BOT_TOKEN (invalid_auth)" in line


def test_run_with_slack_unreachable_says_so(tmp_path: Path) -> None:
    line = _one_line(_borgerbot(tmp_path, "run", **SLACK_OK,
                                BORGERBOT_SLACK_API_URL="http://127.0.0.1:9/api/"))
    assert "cannot reach Slack" in line


def test_run_names_each_missing_channel_and_one_without_the_bot(tmp_path: Path, slack: FakeSlack) -> None:
    slack.add_channel("C1", "borgerbot-affald", bot_member=False)
    line = _one_line(_borgerbot(tmp_path, "run", **SLACK_OK, BORGERBOT_SLACK_API_URL=slack.base_url))
    assert "Slack channel #borgerbot-godkendelse does not exist" in line
    assert "the bot is not a member of Slack channel #borgerbot-affald" in line
    assert "/invite @borgerbot" in line and "opret den i Slack" in line


def test_run_with_postgresql_unreachable_says_so(tmp_path: Path) -> None:
    line = _one_line(_borgerbot(tmp_path, "run", **SLACK_OK, BORGERBOT_DATABASE_URL=
                                "postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=2"))
    assert line.startswith("error: cannot use the database:")


def test_a_sqlite_path_that_cannot_be_written_says_so(tmp_path: Path) -> None:
    line = _one_line(_borgerbot(tmp_path, "db", "upgrade", BORGERBOT_DATABASE_URL=
                                f"sqlite:///{tmp_path / 'missing' / 'dir' / 'bot.db'}"))
    assert line.startswith("error: cannot use the database: unable to open database file")


def test_demo_with_a_missing_inquiries_file_says_so(tmp_path: Path) -> None:
    line = _one_line(_borgerbot(tmp_path, "demo", "--inquiries", "nope.jsonl"))
    assert "nope.jsonl: no such file" in line


def test_demo_skips_a_bad_line_and_names_its_number(tmp_path: Path) -> None:
    feed = tmp_path / "in.jsonl"
    feed.write_text('{"text": "Hvornår kommer storskrald?", "platform": "facebook", "kind": "comment"}\n'
                    "{not json\n", "utf-8")
    result = _borgerbot(tmp_path, "demo", "--inquiries", str(feed))
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert f"{feed}:2: skipped, not valid JSON" in result.stderr


def test_journal_export_with_reversed_dates_says_so(tmp_path: Path) -> None:
    line = _one_line(_borgerbot(tmp_path, "journal", "export", "--from", "2026-03-10",
                                "--to", "2026-03-01", "--out", str(tmp_path)))
    assert "--from 2026-03-10 is after --to 2026-03-01" in line


def test_resuming_an_account_that_is_not_configured_says_so(tmp_path: Path) -> None:
    line = _one_line(_borgerbot(tmp_path, "accounts", "resume", "facebook", "999"))
    assert "facebook/999 is not an account in the rules file" in line


def test_poll_loop_does_not_pretend_to_exist(tmp_path: Path) -> None:
    assert _borgerbot(tmp_path, "poll", "--loop").returncode == 2


def test_a_secret_with_a_trailing_newline_is_stripped(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.settings import load_settings

    monkeypatch.setenv("BORGERBOT_SLACK_SIGNING_SECRET", "s3cret\n")
    secret = load_settings().slack_signing_secret
    assert secret is not None and secret.get_secret_value() == "s3cret"


def test_a_secret_with_whitespace_inside_is_refused_naming_the_variable(tmp_path: Path) -> None:
    result = _borgerbot(tmp_path, "run", BORGERBOT_SLACK_BOT_TOKEN="xoxb-a b")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "BORGERBOT_SLACK_BOT_TOKEN: Value error, contains spaces" in result.stderr


def test_a_platform_token_is_read_from_dotenv_and_stripped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.accounts import token_environment

    monkeypatch.delenv("FB_TOKEN", raising=False)
    (tmp_path / ".env").write_text("FB_TOKEN=page-token \n", "utf-8")
    from bot.accounts import clean_secret

    assert clean_secret("FB_TOKEN", token_environment(tmp_path / ".env")["FB_TOKEN"]) == "page-token"
