"""`borgerbot journal export`: what the municipality must journalise, for a period.

borgerbot is not the journal; the ESDH system is (domain.md §4). The export gives staff
one record per inquiry to file there, in CSV for people and JSON for import tools: the
§ 15 subject line, the exchange (citizen text with CPR numbers masked, the reply as sent),
the route and why, who approved it, the times in Danish and UTC, and any moderation with
its reason. Drafts are left out: only what was received or sent is a document.

Once staff have filed an inquiry they enter its ESDH case number (`mark_journalised`),
which starts its retention period (`bot.retention`).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_
from sqlmodel import Session, col, select

from bot import texts
from bot.errors import BorgerbotError
from bot.models import Decision, Event, Inquiry, Reply, ReplyState
from bot.privacy import mask_cpr
from bot.rules import RuleSet
from bot.store import Store

MODERATION_ACTIONS = ("hidden", "unhidden")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""Cell starts a spreadsheet would run as a formula (OWASP CSV injection)."""
FIELDS = (
    "inquiry_id", "subject", "platform", "kind", "permalink", "post_id",
    "received_local", "received_utc", "answered_local", "answered_utc", "author_name", "author_id",
    "text", "route", "route_name", "routing_reasons", "urgent", "journal_required", "state",
    "reply_text", "approved_by", "reply_external_id", "moderation", "case_number",
)
"""The record's keys, in column order; JSON and CSV hold the same ones."""


def export(
    store: Store,
    start: date,
    end: date,
    out_dir: Path,
    *,
    rules: RuleSet | None = None,
    tz: str = texts.DEFAULT_TIMEZONE,
) -> tuple[Path, Path]:
    """Write journal_START_END.csv and .json for inquiries received from `start` to `end`,
    both whole local days included; returns the two paths (CSV first)."""
    zone = ZoneInfo(tz)
    since = datetime.combine(start, time(), zone)
    until = datetime.combine(end + timedelta(days=1), time(), zone)
    in_period = and_(col(Inquiry.received_at) >= since, col(Inquiry.received_at) < until)
    with store.session() as session:
        records = [_record(i, r, d, m, rules, zone) for i, r, d, m in _history(session, in_period)]
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / f"journal_{start.isoformat()}_{end.isoformat()}"
    csv_path, json_path = stem.with_suffix(".csv"), stem.with_suffix(".json")
    csv_path.write_text(_csv(records), encoding="utf-8-sig")  # the BOM makes Excel read æøå
    json_path.write_text(json.dumps(records, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return csv_path, json_path


def mark_journalised(store: Store, inquiry_id: int, case_number: str, actor: str, now: datetime) -> None:
    """Staff filed the inquiry in ESDH under `case_number`: keep it and start retention.
    Entering the same number again changes nothing; a different one is recorded as a correction."""
    number = case_number.strip()
    if not number:
        raise BorgerbotError("an ESDH case number is needed to mark an inquiry journalised")
    with store.session() as session:
        inquiry = session.get(Inquiry, inquiry_id)
        if inquiry is None:
            raise BorgerbotError(f"inquiry {inquiry_id} does not exist")
        if inquiry.case_number == number:
            return
        inquiry.case_number, inquiry.journalised_at = number, now
        session.add(inquiry)
        store.record(session, "journalised", actor=actor, inquiry_id=inquiry_id, at=now, case_number=number)


_History = tuple[Inquiry, Reply | None, Decision | None, list[Event]]


def _history(session: Session, in_period: ColumnElement[bool]) -> list[_History]:
    """Each inquiry with its sent reply, the approving decision and its moderation events,
    read in three joined queries rather than three per inquiry."""
    inquiries = session.exec(
        select(Inquiry).where(in_period).order_by(col(Inquiry.received_at), col(Inquiry.id))
    ).all()
    sent = session.exec(
        select(Reply, Decision)
        .join(Decision, col(Decision.id) == col(Reply.decision_id))
        .join(Inquiry, col(Inquiry.id) == col(Reply.inquiry_id))
        .where(in_period, col(Reply.state) == ReplyState.SENT)
        .order_by(col(Reply.id))
    ).all()
    replies = {reply.inquiry_id: (reply, decision) for reply, decision in sent}  # the newest wins
    moderation: dict[int, list[Event]] = {}
    for event in session.exec(
        select(Event)
        .join(Inquiry, col(Inquiry.id) == col(Event.inquiry_id))
        .where(in_period, col(Event.action).in_(MODERATION_ACTIONS))
        .order_by(col(Event.id))
    ).all():
        moderation.setdefault(event.inquiry_id or 0, []).append(event)
    return [
        (i, *replies.get(i.id or 0, (None, None)), moderation.get(i.id or 0, [])) for i in inquiries
    ]


def _record(
    inquiry: Inquiry,
    reply: Reply | None,
    decision: Decision | None,
    moderation: Sequence[Event],
    rules: RuleSet | None,
    zone: ZoneInfo,
) -> dict[str, Any]:
    route_name = rules.name_of(inquiry.route) if rules and inquiry.route in rules.route_ids else inquiry.route
    return {
        "inquiry_id": inquiry.id,
        "subject": f"{route_name} – {texts.kind_label(inquiry.platform, inquiry.kind.value)}",
        "platform": inquiry.platform,
        "kind": inquiry.kind.value,
        "permalink": inquiry.permalink or "",
        "post_id": inquiry.post_id or "",
        **_times("received", inquiry.received_at, zone),
        **_times("answered", inquiry.answered_at, zone),
        "author_name": inquiry.author_name,
        "author_id": inquiry.author_id,
        "text": mask_cpr(inquiry.text),
        "route": inquiry.route,
        "route_name": route_name,
        "routing_reasons": [mask_cpr(reason) for reason in inquiry.routing_reasons],
        "urgent": inquiry.urgent,
        "journal_required": inquiry.journal_required,
        "state": inquiry.state.value,
        "reply_text": mask_cpr(reply.text) if reply else "",
        "approved_by": decision.decided_by if decision else "",
        "reply_external_id": inquiry.reply_external_id or "",
        "moderation": [
            {"action": e.action, "by": e.actor, **_times("at", e.at, zone),
             "reason": mask_cpr(str(e.detail.get("reason", "")))}
            for e in moderation
        ],
        "case_number": inquiry.case_number or "",
    }


def _times(name: str, moment: datetime | None, zone: ZoneInfo) -> dict[str, str]:
    """The same instant twice: as Danish staff read it, and in UTC for systems."""
    if moment is None:
        return {f"{name}_local": "", f"{name}_utc": ""}
    return {
        f"{name}_local": moment.astimezone(zone).isoformat(timespec="seconds"),
        f"{name}_utc": moment.astimezone(UTC).isoformat(timespec="seconds"),
    }


def _csv(records: Sequence[dict[str, Any]]) -> str:
    """One row per record; lists become one cell; every cell is safe to open in a spreadsheet."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=FIELDS)  # a record with another key raises
    writer.writeheader()
    for record in records:
        writer.writerow({key: _cell(value) for key, value in record.items()})
    return buffer.getvalue()


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        text = "ja" if value else "nej"
    elif isinstance(value, list):
        text = " | ".join(_flat(item) for item in value)
    else:
        text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _flat(item: Any) -> str:
    """A moderation action in one line: "2026-05-13T15:00:00+02:00 hidden U123 spam"."""
    if isinstance(item, dict):
        return " ".join(str(item[k]) for k in ("at_local", "action", "by", "reason") if item.get(k))
    return str(item)
