"""The product assembled on loopback: platform emulators, the fake Slack, the real clients,
the real workflow and the real Bolt app. The demo runs on it, and so do the flow tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from bot.accounts import AccountConfig, build_clients
from bot.assembly import build_workflow, load_configuration, resolve_front_end
from bot.chat.slack import SlackGateway
from bot.demo.citizens import Citizens
from bot.models import utcnow
from bot.polling import PollOutcome, poll_account
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
    ) -> None:
        self.graph = GraphEmulator().start()
        self.linkedin = LinkedInEmulator().start()
        self.x = XEmulator().start()
        self.slack = FakeSlack(bot_token=BOT_TOKEN).start()
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
            slack_bot_token=BOT_TOKEN,
            slack_signing_secret=SIGNING_SECRET,
            http_timeout_seconds=2.0,
        )
        self._arrange_slack()
        self.store: Store = open_store(database_url)
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
        response = self.app.dispatch(BoltRequest(body=request.body, headers=request.headers))
        return int(response.status)

    def close(self) -> None:
        for client in self.clients.values():
            client.close()
        self.store.engine.dispose()
        for server in (self.graph, self.linkedin, self.x, self.slack):
            server.stop()
