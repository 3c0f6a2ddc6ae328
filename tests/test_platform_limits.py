"""Platform limits slow the bot down instead of making it hammer or go quiet: Meta's usage
headers rest an account before Meta blocks it, and a spent X usage cap pauses the account
for about an hour at a time with one notice to the unit. The assembled product on loopback."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot import texts
from bot.demo.world import SandboxWorld
from bot.models import AccountStatus
from bot.polling import PollOutcome, poll_account
from tests.flow_support import comms_history


def poll(world: SandboxWorld, platform: str, account: str, now: datetime) -> PollOutcome:
    return poll_account(world.workflow, world.clients[(platform, account)], now)


def paused_for(world: SandboxWorld, platform: str, account: str, now: datetime) -> timedelta:
    with world.store.session() as session:
        status = session.get(AccountStatus, (platform, account))
        assert status is not None and status.paused_until is not None
        return status.paused_until - now


def cap_notices(world: SandboxWorld) -> list[str]:
    return [str(m.get("text")) for m in comms_history(world)
            if "kvote" in str(m.get("text"))]


def test_meta_usage_at_85_percent_stores_the_poll_then_rests_the_account(
    world: SandboxWorld,
) -> None:
    page = world.graph.world.page_id
    world.graph.add_comment(world.graph.add_post("Vejarbejde"), "Hvornår?", author_id="501")
    world.graph.set_usage(85)
    now = world.clock()
    outcome = poll(world, "facebook", page, now)
    assert (outcome.stored, outcome.skipped_reason) == (1, "throttled")
    assert paused_for(world, "facebook", page, now) == timedelta(minutes=10)
    assert poll(world, "facebook", page, now + timedelta(minutes=5)).skipped_reason == "paused"


def test_a_spent_x_cap_pauses_the_account_for_an_hour_with_one_notice(
    world: SandboxWorld,
) -> None:
    account = world.x.account_id
    world.x.usage_cap_next(times=10)
    now = world.clock()
    assert poll(world, "x", account, now).skipped_reason == "throttled"
    assert paused_for(world, "x", account, now) >= timedelta(hours=1)
    assert poll(world, "x", account, now + timedelta(minutes=1)).skipped_reason == "paused"
    assert poll(world, "x", account, now + timedelta(hours=1, seconds=1)).skipped_reason == \
        "throttled"
    assert cap_notices(world) == [texts.usage_capped("x", account, now + timedelta(hours=1))]


def test_a_cap_after_the_account_read_again_is_told_again(world: SandboxWorld) -> None:
    account = world.x.account_id
    world.x.usage_cap_next(times=1)
    now = world.clock()
    poll(world, "x", account, now)
    later = now + timedelta(hours=1, seconds=1)
    assert poll(world, "x", account, later).skipped_reason == ""
    world.x.usage_cap_next(times=1)
    poll(world, "x", account, later + timedelta(minutes=1))
    assert len(cap_notices(world)) == 2
