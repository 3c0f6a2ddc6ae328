"""The product assembled on loopback: platform emulators, the fake Slack, the real clients,
the real workflow and the real Bolt app. The demo runs on it, and so do the flow tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import SecretStr
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from sqlmodel import select

from bot.accounts import AccountConfig, build_clients
from bot.assembly import build_workflow, load_configuration, resolve_front_end
from bot.chat.slack import SlackGateway
from bot.demo.citizens import Citizens
from bot.models import Inquiry, utcnow
from bot.polling import PollOutcome, poll_account
from bot.privacy import strip_invisible
from bot.reminders import SweepOutcome, sweep
from bot.sandbox.graph import GraphEmulator
from bot.sandbox.linkedin import LinkedInEmulator
from bot.sandbox.slack import FakeSlack
from bot.sandbox.slack_requests import SignedRequest, SlackRequests
from bot.sandbox.x import XEmulator
from bot.settings import Settings
from bot.store import Store, open_store

SIGNING_SECRET = "sandbox-signing-secret"
BOT_TOKEN = "xoxb-sandbox"
OFFICERS = ("U0KOMM001", "U0KOMM002")
OFFICER_NAMES = {"U0KOMM001": "Mette", "U0KOMM002": "Jonas"}
Where = Literal["card", "approval"]


def specialist_for(route_id: str) -> str:
    """Each department has one scripted specialist with a stable Slack id."""
    return "U0" + "".join(ch for ch in route_id.upper() if ch.isalnum())[:7].ljust(7, "X")


class SandboxWorld:
    """Everything a demo or flow test needs, started on ephemeral loopback ports."""

    def __init__(
        self,
        database_url: str,
        rules_file: str | Path = "routing_rules.yaml",
        *,
        clock: Callable[[], datetime] = utcnow,
        slack_messages_per_second: float = 1000.0,
        slack_rate_tiers: bool = True,
        store: Store | None = None,
    ) -> None:
        """`store` is an already migrated database (tests pass one per backend); by default
        `database_url` is opened and migrated. `slack_rate_tiers` off lifts the fake Slack's
        per-minute method tiers, for a run whose simulated minutes pass in real milliseconds."""
        self.graph, self.linkedin, self.x = GraphEmulator(), LinkedInEmulator(), XEmulator()
        for emulator in (self.graph, self.linkedin, self.x):
            emulator.start()
        self.slack = FakeSlack(bot_token=BOT_TOKEN, rate_tiers=slack_rate_tiers).start()
        self.clock = clock
        self.citizens = Citizens(self.graph, self.linkedin, self.x)
        config = load_configuration(str(rules_file))
        self.config = replace(config, setup=replace(config.setup, officers=frozenset(OFFICERS)))
        self.settings = Settings(
            database_url=database_url,
            facebook_api_url=self.graph.base_url + "v25.0/",
            instagram_api_url=self.graph.base_url + "v25.0/",
            linkedin_api_url=self.linkedin.base_url,
            x_api_url=self.x.base_url,
            slack_api_url=self.slack.base_url,
            slack_bot_token=SecretStr(BOT_TOKEN),
            slack_signing_secret=SecretStr(SIGNING_SECRET),
            http_timeout_seconds=2.0,
        )
        self._arrange_slack()
        self.store: Store = store or open_store(database_url)
        self.clients = build_clients(self._accounts(), self.settings, self._tokens())
        self.gateway = SlackGateway(self._web_client(), messages_per_second=slack_messages_per_second)
        self.workflow = build_workflow(
            self.config, self.store, self.gateway, self.clients,
            group_members=self.gateway.usergroup_members, clock=clock,
        )
        build_app = resolve_front_end(self.settings.front_end)
        self.app = build_app(
            self.settings, self.workflow, client=self._web_client(),
            token_verification_enabled=False, synchronous=True,
        )
        self.requests = SlackRequests(SIGNING_SECRET, clock=time.time)

    def _web_client(self) -> WebClient:
        return WebClient(token=BOT_TOKEN, base_url=self.slack.base_url)

    def _arrange_slack(self) -> None:
        rules = self.config.rules
        people = [*OFFICERS, *(specialist_for(route) for route in rules.route_ids)]
        for user in OFFICERS:
            self.slack.add_user(user, OFFICER_NAMES[user].lower(), real_name=OFFICER_NAMES[user])
        for route in rules.route_ids:
            self.slack.add_user(specialist_for(route), f"specialist-{route}", real_name=f"Specialist {route}")
        channels = {rules.channel_of(route) for route in rules.route_ids}
        channels |= {self.config.setup.comms_channel, self.config.setup.approval_channel}
        for number, name in enumerate(sorted(channels), start=1):
            self.slack.add_channel(f"C{number:08d}", name.lstrip("#"), members=tuple(people))

    def _accounts(self) -> list[AccountConfig]:
        return [
            AccountConfig("facebook", self.graph.world.page_id, "Facebook-siden", "SANDBOX_GRAPH_TOKEN"),
            AccountConfig("instagram", self.graph.world.ig_id, "Instagram", "SANDBOX_GRAPH_TOKEN"),
            AccountConfig("linkedin", self.linkedin.org.rsplit(":", 1)[1], "LinkedIn", "SANDBOX_LINKEDIN_TOKEN"),
            AccountConfig("x", self.x.account_id, "X", "SANDBOX_X_TOKEN"),
        ]

    def _tokens(self) -> dict[str, str]:
        return {
            "SANDBOX_GRAPH_TOKEN": self.graph.token,
            "SANDBOX_LINKEDIN_TOKEN": self.linkedin.token,
            "SANDBOX_X_TOKEN": self.x.token,
        }

    # --- the running bot's jobs, called directly (the demo and tests drive time) ---------

    def poll(self) -> list[PollOutcome]:
        return [poll_account(self.workflow, client, self.clock()) for client in self.clients.values()]

    def sweep(self) -> SweepOutcome:
        return sweep(self.workflow, self.clock())

    def dispatch(self, request: SignedRequest) -> int:
        """Deliver a signed Slack request to the Bolt app, as Slack would; returns the HTTP status."""
        headers: dict[str, str | Sequence[str]] = dict(request.headers)
        response = self.app.dispatch(BoltRequest(body=request.body, headers=headers))
        return int(response.status)

    # --- people in Slack: every act is a signed request into the real Bolt app ------------

    def inquiry(self, inquiry_id: int) -> Inquiry:
        """The stored row as it is now (tests and the timeline read state through this)."""
        with self.store.session() as session:
            found = session.get(Inquiry, inquiry_id)
        if found is None:
            raise LookupError(f"inquiry {inquiry_id} does not exist")
        return found

    def inquiry_for(self, platform: str, external_id: str) -> Inquiry:
        """The inquiry stored for a citizen's item, by the id `Citizens.write` returned."""
        with self.store.session() as session:
            found = session.exec(select(Inquiry).where(
                Inquiry.platform == platform, Inquiry.external_id == external_id)).first()
        if found is None:
            raise LookupError(f"no inquiry for {platform} item {external_id}")
        return found

    def citizen_writes(self, record: Mapping[str, Any]) -> Inquiry:
        """A citizen writes, the bot polls, and the sweep posts the card; returns the inquiry."""
        platform, external_id = self.citizens.write(record)
        self.poll()
        self.sweep()
        return self.inquiry_for(platform, external_id)

    def replies_seen_by_citizen(self, inquiry_id: int) -> list[str]:
        """Our answers to this inquiry as the platform shows them (watermarks stripped)."""
        inquiry = self.inquiry(inquiry_id)
        private = inquiry.kind.value == "message"
        if inquiry.platform in ("facebook", "instagram"):
            found = (self.graph.messages_to(inquiry.author_id) if private
                     else [r["text"] for r in self.graph.replies_to(inquiry.external_id)])
        elif inquiry.platform == "linkedin":
            found = self.linkedin.org_replies(inquiry.external_id)
        else:
            found = (self.x.dms_from_account(inquiry.author_id) if private
                     else self.x.replies_from_account(inquiry.external_id))
        return [strip_invisible(text) for text in found]

    def message_of(self, inquiry_id: int, on: Where = "card") -> tuple[str, str]:
        """(channel, ts) of the department card or the approval request."""
        inquiry = self.inquiry(inquiry_id)
        channel, ts = ((inquiry.chat_channel, inquiry.chat_ts) if on == "card"
                       else (inquiry.approval_channel, inquiry.approval_ts))
        if not (channel and ts):
            raise LookupError(f"inquiry {inquiry_id} has no {on} message in chat")
        return channel, ts

    def reply_in_thread(self, user: str, inquiry_id: int, text: str) -> int:
        """A person writes in the card's thread; Slack then sends the `message` event."""
        channel, ts = self.message_of(inquiry_id)
        message = self.slack.say(channel, user, text, thread_ts=ts)
        return self.dispatch(self.requests.message_event(message))

    def edit_in_thread(self, user: str, inquiry_id: int, text: str) -> int:
        """A person edits their last message in the card's thread; Slack sends `message_changed`."""
        channel, ts = self.message_of(inquiry_id)
        *_, last = (m for m in self.slack.thread(channel, ts) if m.get("user") == user)
        return self.dispatch(self.requests.message_event(self.slack.edit(channel, last["ts"], user, text)))

    def click(self, user: str, inquiry_id: int, action: str, on: Where = "card",
              option: str | None = None) -> int:
        """A button press (or, with `option`, a menu choice) on the card or approval request."""
        channel, ts = self.message_of(inquiry_id, on)
        element: dict[str, Any] = {"action_id": action, "value": str(inquiry_id)}
        if option is not None:
            element = {"action_id": action, "type": "static_select",
                       "selected_option": {"value": option}}
        return self.dispatch(self.requests.block_action(
            user=user, action=element, message=self.slack.message(channel, ts), channel=channel,
            trigger_id=self.slack.new_trigger_id(), response_url=self.slack.new_response_url()))

    def submit_modal(self, user: str, callback: str, text: str | None) -> int:
        """Type `text` into the first field of the newest open modal with `callback` and submit."""
        view = self._open_view(callback)
        box = next(block for block in view["blocks"] if block["type"] == "input")
        return self.fill_in(user, callback, {box["block_id"]: {box["element"]["action_id"]: text}})

    def fill_in(self, user: str, callback: str, values: Mapping[str, Mapping[str, str | None]]) -> int:
        """Fill several fields (block id -> field id -> text or chosen value) and submit."""
        view = self._open_view(callback)
        return self.dispatch(self.requests.view_submission(user=user, view=view, values=values))

    def _open_view(self, callback: str) -> dict[str, Any]:
        return next(v for v in reversed(self.slack.views.values()) if v["callback_id"] == callback)

    def command(self, user: str, channel: str, text: str = "") -> Any:
        """`/borgerbot` typed by `user`; returns what the app sent back to the response URL."""
        self.slack.hook_posts.clear()
        self.dispatch(self.requests.slash_command(
            user=user, channel=channel, text=text, trigger_id=self.slack.new_trigger_id(),
            response_url=self.slack.new_response_url()))
        return self.slack.hook_posts[-1][1] if self.slack.hook_posts else None

    def close(self) -> None:
        for client in self.clients.values():
            client.close()
        self.store.engine.dispose()
        for server in (self.graph, self.linkedin, self.x, self.slack):
            server.stop()
