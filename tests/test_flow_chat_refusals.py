"""A message Slack refuses for good fails alone, and a bot Slack refuses keeps everything queued.

Slack answers `ok: false` with `msg_too_long`, `invalid_blocks`, `channel_not_found`,
`not_in_channel` or `is_archived` for a message no retry can cure, and `invalid_auth`,
`account_inactive` or `token_revoked` for a token it no longer takes
(docs.slack.dev/reference/methods/chat.postMessage, "Errors"; chat-platforms.md "Errors").
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from bot import texts
from bot.demo.clock import SteppedClock
from bot.demo.world import SandboxWorld
from bot.models import InquiryState
from bot.workflow.chat_health import CHAT
from tests.flow_support import QUESTION, comms_history, shown_text

REFUSED = "Denne henvendelse kan Slack ikke vise"
SECOND = "Hvornår tømmes glascontaineren på Stationsvej?"


@pytest.fixture
def world(clocked_world: SandboxWorld) -> SandboxWorld:
    return clocked_world


def write(world: SandboxWorld, *questions: str) -> list[int]:
    """Citizens write on Facebook; the bot polls and the sweep posts the cards."""
    keys = [world.citizens.write({"platform": "facebook", "kind": "comment", "text": q}) for q in questions]
    world.poll()
    world.sweep()
    return [world.inquiry_for(platform, external_id).id or 0 for platform, external_id in keys]


def posts_containing(world: SandboxWorld, text: str) -> int:
    return sum(1 for call in world.slack.calls_to("chat.postMessage") if text in str(call.args))


def comms_texts(world: SandboxWorld) -> list[str]:
    return [shown_text(m) for m in comms_history(world)]


def test_a_card_slack_refuses_does_not_hold_up_the_cards_after_it_in_its_channel(world: SandboxWorld) -> None:
    world.slack.refuse_messages_containing(REFUSED, "msg_too_long")
    [refused] = write(world, f"{REFUSED}: storskrald")
    [after] = write(world, f"{SECOND} storskrald")  # queued behind the refused one
    assert after > refused
    assert world.inquiry(refused).state is InquiryState.RECEIVED
    assert world.inquiry(after).state is InquiryState.POSTED


def test_the_unit_is_told_in_danish_what_to_do_about_a_refused_card(world: SandboxWorld) -> None:
    world.slack.refuse_messages_containing(REFUSED, "msg_too_long")
    [refused] = write(world, f"{REFUSED}: storskrald")
    world.sweep()
    channel = world.config.rules.channel_of(world.inquiry(refused).route)
    expected = texts.chat_refused(texts.chat_refused_what(refused), channel, "msg_too_long")
    assert comms_texts(world).count(expected) == 1


def test_a_refused_card_is_backed_off_not_sent_again_every_sweep(
    world: SandboxWorld, stepped_clock: SteppedClock
) -> None:
    world.slack.refuse_messages_containing(REFUSED, "invalid_blocks")
    write(world, f"{REFUSED}: storskrald")
    for _ in range(3):
        stepped_clock.advance(timedelta(minutes=1))
        world.sweep()
    assert posts_containing(world, REFUSED) == 1
    stepped_clock.advance(timedelta(minutes=5))
    world.sweep()
    assert posts_containing(world, REFUSED) == 2


def test_a_refused_card_appears_once_the_cause_is_gone(world: SandboxWorld, stepped_clock: SteppedClock) -> None:
    world.slack.refuse_messages_containing(REFUSED, "msg_too_long")
    [refused] = write(world, f"{REFUSED}: storskrald")
    world.slack.clear_faults()
    stepped_clock.advance(timedelta(minutes=6))
    world.sweep()
    assert world.inquiry(refused).state is InquiryState.POSTED


def test_an_archived_channel_holds_up_only_its_own_cards_and_the_unit_hears_once(world: SandboxWorld) -> None:
    affald = world.config.rules.channel_of("affald").lstrip("#")
    channel = next(c.id for c in world.slack.workspace.channels.values() if c.name == affald)
    world.slack.archive(channel)
    first, second, elsewhere = write(world, f"{QUESTION} (1)", f"{QUESTION} (2)", "Hvornår åbner biblioteket?")
    world.sweep()
    assert [world.inquiry(i).state for i in (first, second)] == [InquiryState.RECEIVED] * 2
    assert world.inquiry(elsewhere).state is InquiryState.POSTED
    told = [t for t in comms_texts(world) if "arkiveret" in t]
    assert len(told) == 1


def test_a_revoked_token_keeps_every_card_queued_and_is_logged_once(
    world: SandboxWorld, stepped_clock: SteppedClock, caplog: pytest.LogCaptureFixture
) -> None:
    world.slack.revoke_token("token_revoked")
    with caplog.at_level(logging.ERROR):
        [queued] = write(world, QUESTION)
        for _ in range(3):
            stepped_clock.advance(timedelta(minutes=2))
            world.sweep()
    assert world.inquiry(queued).state is InquiryState.RECEIVED
    assert len([r for r in caplog.records if r.levelno == logging.ERROR and "token_revoked" in r.getMessage()]) == 1


def test_the_refused_bot_shows_on_the_health_output(world: SandboxWorld) -> None:
    from bot.health import health_report

    world.slack.revoke_token("account_inactive")
    write(world, QUESTION)
    report = health_report(world.store)
    assert report["chat"]["refused"] == "account_inactive"
    assert report["queued"]["cards"] == 1
    assert report["healthy"] is False


def test_once_slack_takes_the_bot_again_the_cards_appear_and_the_unit_hears_once(
    world: SandboxWorld, stepped_clock: SteppedClock
) -> None:
    world.slack.revoke_token("invalid_auth")
    [queued] = write(world, QUESTION)
    world.slack.restore_token()
    for _ in range(2):
        stepped_clock.advance(timedelta(minutes=2))
        world.sweep()
    assert world.inquiry(queued).state is InquiryState.POSTED
    assert len([t for t in comms_texts(world) if t.startswith("✅ borgerbot er tilbage i Slack")]) == 1
    with world.store.session() as session:
        from bot.models import AccountStatus

        assert session.get(AccountStatus, CHAT).stopped_reason == ""  # type: ignore[union-attr]
