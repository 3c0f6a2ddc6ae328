"""Membership of the communication unit's Slack group under Slack's real limits: the lookup
(`usergroups.users.list`, Tier 2) is throttled, slow or down, and officers still get through."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
from slack_sdk import WebClient

from bot import texts
from bot.assembly import build_workflow
from bot.chat.slack import SlackGateway
from bot.demo.world import BOT_TOKEN, SandboxWorld, specialist_for
from bot.errors import MembershipUnknown
from bot.models import Inquiry, InquiryState
from bot.officers import OfficerGroup
from bot.sandbox.slack import FakeSlack
from handlers.app import build_app
from tests.flow_support import DRAFT, OFFICER, QUESTION
from tests.slack_support import FakeClock

UNIT = "S0KOMM"


def group_of(slack: FakeSlack, clock: FakeClock) -> OfficerGroup:
    """The officer group read through the real gateway, which does not wait out a 429 here."""
    gateway = SlackGateway(WebClient(token="xoxb-test", base_url=slack.base_url), sleep=clock.sleep,
                           max_rate_limit_waits=0)
    return OfficerGroup(UNIT, gateway.usergroup_members, clock=clock)


def test_an_officer_is_not_refused_when_slack_throttles_the_lookup(slack: FakeSlack, slack_clock: FakeClock) -> None:
    slack.add_usergroup(UNIT, ("U1",))
    group = group_of(slack, slack_clock)
    answers = [group.contains("U1") for _ in range(30)]  # Tier 2: the 21st call in a minute is a 429
    assert answers == [True] * 30
    assert any(call.method == "usergroups.users.list" for call in slack.calls)


def test_a_lookup_throttled_before_anything_is_known_asks_to_try_again(
        slack: FakeSlack, slack_clock: FakeClock) -> None:
    slack.add_usergroup(UNIT, ("U1",))
    slack.fail_next("usergroups.users.list", "ratelimited", status=429, retry_after=30)
    with pytest.raises(MembershipUnknown):
        group_of(slack, slack_clock).contains("U1")


def test_a_member_removed_in_slack_loses_the_role_at_the_next_decision(
        slack: FakeSlack, slack_clock: FakeClock) -> None:
    slack.add_usergroup(UNIT, ("U1",))
    group = group_of(slack, slack_clock)
    assert group.contains("U1")
    slack.add_usergroup(UNIT, ())
    assert not group.contains("U1")


def test_showing_the_overview_reuses_a_recent_answer(slack: FakeSlack, slack_clock: FakeClock) -> None:
    slack.add_usergroup(UNIT, ("U1",))
    group = group_of(slack, slack_clock)
    for _ in range(5):
        group.contains("U1", reuse_for=60.0)
    assert len(slack.calls_to("usergroups.users.list")) == 1


def test_a_long_outage_does_not_trust_an_old_membership(slack: FakeSlack, slack_clock: FakeClock) -> None:
    slack.add_usergroup(UNIT, ("U1",))
    group = group_of(slack, slack_clock)
    group.contains("U1")
    slack_clock.now += 3600
    slack.fail_next("usergroups.users.list", "ratelimited", status=429, retry_after=30)
    with pytest.raises(MembershipUnknown):
        group.contains("U1")


@pytest.fixture
def group_world(world: SandboxWorld) -> Iterator[SandboxWorld]:
    """The world with the unit as a Slack user group and, as in production, listeners that
    acknowledge before they work (`process_before_response` off)."""
    world.slack.add_usergroup(UNIT, (OFFICER,))
    setup = replace(world.config.setup, officers=frozenset(), officer_group=UNIT)
    world.workflow = build_workflow(replace(world.config, setup=setup), world.store, world.gateway,
                                    world.clients, group_members=world.gateway.usergroup_members)
    world.app = build_app(world.settings, world.workflow,
                          client=WebClient(token=BOT_TOKEN, base_url=world.slack.base_url),
                          token_verification_enabled=False, synchronous=False)
    yield world


def eventually(check: object, seconds: float = 10.0) -> bool:
    """Work after the acknowledgement runs on Bolt's threads; wait for its effect."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(check) and check():
            return True
        time.sleep(0.05)
    return False


def drafted_async(world: SandboxWorld) -> Inquiry:
    """A draft in the thread, once the listener working after its acknowledgement has asked
    for approval."""
    inquiry = world.citizen_writes({"text": QUESTION})
    world.reply_in_thread(specialist_for(inquiry.route), inquiry.id or 0, DRAFT)
    assert eventually(lambda: world.inquiry(inquiry.id or 0).approval_ts is not None)
    return inquiry


def test_a_form_is_answered_within_slacks_3_seconds_while_the_group_lookup_is_slow(
        group_world: SandboxWorld) -> None:
    world = group_world
    inquiry = drafted_async(world)
    world.click(OFFICER, inquiry.id or 0, "reject", on="approval")
    assert eventually(lambda: any(v["callback_id"] == "reject_modal" for v in world.slack.views.values()))
    world.slack.delay_next("usergroups.users.list", 3.5)
    started = time.monotonic()
    world.submit_modal(OFFICER, "reject_modal", "For kort")
    assert time.monotonic() - started < 3.0
    assert eventually(lambda: world.inquiry(inquiry.id or 0).state is InquiryState.POSTED)


def test_an_officer_is_asked_to_try_again_when_slack_cannot_say_who_is_in_the_unit(
        group_world: SandboxWorld) -> None:
    world = group_world
    inquiry = drafted_async(world)
    world.slack.fail_next("usergroups.users.list", "ratelimited", status=429, retry_after=0, times=10)
    world.click(OFFICER, inquiry.id or 0, "approve", on="approval")
    assert eventually(lambda: bool(world.slack.ephemerals))
    assert [e["text"] for e in world.slack.ephemerals] == [texts.refusal_try_again_soon()]
    assert world.inquiry(inquiry.id or 0).state is InquiryState.DRAFTED


def test_a_form_opens_for_a_known_officer_while_the_group_lookup_is_slow(group_world: SandboxWorld) -> None:
    """The click's trigger id lives 3 seconds; a lookup taking longer must not stand before it."""
    world = group_world
    inquiry = drafted_async(world)
    world.click(OFFICER, inquiry.id or 0, "reject", on="approval")  # the membership is now known
    assert eventually(lambda: any(v["callback_id"] == "reject_modal" for v in world.slack.views.values()))
    world.slack.delay_next("usergroups.users.list", 3.5)
    world.click(OFFICER, inquiry.id or 0, "edit", on="approval")
    assert eventually(lambda: any(v["callback_id"] == "edit_modal" for v in world.slack.views.values()))
    assert world.slack.ephemerals == []
