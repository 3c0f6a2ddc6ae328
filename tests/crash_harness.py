"""The crash harness: the platform emulators and the fake Slack in the test process, the bot
as a child process that is SIGKILLed over and over, scripted citizens and people around it.
The people draft, edit their drafts, approve, reject and move, so the chat follow-ups
(rejection and move notes, moved cards, redraws) are killed mid-flight too.

Kills land at random times and at chosen moments: right after the fake Slack stored a
message but before it answered (a card, an approval request, a reminder), and while a
platform call is held open, whether a poll or a reply the platform has already applied.
"""

from __future__ import annotations

import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlmodel import col, select

from bot.chat.slack_blocks import (
    COMMENT_BLOCK,
    COMMENT_INPUT,
    MOVE_CALLBACK,
    REASON_BLOCK,
    REASON_INPUT,
    REJECT_CALLBACK,
)
from bot.demo.world import BOT_TOKEN, OFFICERS, SIGNING_SECRET, SandboxWorld, specialist_for
from bot.models import Decision, DecisionKind, Event, Inquiry, InquiryState
from bot.sandbox.server import Emulator
from bot.sandbox.slack_requests import SignedRequest
from bot.workflow.views import latest_draft
from tests.crash_child import ChildBot

TEXTS = (
    "Hvornår bliver mit storskrald hentet? Sofaen står stadig ude ved fortovet.",
    "Jeg skal have fornyet mit pas inden sommerferien, hvordan bestiller jeg tid?",
    "Der er gaslugt i opgangen på Hyldagerparken, hvad skal vi gøre?",
    "Hvornår åbner svømmehallen igen efter renoveringen?",
    "Vejen ved skolen er fuld af huller, hvem skal jeg kontakte?",
)
CHANNELS = (("facebook", "comment"), ("facebook", "message"), ("instagram", "comment"),
            ("linkedin", "comment"))
"""No X account: X allows 15 reads of direct messages per 15 minutes, which a hundred
restarts (each polls at once) spend in seconds; the bot then rightly waits out the window."""
TOKEN_ENV = {"facebook": "SANDBOX_GRAPH_TOKEN", "instagram": "SANDBOX_GRAPH_TOKEN",
             "linkedin": "SANDBOX_LINKEDIN_TOKEN", "x": "SANDBOX_X_TOKEN"}
REPLY_ROUTES = ("POST /{id}/comments", "POST /{id}/replies", "POST /{id}/messages",
                "POST /socialActions/{target}/comments")
DRAFT = "Tak for din besked. Vi kigger på det og vender tilbage i dag."
EDITED = DRAFT + " Venlig hilsen kommunen."
REDRAFT = "Tak for din besked. Afhentningen sker på torsdag."
PATIENCE = 4.0  # seconds before a scripted person tries again (Slack's retry, or a second click)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_rules(world: SandboxWorld, base: Path, target: Path) -> None:
    """The shipped rules plus the sandbox accounts, the officers and one-minute deadlines every
    day, so reminders (at half time) and escalations happen within the run."""
    rules = yaml.safe_load(base.read_text(encoding="utf-8"))
    rules["accounts"] = [{"platform": platform, "account": account, "token_env": TOKEN_ENV[platform]}
                         for platform, account in world.clients if platform != "x"]
    rules.setdefault("chat", {})["officers"] = list(OFFICERS)
    every_day = dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), "00:00-23:59")
    rules["business_hours"] = {**every_day, "holidays": "none", "closed_days": [], "closed_from_noon": []}
    rules["deadlines"] = dict.fromkeys(("comment", "message", "mention", "urgent"), "1m")
    rules["reminders"] = {"points": ["50%"], "approval_after": "1m", "approval_after_urgent": "1m"}
    target.write_text(yaml.safe_dump(rules, allow_unicode=True, sort_keys=False), encoding="utf-8")


def child_env(world: SandboxWorld, database_url: str, rules: Path, port: int) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin", "BORGERBOT_DATABASE_URL": database_url, "BORGERBOT_RULES_FILE": str(rules),
        "BORGERBOT_SLACK_API_URL": world.slack.base_url, "BORGERBOT_SLACK_BOT_TOKEN": BOT_TOKEN,
        "BORGERBOT_SLACK_SIGNING_SECRET": SIGNING_SECRET, "BORGERBOT_SLACK_MODE": "http",
        "BORGERBOT_HTTP_PORT": str(port), "BORGERBOT_POLL_INTERVAL_SECONDS": "0.5",
        "BORGERBOT_SWEEP_INTERVAL_SECONDS": "0.5", "BORGERBOT_HTTP_TIMEOUT_SECONDS": "1",
        "BORGERBOT_TAKEOVER_SECONDS": "2.7", "BORGERBOT_REPLICA_ID": "crash-test-bot",
        "BORGERBOT_FACEBOOK_API_URL": world.graph.base_url + "v25.0/",
        "BORGERBOT_INSTAGRAM_API_URL": world.graph.base_url + "v25.0/",
        "BORGERBOT_LINKEDIN_API_URL": world.linkedin.base_url, "BORGERBOT_X_API_URL": world.x.base_url,
        "SANDBOX_GRAPH_TOKEN": world.graph.token, "SANDBOX_LINKEDIN_TOKEN": world.linkedin.token,
        "SANDBOX_X_TOKEN": world.x.token,
    }


@dataclass
class Watch:
    """A kill armed on an emulator route: fires once the route's request counter moves."""

    emulator: Emulator
    route: str | None
    name: str
    seen: int = 0

    def count(self) -> int:
        counts = self.emulator.request_counts()
        return sum(counts.values()) if self.route is None else counts.get(self.route, 0)


@dataclass
class Killer:
    """Kills the bot at random times and at armed moments, restarting it after each death."""

    child: ChildBot
    world: SandboxWorld
    rng: random.Random
    points: Counter[str] = field(default_factory=Counter)
    slack_armed: str | None = None
    watch: Watch | None = None

    def __post_init__(self) -> None:
        self._guard = threading.Lock()
        self.world.slack.after_call = self._after_slack_call

    def _after_slack_call(self, method: str, args: dict[str, Any], body: dict[str, Any]) -> None:
        """Runs in the fake Slack after a call took effect and before its answer is sent."""
        key = ((args.get("metadata") or {}).get("event_payload") or {}).get("key", "")
        with self._guard:
            wanted = self.slack_armed
            if method != "chat.postMessage" or not body.get("ok") or wanted is None:
                return
            if not str(key).startswith(wanted):
                return
            self.slack_armed = None
        if self.child.kill():
            self.points[f"slack stored {wanted or 'post'}, answer pending"] += 1

    def arm(self) -> None:
        """Choose the next targeted kill point."""
        choice = self.rng.randrange(5)
        with self._guard:
            if choice == 0:
                self.slack_armed = "card:"
            elif choice == 1:
                self.slack_armed = self.rng.choice(("reminder:", "escalation:", "missed:", "approval:", "note:"))
            elif choice == 2:
                emulator = self.rng.choice((self.world.graph, self.world.linkedin))
                self.watch = self._watch(emulator, None, "platform call in flight (poll)", 1.5)
            else:
                route = self.rng.choice(REPLY_ROUTES)
                emulator = self.world.linkedin if "social" in route else self.world.graph
                self.watch = self._watch(emulator, route, "platform applied a reply, answer pending", 1.5)

    def _watch(self, emulator: Emulator, route: str | None, name: str, hold: float) -> Watch:
        emulator.delay_next(hold, route=route, apply=True)
        watch = Watch(emulator, route, name)
        watch.seen = watch.count()
        return watch

    def run(self, until: float, gap: tuple[float, float]) -> None:
        """Until `until` (monotonic): keep the bot running, killing it at random times and
        at armed points; leaves it running at the end."""
        next_kill = 0.0
        while time.monotonic() < until:
            if not self.child.alive:
                self.child.start()
                next_kill = time.monotonic() + self.rng.uniform(*gap)
                if self.rng.random() < 0.35:
                    self.arm()
            watch = self.watch
            if watch is not None and watch.count() > watch.seen:
                self.watch = None
                if self.child.kill():
                    self.points[watch.name] += 1
            elif time.monotonic() >= next_kill and self.child.kill():
                self.points["random time"] += 1
            time.sleep(0.01)
        self.disarm()
        self.child.start()

    def disarm(self) -> None:
        with self._guard:
            self.slack_armed, self.watch = None, None
        for emulator in (self.world.graph, self.world.linkedin):
            with emulator.lock:
                emulator.faults.clear()


@dataclass
class People:
    """Citizens who write, specialists who draft (and edit) in the card's thread or move the
    inquiry, officers who approve or reject: every act in Slack is a signed request to the
    bot's HTTP port. By inquiry number: 0 mod 4 drafted and approved, 1 rejected once then
    drafted anew, 2 moved, drafted, edited and approved, 3 left to remind and escalate."""

    world: SandboxWorld
    port: int
    rng: random.Random
    items: list[tuple[str, str]] = field(default_factory=list)
    moves: dict[int, tuple[str, str, str]] = field(default_factory=dict)  # id -> old card, new route
    _tried: dict[tuple[int, str], float] = field(default_factory=dict)
    _drafts: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    _edits: dict[int, dict[str, Any]] = field(default_factory=dict)
    _used_views: set[str] = field(default_factory=set)

    def citizen_writes(self) -> None:
        platform, kind = self.rng.choice(CHANNELS)
        text = self.rng.choice(TEXTS)
        self.items.append(self.world.citizens.write({"platform": platform, "kind": kind, "text": text}))

    def act(self) -> None:
        """Move each open inquiry on a step, as a person would."""
        for inquiry, draft in self._open():
            number, plan = inquiry.id or 0, (inquiry.id or 0) % 4
            if plan == 3:
                continue  # nobody answers these: they remind and escalate
            if inquiry.state is InquiryState.POSTED and inquiry.chat_ts:
                if plan == 2 and not self._moved(number):
                    if self._due(number, "move"):
                        self._move(inquiry)
                elif self._due(number, "draft"):
                    self._draft(inquiry)
            elif inquiry.state is InquiryState.DRAFTED and inquiry.approval_ts:
                if plan == 1 and not self._rejected(number):
                    if self._due(number, "reject"):
                        self._reject(inquiry)
                elif plan == 2 and draft != EDITED:
                    if self._due(number, "edit"):
                        self._edit(inquiry)
                elif self._due(number, "approve"):
                    self._approve(inquiry)
            elif inquiry.state is InquiryState.DRAFTED and not inquiry.approval_ts and self._due(number, "redraft"):
                self._drafts.pop((number, self._round(number)), None)  # the bot died before asking: draft anew
                self._draft(inquiry)

    def comment(self, number: int) -> str:
        """The officer's rejection comment, unique per inquiry so its note can be counted."""
        return f"Nævn afhentningsdagen (sag {number})."

    def _open(self) -> list[tuple[Inquiry, str | None]]:
        with self.world.store.session() as session:
            found = list(session.exec(select(Inquiry).where(
                col(Inquiry.state).in_([InquiryState.POSTED, InquiryState.DRAFTED]))).all())
            return [(i, getattr(latest_draft(session, i.id or 0), "text", None)) for i in found]

    def _rejected(self, number: int) -> bool:
        return self._round(number) > 0

    def _round(self, number: int) -> int:
        """How many times the inquiry's draft was rejected: each rejection asks for a new one."""
        with self.world.store.session() as session:
            return len(session.exec(select(Decision.id).where(
                Decision.inquiry_id == number, Decision.kind == DecisionKind.REJECTED)).all())

    def _moved(self, number: int) -> bool:
        with self.world.store.session() as session:
            return session.exec(select(Event.id).where(
                Event.inquiry_id == number, Event.action == "moved")).first() is not None

    def _due(self, number: int, step: str) -> bool:
        last = self._tried.get((number, step), 0.0)
        if time.monotonic() - last < PATIENCE:
            return False
        self._tried[(number, step)] = time.monotonic()
        return True

    def _draft(self, inquiry: Inquiry) -> None:
        """The first try writes in the thread; later tries are Slack redelivering the event."""
        number = inquiry.id or 0
        key = (number, self._round(number))
        if key not in self._drafts:
            self._drafts[key] = self.world.slack.say(
                inquiry.chat_channel or "", specialist_for(inquiry.route), REDRAFT if key[1] else DRAFT,
                thread_ts=inquiry.chat_ts)
        self._send(lambda: self.world.requests.message_event(self._drafts[key]))

    def _edit(self, inquiry: Inquiry) -> None:
        """The specialist edits the draft once in Slack; later tries redeliver the event."""
        number = inquiry.id or 0
        said = self._drafts.get((number, 0))
        if said is None:
            return  # drafted through the sweep's recovery of a draft from an earlier run's thread
        if self._edits.get(number, {}).get("message", {}).get("ts") != said["ts"]:
            self._edits[number] = self.world.slack.edit(said["channel"], said["ts"], said["user"], EDITED)
        self._send(lambda: self.world.requests.message_event(self._edits[number]))

    def _approve(self, inquiry: Inquiry) -> None:
        slack, channel = self.world.slack, inquiry.approval_channel or ""
        message = slack.message(channel, inquiry.approval_ts or "")
        self._send(lambda: self.world.requests.block_action(
            user=OFFICERS[0], action={"action_id": "approve", "value": str(inquiry.id)}, message=message,
            channel=channel, trigger_id=slack.new_trigger_id(), response_url=slack.new_response_url()))

    def _reject(self, inquiry: Inquiry) -> None:
        number, channel = inquiry.id or 0, inquiry.approval_channel or ""
        comment = {COMMENT_BLOCK: {COMMENT_INPUT: self.comment(number)}}
        self._through_modal(OFFICERS[0], REJECT_CALLBACK, str(number), comment, channel, inquiry.approval_ts or "", {"action_id": "reject", "value": str(number)})

    def _move(self, inquiry: Inquiry) -> None:
        number, channel, ts = inquiry.id or 0, inquiry.chat_channel or "", inquiry.chat_ts or ""
        card = self.world.slack.message(channel, ts)
        menu = next((e for b in card.get("blocks", []) if b["type"] == "actions" for e in b["elements"]
                     if e["action_id"] == "move"), None)
        if menu is None:
            return  # the card is not redrawn yet: the person looks again later
        route = str(menu["options"][0]["value"])
        self.moves.setdefault(number, (channel, ts, route))
        self._through_modal(specialist_for(inquiry.route), MOVE_CALLBACK, f"{number}:{route}",
                            {REASON_BLOCK: {REASON_INPUT: "Hører til hos jer"}}, channel, ts,
                            {"action_id": "move", "type": "static_select", "selected_option": {"value": route}})

    def _through_modal(self, user: str, callback: str, metadata: str, values: dict[str, dict[str, str | None]],
                       channel: str, ts: str, action: dict[str, Any]) -> None:
        """Submit the form the last click opened; without one (the bot died before opening
        it, or that form was sent already), click again."""
        slack = self.world.slack
        view = next((v for v in reversed(slack.views.values()) if v["callback_id"] == callback
                     and v["private_metadata"] == metadata and v["id"] not in self._used_views), None)
        if view is not None:
            self._used_views.add(view["id"])
            self._send(lambda: self.world.requests.view_submission(user=user, view=view, values=values))
            return
        self._send(lambda: self.world.requests.block_action(
            user=user, action=action, message=slack.message(channel, ts), channel=channel,
            trigger_id=slack.new_trigger_id(), response_url=slack.new_response_url()))

    def _send(self, build: Callable[[], SignedRequest]) -> None:
        request = build()
        try:
            httpx.post(f"http://127.0.0.1:{self.port}/slack/events", content=request.body.encode(),
                       headers=request.headers, timeout=1.0)
        except httpx.HTTPError:
            pass  # the bot is down: the person tries again later, as Slack retries


@dataclass
class Faults:
    """The sandboxes' fault modes, switched at random: 5xx, throttling with its headers,
    answers too late for the bot's timeout, and dropped connections (after the write too)."""

    world: SandboxWorld
    rng: random.Random
    injected: Counter[str] = field(default_factory=Counter)

    def inject(self) -> None:
        world, emulator = self.world, self.rng.choice((self.world.graph, self.world.linkedin))
        choice = self.rng.randrange(8)
        if choice == 0:
            emulator.fail_next(503, {"error": {"message": "Service unavailable", "code": 2}})
        elif choice == 1:
            emulator.fail_next(429, {"error": {"message": "Too many calls", "code": 4}},
                               {"Retry-After": "1", "x-rate-limit-remaining": "0",
                                "x-rate-limit-reset": str(int(time.time()) + 1)})
        elif choice == 2:
            emulator.delay_next(1.5, apply=self.rng.random() < 0.5)
        elif choice == 3:
            emulator.drop_next(apply=self.rng.random() < 0.5)
        elif choice == 4:
            world.slack.fail_next(self.rng.choice(("chat.postMessage", "chat.update")), "ratelimited",
                                  status=429, retry_after=1)
        elif choice == 5:
            world.slack.fail_next("chat.postMessage", "internal_error", status=500)
        elif choice == 6:
            world.slack.drop_next("chat.postMessage", apply=self.rng.random() < 0.7)
        else:
            world.slack.delay_next(self.rng.choice(("chat.postMessage", "conversations.history")), 1.5)
        self.injected[str(choice)] += 1
