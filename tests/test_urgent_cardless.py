"""Urgent never waits for its card (issue 13): a gas leak routed to a channel that does not
exist alerts the communication unit in the first sweep, and the stuck card is reported.
The product runs on a stepped clock; every assertion reads the fake Slack."""

from __future__ import annotations

from datetime import timedelta

from bot.demo.world import SandboxWorld
from tests.flow_support import comms_history

GAS = "Der er gaslugt i opgangen på Hyldagerparken, hvad skal vi gøre?"


def drop_channel_of(world: SandboxWorld, text: str) -> str:
    """Write `text`, then remove its route's channel from Slack before any card is posted."""
    platform, external_id = world.citizens.write({"platform": "facebook", "text": text})
    world.poll()
    inquiry = world.inquiry_for(platform, external_id)
    assert inquiry.urgent
    name = world.config.rules.channel_of(inquiry.route).lstrip("#")
    for channel_id, channel in list(world.slack.workspace.channels.items()):
        if channel.name == name:
            del world.slack.workspace.channels[channel_id]
    return name


def test_an_urgent_inquiry_whose_channel_is_missing_alerts_the_unit_in_the_first_sweep(
    clocked_world: SandboxWorld,
) -> None:
    drop_channel_of(clocked_world, GAS)
    clocked_world.clock.advance(timedelta(minutes=1))
    clocked_world.sweep()
    assert any(str(m["text"]).startswith("🚨 Hastende henvendelse") for m in comms_history(clocked_world))


def test_a_card_that_cannot_be_posted_is_reported_to_the_unit_in_one_sweep(
    clocked_world: SandboxWorld,
) -> None:
    name = drop_channel_of(clocked_world, GAS)
    clocked_world.sweep()
    # The outbox's refusal note tells the unit: the channel and, in Danish, what to do.
    assert any(name in str(m["text"]) for m in comms_history(clocked_world)
               if not str(m["text"]).startswith("🚨"))


def test_the_urgent_alert_is_not_repeated_by_later_sweeps(clocked_world: SandboxWorld) -> None:
    drop_channel_of(clocked_world, GAS)
    for _ in range(3):
        clocked_world.clock.advance(timedelta(minutes=5))
        clocked_world.sweep()
    alerts = [m for m in comms_history(clocked_world) if str(m["text"]).startswith("🚨")]
    assert len(alerts) == 1
