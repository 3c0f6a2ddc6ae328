"""Retention: personal data goes when its period has run out; statistics and the audit trail stay."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select
from typer.testing import CliRunner

from bot.cli import app
from bot.errors import ConfigError
from bot.journal import mark_journalised
from bot.models import Decision, Draft, Event, Inquiry, InquiryState, Reply, utcnow
from bot.retention import RetentionPolicy, purge, retention_from_config
from bot.store import Store
from bot.yaml_lines import compose_document
from tests.conftest import RULES_FILE
from tests.history_support import OFFICER, RECEIVED, settled_inquiry

POLICY = RetentionPolicy()


def days_after_receipt(days: int) -> datetime:
    return RECEIVED + timedelta(days=days)


def _inquiry(store: Store, inquiry_id: int) -> Inquiry:
    with store.session() as session:
        found = session.get(Inquiry, inquiry_id)
    assert found is not None
    return found


def _events(store: Store, inquiry_id: int) -> list[Event]:
    with store.session() as session:
        return list(session.exec(select(Event).where(Event.inquiry_id == inquiry_id).order_by(col(Event.id))))


def _is_anonymised(store: Store, inquiry_id: int) -> bool:
    return _inquiry(store, inquiry_id).text == ""


def test_an_answered_inquiry_loses_the_citizens_name_id_and_words_after_90_days(store: Store) -> None:
    inquiry_id = settled_inquiry(store)
    purge(store, days_after_receipt(91), POLICY)
    inquiry = _inquiry(store, inquiry_id)
    assert (inquiry.author_name, inquiry.author_id, inquiry.text) == ("", "", "")
    assert (inquiry.post_text, inquiry.permalink, inquiry.conversation_id, inquiry.reply_target) == (
        None, None, None, {})


def test_drafts_decisions_and_the_sent_reply_lose_their_texts(store: Store) -> None:
    inquiry_id = settled_inquiry(store)
    purge(store, days_after_receipt(91), POLICY)
    with store.session() as session:
        texts = [row.text for model in (Draft, Decision, Reply)
                 for row in session.exec(select(model).where(model.inquiry_id == inquiry_id))]
        comments = [d.comment for d in session.exec(select(Decision))]
    assert texts == ["", "", ""]
    assert comments == [""]


def test_statistics_and_who_approved_survive(store: Store) -> None:
    inquiry_id = settled_inquiry(store)
    purge(store, days_after_receipt(91), POLICY)
    inquiry = _inquiry(store, inquiry_id)
    assert (inquiry.route, inquiry.platform, inquiry.kind.value, inquiry.state) == (
        "affald", "facebook", "comment", InquiryState.ANSWERED)
    assert inquiry.received_at == RECEIVED
    assert inquiry.answered_at == RECEIVED + timedelta(hours=2)
    assert inquiry.external_id == "111_222"  # a re-polled comment is still recognised
    with store.session() as session:
        assert session.exec(select(Decision.decided_by)).all() == [OFFICER]


def test_the_hide_snapshot_goes_but_who_hid_it_when_and_why_stays(store: Store) -> None:
    inquiry_id = settled_inquiry(store, hidden_after=timedelta(hours=1))
    purge(store, days_after_receipt(400), POLICY)
    hidden = next(e for e in _events(store, inquiry_id) if e.action == "hidden")
    assert (hidden.actor, hidden.at, hidden.detail) == (
        OFFICER, RECEIVED + timedelta(hours=1), {"reason": "personal_data"})


def test_no_event_keeps_a_link_to_the_citizens_comment(store: Store) -> None:
    inquiry_id = settled_inquiry(store)
    purge(store, days_after_receipt(91), POLICY)
    assert all("permalink" not in event.detail for event in _events(store, inquiry_id))


def test_an_inquiry_is_kept_until_its_90_days_have_run_out(store: Store) -> None:
    inquiry_id = settled_inquiry(store)
    outcome = purge(store, days_after_receipt(90), POLICY)
    assert outcome.anonymised == ()
    assert not _is_anonymised(store, inquiry_id)


def test_one_that_needed_no_reply_goes_after_30_days(store: Store) -> None:
    inquiry_id = settled_inquiry(store, state=InquiryState.CLOSED, no_reply_needed=True)
    assert purge(store, days_after_receipt(31), POLICY).anonymised == (inquiry_id,)


def test_one_closed_as_spam_goes_after_30_days(store: Store) -> None:
    inquiry_id = settled_inquiry(store, state=InquiryState.CLOSED, close_reason="spam")
    assert purge(store, days_after_receipt(31), POLICY).anonymised == (inquiry_id,)


def test_one_closed_for_another_reason_waits_the_full_90_days(store: Store) -> None:
    settled_inquiry(store, state=InquiryState.CLOSED, close_reason="deleted")
    assert purge(store, days_after_receipt(31), POLICY).anonymised == ()


def test_a_journal_relevant_inquiry_is_kept_while_not_journalised(store: Store) -> None:
    inquiry_id = settled_inquiry(store, journal_required=True)
    outcome = purge(store, days_after_receipt(400), POLICY)
    assert outcome.anonymised == ()
    assert outcome.awaiting_journal == (inquiry_id,)


def test_a_journal_relevant_inquiry_is_not_reported_missing_within_14_days(store: Store) -> None:
    settled_inquiry(store, journal_required=True)
    assert purge(store, days_after_receipt(13), POLICY).awaiting_journal == ()


def test_a_journalised_inquiry_goes_30_days_after_journalisation(store: Store) -> None:
    inquiry_id = settled_inquiry(store, journal_required=True)
    mark_journalised(store, inquiry_id, "27.00.00-A00-1-26", OFFICER, days_after_receipt(100))
    assert purge(store, days_after_receipt(129), POLICY).anonymised == ()
    assert purge(store, days_after_receipt(131), POLICY).anonymised == (inquiry_id,)


def test_a_hidden_comment_is_kept_for_the_13_month_moderation_log(store: Store) -> None:
    inquiry_id = settled_inquiry(store, hidden_after=timedelta(days=1))
    assert purge(store, days_after_receipt(395), POLICY).anonymised == ()
    assert purge(store, days_after_receipt(397), POLICY).anonymised == (inquiry_id,)


def test_an_open_inquiry_is_never_touched(store: Store) -> None:
    inquiry_id = settled_inquiry(store)
    with store.session() as session:
        inquiry = session.get(Inquiry, inquiry_id)
        assert inquiry is not None
        inquiry.state = InquiryState.SEND_FAILED
        session.add(inquiry)
    purge(store, days_after_receipt(1000), POLICY)
    assert not _is_anonymised(store, inquiry_id)


def test_anonymising_is_recorded_once_by_the_system(store: Store) -> None:
    inquiry_id = settled_inquiry(store)
    purge(store, days_after_receipt(91), POLICY)
    second = purge(store, days_after_receipt(92), POLICY)
    recorded = [(e.actor, e.at, e.detail) for e in _events(store, inquiry_id) if e.action == "anonymised"]
    assert second.anonymised == ()
    assert recorded == [("system", days_after_receipt(91), {"rule": "closed"})]


def test_a_dry_run_reports_what_would_go_and_changes_nothing(store: Store) -> None:
    inquiry_id = settled_inquiry(store)
    outcome = purge(store, days_after_receipt(91), POLICY, dry_run=True)
    assert outcome.anonymised == (inquiry_id,)
    assert not _is_anonymised(store, inquiry_id)
    assert [e.action for e in _events(store, inquiry_id)].count("anonymised") == 0


def _policy(yaml_text: str) -> RetentionPolicy:
    doc = compose_document(yaml_text, "routing_rules.yaml")
    return retention_from_config(doc.data["retention"], doc.line, doc.file)


def test_a_retention_section_overrides_only_what_it_names() -> None:
    assert _policy("retention:\n  closed_days: 60\n") == RetentionPolicy(closed_days=60)


def test_no_retention_section_ships_the_domain_defaults() -> None:
    assert retention_from_config(None) == RetentionPolicy(90, 30, 30, 395, 14)


@pytest.mark.parametrize("value", ["90d", "0", "-5", "true", "2.5"])
def test_a_bad_number_of_days_is_reported_at_its_line(value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _policy(f"fallback: x\nretention:\n  closed_days: {value}\n")
    assert caught.value.render().startswith("routing_rules.yaml:3: retention.closed_days")


def test_an_unknown_key_names_the_known_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        _policy("retention:\n  close_days: 60\n")
    assert (caught.value.line, caught.value.key) == (2, "retention.close_days")
    assert "closed_days" in (caught.value.hint or "")


def test_the_retention_command_dry_run_lists_what_would_go(sqlite_store: Store, tmp_path: Path) -> None:
    inquiry_id = settled_inquiry(sqlite_store, received=utcnow() - timedelta(days=200))
    env = {"BORGERBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'borgerbot.db'}", "BORGERBOT_RULES_FILE": str(RULES_FILE)}
    result = CliRunner().invoke(app, ["retention", "run", "--dry-run"], env=env)
    assert result.exit_code == 0, result.output
    assert result.output == f"inquiries to anonymise: 1 ({inquiry_id})\n"
    assert not _is_anonymised(sqlite_store, inquiry_id)
