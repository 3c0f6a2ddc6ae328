"""`borgerbot demo`: a working day at the model municipality, in well under two minutes.

Scripted citizens write on all four platforms, the bot polls, routes and posts cards, scripted
specialists draft in the threads and officers approve in Slack; the clock then runs on so
reminders and an escalation happen. Everything goes over loopback HTTP to the sandboxes.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from bot.chat.slack_blocks import ANSWER_CALLBACK, MOVE_CALLBACK, REJECT_CALLBACK
from bot.demo.clock import SteppedClock
from bot.demo.report import inquiry_row, summary
from bot.demo.world import OFFICERS, SandboxWorld, specialist_for
from bot.models import Event, Inquiry, InquiryState

SAMPLES = Path(__file__).with_name("samples.jsonl")
DEMO_START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # Tuesday 09:00 in Copenhagen
STEP = timedelta(minutes=15)
SETTLE_STEPS = 8  # two simulated hours for throttled replies to go out
DRAFT = "Hej\n\nTak for din henvendelse. {svar}\n\nVenlig hilsen Mette, Albertslund Kommune"
URGENT_ANSWER = ("Tak fordi du sagde det. Er der fare for liv, så ring 112. Vi har givet beredskabet "
                 "besked.\n\nVenlig hilsen Mette, Albertslund Kommune")
Echo = Callable[[str], None]


def read_inquiries(path: Path, skipped: Echo | None = None) -> list[dict[str, Any]]:
    """Records in routing-dev.jsonl format; a broken line is skipped with a note naming its
    number (to stderr unless `skipped` takes it), never fatal."""
    skipped = skipped or (lambda note: print(note, file=sys.stderr))
    records: list[dict[str, Any]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(),
                                  start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            skipped(f"{path}:{number}: skipped, not valid JSON ({exc.msg})")
            continue
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            skipped(f"{path}:{number}: skipped, each line must be a JSON object with a text")
            continue
        records.append(record)
    return records


class Demo:
    """One demo run: the world, its clock, the people, and a printed timeline."""

    def __init__(self, rules_file: str, echo: Echo, workdir: Path) -> None:
        self.clock = SteppedClock(DEMO_START)
        # A working day passes in seconds here, so Slack's per-minute method tiers (counted in
        # real time) would throttle the sweep's minute-by-minute work dozens of times over.
        self.world = SandboxWorld(f"sqlite:///{workdir / 'demo.db'}", rules_file, clock=self.clock,
                                  slack_rate_tiers=False)
        self.echo = echo
        self.zone = ZoneInfo(self.world.workflow.ctx.tz)
        self._seen_event = 0
        self.sources: dict[int, str] = {}

    def close(self) -> None:
        self.world.close()

    # --- what citizens and the bot do ---------------------------------------------------

    def citizens_write(self, records: Iterable[dict[str, Any]]) -> None:
        keys = {self.world.citizens.write(record): str(record.get("id", "")) for record in records}
        self.tick()
        with self.world.store.session() as session:
            for inquiry in session.exec(select(Inquiry)).all():
                source = keys.get((inquiry.platform, inquiry.external_id))
                if source:
                    self.sources[inquiry.id or 0] = source

    def tick(self) -> None:
        """One round of the bot's jobs at the current simulated time, then print what happened."""
        self.world.poll()
        self.world.sweep()
        self.timeline()

    def advance(self, step: timedelta) -> None:
        """Move simulated time for the bot and the platforms alike (their rate windows too)."""
        self.clock.advance(step)
        for emulator in (self.world.graph, self.world.linkedin, self.world.x):
            emulator.advance_clock(step.total_seconds())

    def run_clock(self, until: datetime) -> None:
        while self.clock() < until:
            self.advance(STEP)
            self.tick()

    def open_inquiries(self, *states: InquiryState) -> list[Inquiry]:
        with self.world.store.session() as session:
            return list(session.exec(
                select(Inquiry).where(col(Inquiry.state).in_(states)).order_by(col(Inquiry.id))
            ).all())

    # --- the printed timeline -----------------------------------------------------------

    def timeline(self) -> None:
        with self.world.store.session() as session:
            events = session.exec(
                select(Event).where(col(Event.id) > self._seen_event).order_by(col(Event.id))
            ).all()
            routes = {i.id: i.route for i in session.exec(select(Inquiry)).all()}
        for event in events:
            self._seen_event = max(self._seen_event, event.id or 0)
            line = describe(event, routes.get(event.inquiry_id or 0, ""))
            if line:
                stamp = self.clock().astimezone(self.zone).strftime("%a %H:%M")
                self.echo(f"{stamp}  #{event.inquiry_id or '-':<3} {line}")


def describe(event: Event, route: str) -> str:
    """One readable timeline line per event (ids and routes only, never citizen text)."""
    detail = event.detail
    lines = {
        "received": f"new inquiry from {event.actor.removeprefix('platform:')} -> {detail.get('route')}"
                    + (" (URGENT)" if detail.get("urgent") else ""),
        "posted": f"card posted in {route}'s channel",
        "drafted": f"{event.actor} drafted an answer in the thread",
        "approved": f"{event.actor} approved the draft",
        "edited": f"{event.actor} edited and approved",
        "rejected": f"{event.actor} rejected the draft with a comment",
        "sent": f"reply accepted by the platform (id {detail.get('external_id')})",
        "send_failed": f"reply refused by the platform ({detail.get('reason')})",
        "moved": f"{event.actor} moved it {detail.get('from_route')} -> {detail.get('to_route')}",
        "closed": f"{event.actor} closed it: no reply needed",
        "reminded": f"reminder sent ({detail.get('kind')})",
        "escalated": "DEADLINE MISSED: escalated to the communication unit",
        "refused": f"{event.actor} was refused: {detail.get('attempted')} needs the communication unit",
        "answered_on_platform": "answered directly on the platform",
    }
    return lines.get(event.action, "")


def scripted_day(demo: Demo, records: list[dict[str, Any]]) -> None:
    """A day in short: an urgent case answered at once, drafts approved, one rejected and
    redone, one moved, a refused click, thanks closed, and two inquiries left to run late."""
    echo, world = demo.echo, demo.world
    echo("== 09:00 citizens write on Facebook, Instagram, LinkedIn and X")
    demo.citizens_write(records)
    posted = demo.open_inquiries(InquiryState.POSTED)
    urgent = [i for i in posted if i.urgent]
    quiet = [i for i in posted if i.no_reply_needed and not i.urgent]
    normal = [i for i in posted if not i.urgent and not i.no_reply_needed]
    late, rest = normal[-2:], normal[:-2]
    echo("== 09:05 the communication unit answers the urgent case itself")
    demo.advance(timedelta(minutes=5))
    for inquiry in urgent:
        world.click(OFFICERS[0], inquiry.id or 0, "answer")
        world.submit_modal(OFFICERS[0], ANSWER_CALLBACK, URGENT_ANSWER)
    demo.tick()
    echo("== 09:30 specialists draft answers in their threads")
    demo.advance(timedelta(minutes=25))
    for inquiry in rest:
        world.reply_in_thread(specialist_for(inquiry.route), inquiry.id or 0,
                              DRAFT.format(svar="Vi har set på din sag, og ..."))
    demo.tick()
    echo("== 10:00 the communication unit reviews the drafts")
    demo.advance(timedelta(minutes=30))
    drafted = demo.open_inquiries(InquiryState.DRAFTED)
    if drafted:
        first = drafted[0]
        world.click(specialist_for(first.route), first.id or 0, "approve", on="approval")
        world.click(OFFICERS[1], first.id or 0, "reject", on="approval")
        world.submit_modal(OFFICERS[1], REJECT_CALLBACK, "Skriv venligst, hvornår borgeren kan forvente svar.")
    for inquiry in drafted[1:]:
        world.click(OFFICERS[0], inquiry.id or 0, "approve", on="approval")
    for inquiry in quiet:
        world.click(OFFICERS[0], inquiry.id or 0, "no_reply")
    if late:
        world.click(OFFICERS[0], late[0].id or 0, "move", option=_another_route(demo, late[0].route))
        world.submit_modal(OFFICERS[0], MOVE_CALLBACK, "Forkert afdeling")
    demo.tick()
    if drafted:
        echo("== 10:30 the specialist redrafts the rejected answer")
        demo.advance(timedelta(minutes=30))
        world.reply_in_thread(specialist_for(drafted[0].route), drafted[0].id or 0,
                              DRAFT.format(svar="Du hører fra os inden fredag."))
        world.click(OFFICERS[0], drafted[0].id or 0, "approve", on="approval")
        demo.tick()
    echo("== the day goes on; two inquiries are not picked up in time")
    if late:
        with demo.world.store.session() as session:
            deadlines = [session.get(Inquiry, i.id).deadline_at for i in late]  # type: ignore[union-attr]
        demo.run_clock(max(d or demo.clock() for d in deadlines) + STEP)


def _another_route(demo: Demo, route: str) -> str:
    """Where the scripted officer moves a misrouted inquiry: the fallback, or the first route."""
    rules = demo.world.config.rules
    return rules.fallback if route != rules.fallback else rules.route_ids[0]


def run_demo(rules_file: str, echo: Echo, *, inquiries: Path | None = None,
             report: Path | None = None, skipped: Echo | None = None) -> dict[str, Any]:
    """Run the demo; with `inquiries`, every inquiry needing an answer is drafted and approved."""
    with tempfile.TemporaryDirectory(prefix="borgerbot-demo-") as workdir:
        demo = Demo(rules_file, echo, Path(workdir))
        try:
            records = read_inquiries(inquiries or SAMPLES, skipped or echo)
            if inquiries is None:
                scripted_day(demo, records)
            else:
                answer_everything(demo, records)
            rows = [inquiry_row(demo.world, inquiry, demo.sources.get(inquiry.id or 0))
                    for inquiry in _all(demo)]
            result = {"inquiries": rows, "summary": summary(demo.world, rows)}
        finally:
            demo.close()
    if report is not None:
        report.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    return result


OPENINGS = ("Tak for din henvendelse.", "Tak fordi du skrev til os.", "Godt spørgsmål.",
            "Tak for din besked.", "Det er godt, at du spørger.")
ANSWERS = ("Her er svaret på dit spørgsmål.", "Vi har set på det, og her er svaret.",
           "Her er, hvad vi kan fortælle.", "Vi har undersøgt det for dig.", "Her er vores svar.")


def answer_everything(demo: Demo, records: list[dict[str, Any]]) -> None:
    """Every inquiry needing a reply is drafted by its department and approved.

    The scripted specialists write as people do: from the configured greeting and sign-off
    (the citizen's first name in `{navn}`) and never the very same answer twice, since X
    refuses a post identical to one the account already made (platform-apis.md, X)."""
    demo.citizens_write(records)
    written: set[str] = set()
    for inquiry in demo.open_inquiries(InquiryState.POSTED):
        if inquiry.no_reply_needed:
            continue
        demo.world.reply_in_thread(specialist_for(inquiry.route), inquiry.id or 0,
                                   scripted_answer(demo, inquiry, written))
        demo.world.click(OFFICERS[0], inquiry.id or 0, "approve", on="approval")
    demo.tick()
    for _ in range(SETTLE_STEPS):  # replies a platform throttled stay queued; the sweep sends them
        if not demo.open_inquiries(InquiryState.SENDING):
            break
        demo.advance(STEP)
        demo.tick()


def scripted_answer(demo: Demo, inquiry: Inquiry, written: set[str]) -> str:
    """A specialist's answer in the configured template, worded unlike every earlier one."""
    greeting, sign_off = demo.world.workflow.queries.salutation(inquiry.id or 0, f"Specialist {inquiry.route}")
    candidates = (f"{greeting}\n\n{opening} {answer}\n\n{sign_off}" for answer in ANSWERS for opening in OPENINGS)
    text = next((c for c in candidates if c not in written),
                f"{greeting}\n\n{OPENINGS[0]} {ANSWERS[0]} (henvendelse {inquiry.id})\n\n{sign_off}")
    written.add(text)
    return text


def _all(demo: Demo) -> list[Inquiry]:
    with demo.world.store.session() as session:
        return list(session.exec(select(Inquiry).order_by(col(Inquiry.id))).all())
