"""`borgerbot demo`: the whole product on the sandboxes, as a person running it would see it."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from bot.cli import app
from bot.demo.run import run_demo
from tests.conftest import RULES_FILE


def _write(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    return path


def test_the_scripted_day_answers_most_and_escalates_what_was_left() -> None:
    lines: list[str] = []
    result = run_demo(str(RULES_FILE), lines.append)
    summary = result["summary"]
    assert summary["posted_to_chat"] == summary["inquiries"] == 12
    assert summary["answered"] >= 8
    assert summary["escalations"] >= 1
    assert summary["reminders"] >= 1
    assert any("DEADLINE MISSED" in line for line in lines)


def test_every_answer_in_the_summary_is_really_on_its_platform() -> None:
    result = run_demo(str(RULES_FILE), lambda _line: None)
    answered = [row for row in result["inquiries"] if row["reply"]]
    assert len(answered) == result["summary"]["answered"]
    assert all(row["reply"]["text"] for row in answered)


def test_fed_inquiries_are_all_posted_and_answered_even_when_empty_huge_or_hostile(tmp_path: Path) -> None:
    records = [
        {"id": "empty", "platform": "facebook", "kind": "message", "text": ""},
        {"id": "huge", "platform": "facebook", "kind": "comment", "post_text": "Storskrald",
         "text": "storskrald " * 5000},
        {"id": "hostile", "platform": "instagram", "kind": "comment", "post_text": "<!here>",
         "text": "<!channel> <@U0KOMM001> <https://evil.example|MitID> 010190-1234 &amp; *fed*"},
        {"id": "thanks", "platform": "x", "kind": "mention", "text": "Tak for hjælpen 🙏"},
    ]
    result = run_demo(str(RULES_FILE), lambda _line: None, inquiries=_write(tmp_path / "in.jsonl", records))
    rows = {row["id"]: row for row in result["inquiries"]}
    assert set(rows) == {"empty", "huge", "hostile", "thanks"}
    assert all(row["posted"] for row in rows.values())
    posted = json.dumps(rows["hostile"]["posted"], ensure_ascii=False)
    assert "<!channel>" not in posted and "<@U0KOMM001>" not in posted and "<https://evil" not in posted
    assert "010190-1234" not in posted
    needing = [row for row in rows.values() if not row["no_reply_needed"]]
    assert all(row["reply"] and row["reply"]["text"] for row in needing)


def test_the_report_option_writes_one_json_object_with_each_inquirys_whole_path(tmp_path: Path) -> None:
    source = _write(tmp_path / "in.jsonl", [
        {"id": "a1", "platform": "facebook", "kind": "comment", "post_text": "Storskrald",
         "text": "Hvornår henter I storskrald på min vej?"},
    ])
    report = tmp_path / "out.json"
    outcome = CliRunner().invoke(app, ["demo", "--inquiries", str(source), "--report", str(report),
                                       "--rules", str(RULES_FILE)])
    assert outcome.exit_code == 0, outcome.output
    data = json.loads(report.read_text(encoding="utf-8"))
    row = data["inquiries"][0]
    assert set(row) >= {"id", "route", "urgent", "no_reply_needed", "deadline", "channel",
                        "posted", "reminders", "reply"}
    assert set(row["posted"]) == {"text", "blocks"}
    assert set(row["reply"]) >= {"text", "external_id", "approved_by", "at"}
    assert row["route"] == "affald"
    assert "summary" in data


def test_many_x_mentions_asking_the_same_are_all_answered_and_the_report_says_how_each_ended(
        tmp_path: Path) -> None:
    """X refuses a post identical to one the account already made; answers written from the
    greeting with the citizen's first name and worded afresh each reach their citizen."""
    records = [{"id": f"x{n}", "platform": "x", "kind": "mention", "text": "Hvornår kommer skraldebilen?"}
               for n in range(6)]
    result = run_demo(str(RULES_FILE), lambda _line: None, inquiries=_write(tmp_path / "in.jsonl", records))
    rows = result["inquiries"]
    assert [(row["state"], row["send_failure"]) for row in rows] == [("answered", None)] * 6
    assert result["summary"]["unanswered_needing_reply"] == 0
