"""The journal export: one record per inquiry of a period, ready to file in ESDH."""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import select
from typer.testing import CliRunner

from bot.cli import app
from bot.journal import export, mark_journalised
from bot.models import Event, Inquiry, InquiryKind
from bot.rules import load_rules
from bot.store import Store, open_store
from tests.conftest import RULES_FILE
from tests.history_support import OFFICER, REPLY_TEXT, settled_inquiry

MARCH = (date(2026, 3, 1), date(2026, 3, 31))


def _export(store: Store, tmp_path: Path, period: tuple[date, date] = MARCH) -> tuple[list[dict[str, Any]], str]:
    """The JSON records and the CSV text, as staff would open them."""
    csv_path, json_path = export(store, *period, tmp_path / "out", rules=load_rules(RULES_FILE))
    return json.loads(json_path.read_text(encoding="utf-8")), csv_path.read_text(encoding="utf-8-sig")


def _rows(csv_text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(csv_text.splitlines()))


def test_the_period_is_whole_danish_days(store: Store, tmp_path: Path) -> None:
    settled_inquiry(store, external_id="before", received=datetime(2026, 2, 28, 22, 59, tzinfo=UTC))
    first = settled_inquiry(store, external_id="first", received=datetime(2026, 2, 28, 23, 0, tzinfo=UTC))
    last = settled_inquiry(store, external_id="last", received=datetime(2026, 3, 31, 21, 59, tzinfo=UTC))
    settled_inquiry(store, external_id="after", received=datetime(2026, 3, 31, 22, 0, tzinfo=UTC))
    records, _ = _export(store, tmp_path)
    assert [r["inquiry_id"] for r in records] == [first, last]


def test_the_files_are_named_after_the_period(store: Store, tmp_path: Path) -> None:
    paths = export(store, *MARCH, tmp_path)
    assert [p.name for p in paths] == ["journal_2026-03-01_2026-03-31.csv", "journal_2026-03-01_2026-03-31.json"]


def test_the_subject_line_names_the_topic_and_where_it_was_written(store: Store, tmp_path: Path) -> None:
    settled_inquiry(store)
    records, _ = _export(store, tmp_path)
    assert records[0]["subject"] == "Affald og genbrug – Kommentar på Facebook"


def test_without_rules_the_subject_names_the_route_id(store: Store, tmp_path: Path) -> None:
    settled_inquiry(store)
    _, json_path = export(store, *MARCH, tmp_path)
    assert json.loads(json_path.read_text(encoding="utf-8"))[0]["subject"] == "affald – Kommentar på Facebook"


def test_the_citizen_text_has_its_cpr_number_masked(store: Store, tmp_path: Path) -> None:
    settled_inquiry(store)
    records, csv_text = _export(store, tmp_path)
    assert records[0]["text"].endswith("Mit CPR er [CPR-nummer skjult]")
    assert "010190" not in csv_text


def test_the_record_holds_the_reply_as_sent_and_who_approved_it(store: Store, tmp_path: Path) -> None:
    settled_inquiry(store)
    record = _export(store, tmp_path)[0][0]
    assert (record["reply_text"], record["approved_by"], record["reply_external_id"]) == (
        REPLY_TEXT, OFFICER, "reply-9")


def test_drafts_are_left_out(store: Store, tmp_path: Path) -> None:
    settled_inquiry(store)
    records, csv_text = _export(store, tmp_path)
    assert "Udkast" not in json.dumps(records, ensure_ascii=False) + csv_text


def test_times_are_given_in_danish_time_and_utc(store: Store, tmp_path: Path) -> None:
    settled_inquiry(store, received=datetime(2026, 3, 30, 9, 15, tzinfo=UTC))  # summer time from 29 March
    record = _export(store, tmp_path)[0][0]
    assert (record["received_local"], record["received_utc"]) == (
        "2026-03-30T11:15:00+02:00", "2026-03-30T09:15:00+00:00")
    assert record["answered_local"] == "2026-03-30T13:15:00+02:00"


def test_moderation_actions_are_listed_with_who_and_why(store: Store, tmp_path: Path) -> None:
    settled_inquiry(store, hidden_after=timedelta(hours=1))
    records, csv_text = _export(store, tmp_path)
    assert records[0]["moderation"] == [{
        "action": "hidden", "by": OFFICER, "at_local": "2026-03-02T11:15:00+01:00",
        "at_utc": "2026-03-02T10:15:00+00:00", "reason": "personal_data",
    }]
    assert _rows(csv_text)[0]["moderation"] == f"2026-03-02T11:15:00+01:00 hidden {OFFICER} personal_data"


def test_routing_reasons_and_flags_are_included(store: Store, tmp_path: Path) -> None:
    settled_inquiry(store, journal_required=True)
    records, csv_text = _export(store, tmp_path)
    assert (records[0]["routing_reasons"], records[0]["journal_required"]) == (["affald: 'storskrald'"], True)
    assert _rows(csv_text)[0]["journal_required"] == "ja"


def test_csv_cells_that_a_spreadsheet_would_run_are_defused(store: Store, tmp_path: Path) -> None:
    hostile = ['=HYPERLINK("http://evil.example","klik")', "+45 12345678", "-2+3", "@SUM(A1)"]
    for number, text in enumerate(hostile):
        settled_inquiry(store, external_id=f"c{number}", text=text)
    records, csv_text = _export(store, tmp_path)
    assert [row["text"] for row in _rows(csv_text)] == ["'" + text for text in hostile]
    assert [r["text"] for r in records] == hostile  # JSON is data, not a spreadsheet


def test_an_empty_period_still_writes_the_column_names(store: Store, tmp_path: Path) -> None:
    records, csv_text = _export(store, tmp_path)
    assert records == []
    assert csv_text.startswith("inquiry_id,subject,platform,kind,permalink")


def test_the_esdh_case_number_is_exported_and_the_journalisation_recorded(store: Store, tmp_path: Path) -> None:
    inquiry_id = settled_inquiry(store, journal_required=True)
    mark_journalised(store, inquiry_id, " 27.00.00-A00-1-26 ", OFFICER, datetime(2026, 3, 3, tzinfo=UTC))
    assert _export(store, tmp_path)[0][0]["case_number"] == "27.00.00-A00-1-26"
    with store.session() as session:
        event = session.exec(select(Event).where(Event.action == "journalised")).one()
    assert (event.actor, event.detail) == (OFFICER, {"case_number": "27.00.00-A00-1-26"})


def test_entering_the_same_case_number_again_records_nothing_new(store: Store) -> None:
    inquiry_id = settled_inquiry(store, journal_required=True)
    for day in (3, 4):
        mark_journalised(store, inquiry_id, "27.00.00-A00-1-26", OFFICER, datetime(2026, 3, day, tzinfo=UTC))
    with store.session() as session:
        assert len(session.exec(select(Event).where(Event.action == "journalised")).all()) == 1


def test_the_export_command_writes_the_period_to_the_given_directory(sqlite_store: Store, tmp_path: Path) -> None:
    settled_inquiry(sqlite_store)
    env = {"BORGERBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'borgerbot.db'}", "BORGERBOT_RULES_FILE": str(RULES_FILE)}
    result = CliRunner().invoke(
        app, ["journal", "export", "--from", "2026-03-01", "--to", "2026-03-31", "--out", str(tmp_path / "j")], env=env
    )
    assert result.exit_code == 0, result.output
    written = json.loads((tmp_path / "j" / "journal_2026-03-01_2026-03-31.json").read_text(encoding="utf-8"))
    assert [record["reply_text"] for record in written] == [REPLY_TEXT]


def test_journal_mark_on_the_command_line_records_the_case_number(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    store = open_store(url)
    with store.session() as session:
        inquiry = Inquiry(platform="facebook", account="p", external_id="c1", kind=InquiryKind.COMMENT,
                          route="affald", text="Hvornår kommer storskrald?")
        session.add(inquiry)
        session.flush()
        inquiry_id = inquiry.id
    store.engine.dispose()
    runner = CliRunner(env={"BORGERBOT_DATABASE_URL": url})
    outcome = runner.invoke(app, ["journal", "mark", str(inquiry_id), "24.10.00-P20-1-26", "--by", "ME"])
    assert outcome.exit_code == 0, outcome.output
    store = open_store(url)
    with store.session() as session:
        stored = session.get(Inquiry, inquiry_id)
        assert stored is not None and stored.case_number == "24.10.00-P20-1-26"
    store.engine.dispose()
