"""Deadlines in action: reminders and escalations as people see them in Slack.

The assembled product runs on loopback with a stepped clock; a sweep runs every few
simulated minutes, exactly as the scheduler would, and every assertion reads what landed
in the fake Slack: which channel or thread, when on the bot's clock, and whom it mentions.
Reference week: Monday 2 March 2026, Copenhagen on winter time (UTC+1), office 08-16
Monday to Thursday and 08-13 on Friday; a public comment has four business hours.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot import texts
from bot.assembly import build_workflow
from bot.demo.clock import SteppedClock
from bot.demo.world import OFFICERS, SandboxWorld, specialist_for
from bot.models import Inquiry, Reminder
from bot.reminders import sweep
from bot.store import open_store
from tests.conftest import RULES_FILE

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
QUESTION = "Hvornår bliver mit storskrald hentet? Sofaen står stadig ude ved fortovet."
URGENT = "Der er gaslugt i opgangen på Hyldagerparken, hvad skal vi gøre?"
THANKS = "Tusind tak for en flot indsats 👏"
DRAFT = "Hej, vi henter storskraldet på torsdag. Venlig hilsen Affald og genbrug"
WASTE_GROUP = "S0AFFALD01"
OFFICER_GROUP = "S0KOMM0001"
OFFICER = OFFICERS[0]
COMMS = "borgerbot-kommunikation"
APPROVAL = "borgerbot-godkendelse"


def local(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    """A Copenhagen wall time as the aware UTC instant the bot works in."""
    return datetime(year, month, day, hour, minute, tzinfo=COPENHAGEN).astimezone(UTC)


MONDAY_9 = local(2026, 3, 2, 9, 0)


@dataclass(frozen=True)
class Posted:
    """One message the bot posted during a sweep, as a person would find it."""

    at: datetime
    channel: str
    thread: str | None
    text: str


@pytest.fixture
def clock() -> SteppedClock:
    return SteppedClock(MONDAY_9)


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    """The shipped rules, with Slack user groups for the waste department and the unit."""
    rules = RULES_FILE.read_text(encoding="utf-8")
    channel = '    channel: "#borgerbot-affald"\n'
    rules = rules.replace(channel, f"{channel}    group: {WASTE_GROUP}\n")
    rules = rules.replace("  # officer_group: S0123ABCD", f"  officer_group: {OFFICER_GROUP}")
    path = tmp_path / "routing_rules.yaml"
    path.write_text(rules, encoding="utf-8")
    return path


@pytest.fixture
def timed(tmp_path: Path, clock: SteppedClock, rules_file: Path) -> Iterator[SandboxWorld]:
    """The whole product on loopback, on a clock that moves only when a test moves it."""
    sandbox = SandboxWorld(f"sqlite:///{tmp_path / 'world.db'}", rules_file, clock=clock)
    sandbox.slack.add_usergroup(OFFICER_GROUP, OFFICERS)
    yield sandbox
    sandbox.close()


def messages(world: SandboxWorld) -> dict[tuple[str, str], dict[str, Any]]:
    """Every message in every channel and thread, keyed by (channel id, ts)."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for channel in world.slack.workspace.channels:
        for top in world.slack.history(channel):
            found[(channel, top["ts"])] = top
            found.update({(channel, reply["ts"]): reply for reply in world.slack.thread(channel, top["ts"])})
    return found


def run_until(world: SandboxWorld, clock: SteppedClock, end: datetime,
              step: timedelta = timedelta(minutes=5), sweeps: Any = None) -> list[Posted]:
    """Sweep every `step` of bot time up to `end` (inclusive); what each sweep posted, in order."""
    run = sweeps or (lambda: world.sweep())
    seen = messages(world)
    posted: list[Posted] = []
    while clock() < end:
        clock.advance(min(step, end - clock()))
        run()
        now = messages(world)
        for key in sorted(now.keys() - seen.keys(), key=lambda k: now[k]["ts"]):
            message = now[key]
            name = world.slack.workspace.channels[key[0]].name
            posted.append(Posted(clock(), name, message.get("thread_ts"), str(message.get("text", ""))))
        seen = now
    return posted


def card_thread(world: SandboxWorld, inquiry: Inquiry) -> tuple[str, str]:
    """(channel name, thread ts) of the inquiry's department card."""
    channel, ts = world.message_of(inquiry.id or 0)
    return world.slack.workspace.channels[channel].name, ts


def reminders_in(posted: list[Posted]) -> list[Posted]:
    return [p for p in posted if "⏰" in p.text]


def write(world: SandboxWorld, text: str = QUESTION, **record: str) -> Inquiry:
    return world.citizen_writes({"platform": "facebook", "kind": "comment", "text": text, **record})


# --- when and where -------------------------------------------------------------------------


def test_reminders_fall_at_half_and_four_fifths_of_the_window_then_the_escalation(
    timed: SandboxWorld, clock: SteppedClock
) -> None:
    write(timed)
    posted = run_until(timed, clock, local(2026, 3, 2, 14, 0))
    assert [p.at for p in reminders_in(posted)] == [local(2026, 3, 2, 11, 0), local(2026, 3, 2, 12, 15)]
    assert [p.at for p in posted if p.text.startswith("🚨") and p.thread is None] == [
        local(2026, 3, 2, 13, 0)]


def test_a_reminder_lands_in_the_card_thread_and_mentions_the_departments_group(
    timed: SandboxWorld, clock: SteppedClock
) -> None:
    inquiry = write(timed)
    first = reminders_in(run_until(timed, clock, local(2026, 3, 2, 11, 0)))
    assert [(p.channel, p.thread) for p in first] == [card_thread(timed, inquiry)]
    assert first[0].text.startswith(f"<!subteam^{WASTE_GROUP}> ⏰ Påmindelse")
    assert "Svar senest mandag kl. 13.00 (om 2 t)" in first[0].text


def test_after_a_rejected_draft_the_reminder_mentions_the_drafter(
    timed: SandboxWorld, clock: SteppedClock
) -> None:
    inquiry = write(timed)
    timed.reply_in_thread(specialist_for(inquiry.route), inquiry.id or 0, DRAFT)
    timed.click(OFFICER, inquiry.id or 0, "reject", on="approval")
    timed.submit_modal(OFFICER, "reject_modal", "Nævn gerne at sofaen skal stå ved skel.")
    first = reminders_in(run_until(timed, clock, local(2026, 3, 2, 11, 0)))
    assert first[0].thread == card_thread(timed, inquiry)[1]
    assert first[0].text.startswith(f"<@{specialist_for('affald')}> ⏰")


def test_while_a_draft_awaits_approval_the_reminder_goes_to_the_approval_thread(
    timed: SandboxWorld, clock: SteppedClock
) -> None:
    inquiry = write(timed)
    clock.advance(timedelta(minutes=90))
    timed.reply_in_thread(specialist_for(inquiry.route), inquiry.id or 0, DRAFT)
    first = reminders_in(run_until(timed, clock, local(2026, 3, 2, 11, 0)))
    _, approval_ts = timed.message_of(inquiry.id or 0, "approval")
    assert [(p.channel, p.thread) for p in first] == [(APPROVAL, approval_ts)]
    assert first[0].text.startswith(f"<!subteam^{OFFICER_GROUP}> ⏰ Udkastet fra")
    assert f"<@{specialist_for('affald')}>" in first[0].text
    assert "Svar senest mandag kl. 13.00 (om 2 t)" in first[0].text


def test_the_escalation_goes_to_the_communication_unit_with_a_link_to_the_card(
    timed: SandboxWorld, clock: SteppedClock
) -> None:
    inquiry = write(timed)
    posted = run_until(timed, clock, local(2026, 3, 2, 13, 0))
    channel, ts = timed.message_of(inquiry.id or 0)
    escalations = [p for p in posted if p.channel == COMMS]
    assert len(escalations) == 1 and escalations[0].thread is None
    assert "Svarfristen er overskredet" in escalations[0].text
    assert f"/{channel}/p{ts.replace('.', '')}" in escalations[0].text
    assert "Affald" in escalations[0].text


def test_the_card_thread_is_told_the_deadline_was_missed(
    timed: SandboxWorld, clock: SteppedClock
) -> None:
    inquiry = write(timed)
    posted = run_until(timed, clock, local(2026, 3, 2, 13, 0))
    in_thread = [p.text for p in posted if (p.channel, p.thread) == card_thread(timed, inquiry)]
    assert in_thread[-1].startswith("🚨 Svarfristen er overskredet (mandag kl. 13.00)")


def test_reminders_over_a_weekend_land_when_the_office_is_open(
    timed: SandboxWorld, clock: SteppedClock
) -> None:
    clock.advance(local(2026, 3, 6, 12, 0) - clock())  # Friday, one hour before closing
    write(timed)
    posted = run_until(timed, clock, local(2026, 3, 9, 12, 0), step=timedelta(minutes=15))
    assert [p.at for p in reminders_in(posted)] == [local(2026, 3, 9, 9, 0), local(2026, 3, 9, 10, 15)]
    assert [p.at for p in posted if p.channel == COMMS] == [local(2026, 3, 9, 11, 0)]


def test_an_evening_inquiry_is_first_reminded_the_next_morning(
    timed: SandboxWorld, clock: SteppedClock
) -> None:
    clock.advance(local(2026, 3, 2, 19, 30) - clock())
    write(timed)
    posted = run_until(timed, clock, local(2026, 3, 3, 12, 0), step=timedelta(minutes=15))
    assert [p.at for p in reminders_in(posted)] == [local(2026, 3, 3, 10, 0), local(2026, 3, 3, 11, 15)]


def test_an_urgent_inquiry_runs_its_thirty_minute_ladder_through_the_night(
    timed: SandboxWorld, clock: SteppedClock
) -> None:
    clock.advance(local(2026, 3, 7, 2, 0) - clock())  # Saturday night
    inquiry = write(timed, URGENT)
    assert inquiry.urgent
    posted = run_until(timed, clock, local(2026, 3, 7, 3, 0), step=timedelta(minutes=1))
    assert [p.at for p in reminders_in(posted)] == [local(2026, 3, 7, 2, 15), local(2026, 3, 7, 2, 24)]
    assert [p.at for p in posted if p.channel == COMMS] == [local(2026, 3, 7, 2, 30)]


# --- once, and never when nothing is owed ---------------------------------------------------


def test_each_reminder_is_sent_once_however_often_the_sweep_runs(
    timed: SandboxWorld, clock: SteppedClock
) -> None:
    write(timed)
    posted = run_until(timed, clock, local(2026, 3, 2, 14, 0), step=timedelta(minutes=1),
                       sweeps=lambda: (timed.sweep(), timed.sweep()))
    assert len(reminders_in(posted)) == 2
    assert len([p for p in posted if p.channel == COMMS]) == 1


def test_an_inquiry_answered_just_before_a_reminder_gets_none(
    timed: SandboxWorld, clock: SteppedClock
) -> None:
    inquiry = write(timed)
    clock.advance(local(2026, 3, 2, 10, 50) - clock())
    timed.reply_in_thread(specialist_for(inquiry.route), inquiry.id or 0, DRAFT)
    clock.advance(timedelta(minutes=9))
    timed.click(OFFICER, inquiry.id or 0, "approve", on="approval")
    assert run_until(timed, clock, local(2026, 3, 3, 16, 0), step=timedelta(minutes=15)) == []


def test_an_inquiry_closed_without_reply_never_reminds(
    timed: SandboxWorld, clock: SteppedClock
) -> None:
    inquiry = write(timed)
    timed.click(OFFICER, inquiry.id or 0, "no_reply")
    assert run_until(timed, clock, local(2026, 3, 3, 16, 0), step=timedelta(minutes=15)) == []


def test_an_inquiry_that_needs_no_reply_never_reminds(
    timed: SandboxWorld, clock: SteppedClock
) -> None:
    inquiry = write(timed, THANKS)
    assert inquiry.no_reply_needed and inquiry.deadline_at is None
    assert run_until(timed, clock, local(2026, 3, 4, 16, 0), step=timedelta(minutes=30)) == []


def test_a_moved_inquiry_keeps_its_deadline_and_reminds_in_its_new_thread(
    timed: SandboxWorld, clock: SteppedClock
) -> None:
    inquiry = write(timed)
    clock.advance(timedelta(minutes=30))
    timed.click(OFFICER, inquiry.id or 0, "move", option="vej_park")
    timed.submit_modal(OFFICER, "move_modal", "Det handler om fortovet")
    moved = timed.inquiry(inquiry.id or 0)
    posted = run_until(timed, clock, local(2026, 3, 2, 13, 0))
    assert moved.route == "vej_park" and moved.deadline_at == inquiry.deadline_at
    assert [(p.at, p.channel, p.thread) for p in reminders_in(posted)] == [
        (local(2026, 3, 2, 11, 0), *card_thread(timed, moved)),
        (local(2026, 3, 2, 12, 15), *card_thread(timed, moved)),
    ]
    assert not any(WASTE_GROUP in p.text for p in posted)


def test_after_a_move_the_old_departments_drafter_is_not_reminded(
    timed: SandboxWorld, clock: SteppedClock
) -> None:
    inquiry = write(timed)
    timed.reply_in_thread(specialist_for(inquiry.route), inquiry.id or 0, DRAFT)
    timed.click(OFFICER, inquiry.id or 0, "move", option="vej_park")
    timed.submit_modal(OFFICER, "move_modal", "Det handler om fortovet")
    first = reminders_in(run_until(timed, clock, local(2026, 3, 2, 11, 0)))
    assert [(p.channel, p.thread) for p in first] == [card_thread(timed, timed.inquiry(inquiry.id or 0))]
    assert specialist_for("affald") not in first[0].text


def test_an_approved_reply_held_up_by_the_platform_is_escalated_but_not_reminded(
    timed: SandboxWorld, clock: SteppedClock
) -> None:
    inquiry = write(timed)
    timed.reply_in_thread(specialist_for(inquiry.route), inquiry.id or 0, DRAFT)
    timed.graph.fail_next(503, {"error": {"message": "Service unavailable", "code": 2}},
                          route="POST /{id}/comments", times=10_000)
    timed.click(OFFICER, inquiry.id or 0, "approve", on="approval")
    posted = run_until(timed, clock, local(2026, 3, 2, 13, 0), step=timedelta(minutes=15))
    assert timed.inquiry(inquiry.id or 0).state.value == "sending"
    assert reminders_in(posted) == []
    assert [p.at for p in posted if p.channel == COMMS] == [local(2026, 3, 2, 13, 0)]


def test_a_send_that_failed_is_reminded_to_the_unit_who_can_retry_it_not_to_the_department(
    timed: SandboxWorld, clock: SteppedClock
) -> None:
    inquiry = write(timed)
    timed.reply_in_thread(specialist_for(inquiry.route), inquiry.id or 0, DRAFT)
    timed.graph.expire_token()
    timed.click(OFFICER, inquiry.id or 0, "approve", on="approval")
    first = reminders_in(run_until(timed, clock, local(2026, 3, 2, 11, 0)))
    _, approval_ts = timed.message_of(inquiry.id or 0, "approval")
    assert [(p.channel, p.thread) for p in first] == [(APPROVAL, approval_ts)]
    assert first[0].text.startswith(f"<!subteam^{OFFICER_GROUP}> {texts.send_failed_reminder()}")


# --- restarts, downtime and outages ---------------------------------------------------------


def test_a_restart_in_the_middle_neither_repeats_nor_forgets_a_reminder(
    timed: SandboxWorld, clock: SteppedClock, tmp_path: Path
) -> None:
    write(timed)
    before = run_until(timed, clock, local(2026, 3, 2, 11, 30))
    restarted = build_workflow(
        timed.config, open_store(f"sqlite:///{tmp_path / 'world.db'}"), timed.gateway, timed.clients,
        group_members=timed.gateway.usergroup_members, clock=clock,
    )
    after = run_until(timed, clock, local(2026, 3, 2, 14, 0),
                      sweeps=lambda: sweep(restarted, clock()))
    assert [p.at for p in reminders_in(before)] == [local(2026, 3, 2, 11, 0)]
    assert [p.at for p in reminders_in(after)] == [local(2026, 3, 2, 12, 15)]
    assert [p.at for p in after if p.channel == COMMS] == [local(2026, 3, 2, 13, 0)]
    restarted.ctx.store.engine.dispose()


def test_after_downtime_only_the_latest_due_reminder_is_sent_once(
    timed: SandboxWorld, clock: SteppedClock
) -> None:
    write(timed)
    back = local(2026, 3, 2, 12, 30)
    caught_up = run_until(timed, clock, back, step=back - clock())
    later = run_until(timed, clock, local(2026, 3, 2, 12, 55))
    assert [p.at for p in reminders_in(caught_up)] == [back]
    assert later == []


def test_after_downtime_past_the_deadline_only_the_escalation_is_sent(
    timed: SandboxWorld, clock: SteppedClock
) -> None:
    write(timed)
    back = local(2026, 3, 2, 13, 30)
    caught_up = run_until(timed, clock, back, step=back - clock())
    assert reminders_in(caught_up) == []
    assert [p.at for p in caught_up if p.channel == COMMS] == [back]


def test_a_reminder_claimed_by_a_process_that_died_is_sent_once_its_claim_runs_out(
    timed: SandboxWorld, clock: SteppedClock
) -> None:
    inquiry = write(timed)
    clock.advance(local(2026, 3, 2, 11, 0) - clock())
    with timed.store.session() as session:
        session.add(Reminder(inquiry_id=inquiry.id or 0, kind="reminder_50", due_at=clock(),
                             claimed_until=clock() + timedelta(minutes=2)))
    posted = run_until(timed, clock, local(2026, 3, 2, 11, 10), step=timedelta(minutes=1))
    assert [p.at for p in reminders_in(posted)] == [local(2026, 3, 2, 11, 2)]


def test_a_chat_outage_delays_a_reminder_but_does_not_lose_it(
    timed: SandboxWorld, clock: SteppedClock
) -> None:
    write(timed)
    clock.advance(local(2026, 3, 2, 10, 55) - clock())
    timed.slack.fail_next("chat.postMessage", "internal_error", times=1)
    posted = run_until(timed, clock, local(2026, 3, 2, 11, 10))
    assert [p.at for p in reminders_in(posted)] == [local(2026, 3, 2, 11, 5)]
