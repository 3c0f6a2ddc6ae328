"""Polling through the whole product on loopback: what is stored, when, and what is left alone.

Time is passed to `poll_account` explicitly, so pauses are tested without waiting for them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import delete, select

from bot.demo.world import SandboxWorld
from bot.models import Inquiry, InquiryState, PollCursor
from bot.platforms.base import PlatformClient
from bot.polling import PollOutcome, poll_account
from tests.flow_support import comms_history

QUESTION = "Hvornår åbner svømmehallen igen efter renoveringen?"
ANSWER = "Hej, svømmehallen åbner igen mandag. Venlig hilsen Kultur og fritid"


def client_of(world: SandboxWorld, platform: str) -> PlatformClient:
    return next(c for c in world.clients.values() if c.platform == platform)


def poll(world: SandboxWorld, platform: str, now: datetime) -> PollOutcome:
    return poll_account(world.workflow, client_of(world, platform), now)


def poll_all(world: SandboxWorld, now: datetime) -> dict[str, PollOutcome]:
    return {c.platform: poll_account(world.workflow, c, now) for c in world.clients.values()}


def stored(world: SandboxWorld, platform: str, external_id: str) -> int:
    """How many inquiries hold this platform item (the product promises at most one)."""
    with world.store.session() as session:
        return len(session.exec(select(Inquiry).where(
            Inquiry.platform == platform, Inquiry.external_id == external_id)).all())


def cursors(world: SandboxWorld, platform: str) -> dict[str, str]:
    with world.store.session() as session:
        rows = session.exec(select(PollCursor).where(PollCursor.platform == platform)).all()
    return {row.stream: row.position for row in rows}



def comment(world: SandboxWorld, platform: str = "facebook") -> str:
    _, external_id = world.citizens.write({"platform": platform, "text": QUESTION})
    return external_id


def test_a_poll_that_reads_everything_again_stores_nothing_twice(world: SandboxWorld) -> None:
    first = comment(world)
    world.poll()
    with world.store.session() as session:
        session.exec(delete(PollCursor))
    second = comment(world)
    world.poll()
    assert (stored(world, "facebook", first), stored(world, "facebook", second)) == (1, 1)


def test_a_fetch_that_fails_half_way_keeps_the_cursor_and_loses_nothing(
    world: SandboxWorld,
) -> None:
    now = world.clock()
    poll(world, "facebook", now)
    before = cursors(world, "facebook")
    post = world.graph.add_post("Svømmehallen er lukket for renovering.")
    started = now - timedelta(minutes=2)
    comments = [world.graph.add_comment(post, f"{QUESTION} ({n})", author_id=f"{9_000_000 + n}",
                                        created_at=started + timedelta(seconds=n))
                for n in range(60)]  # more than one page of nested comments
    world.graph.throttle(route="GET /{id}/comments", minutes=1)
    assert poll(world, "facebook", now).skipped_reason == "throttled"
    assert cursors(world, "facebook") == before
    assert sum(stored(world, "facebook", c) for c in comments) == 0
    poll(world, "facebook", now + timedelta(minutes=2))
    assert [stored(world, "facebook", c) for c in comments] == [1] * 60


def test_a_throttled_account_does_not_hold_up_the_others(world: SandboxWorld) -> None:
    world.graph.throttle(status=429, route="GET /{id}/feed", minutes=5)
    on_facebook, on_linkedin, on_x = (comment(world, p) for p in ("facebook", "linkedin", "x"))
    outcomes = poll_all(world, world.clock())
    assert outcomes["facebook"].skipped_reason == "throttled"
    assert stored(world, "facebook", on_facebook) == 0
    assert (stored(world, "linkedin", on_linkedin), stored(world, "x", on_x)) == (1, 1)


def test_a_throttled_account_is_polled_again_once_the_wait_is_over(world: SandboxWorld) -> None:
    world.graph.throttle(status=429, route="GET /{id}/feed", minutes=5)
    now = world.clock()
    poll(world, "facebook", now)
    waiting = comment(world)
    world.graph.reset_counters()
    assert poll(world, "facebook", now + timedelta(minutes=4)).skipped_reason == "paused"
    assert world.graph.total_requests() == 0
    poll(world, "facebook", now + timedelta(minutes=6))
    assert stored(world, "facebook", waiting) == 1


def test_x_messages_throttled_on_their_own_do_not_stop_mentions(world: SandboxWorld) -> None:
    world.x.throttle_next(route="GET /dm_events")
    now = world.clock()
    poll(world, "x", now)
    mention = comment(world, "x")
    outcome = poll(world, "x", now + timedelta(minutes=1))
    assert outcome.skipped_reason == ""
    assert stored(world, "x", mention) == 1


def test_throttled_x_messages_are_read_again_once_their_window_reopens(world: SandboxWorld) -> None:
    world.x.throttle_next(route="GET /dm_events", reset_in=900)
    now = world.clock()
    poll(world, "x", now)
    _, message = world.citizens.write({"platform": "x", "kind": "message", "text": QUESTION})
    poll(world, "x", now + timedelta(minutes=5))
    assert stored(world, "x", message) == 0
    poll(world, "x", now + timedelta(minutes=16))
    assert stored(world, "x", message) == 1


def test_an_expired_token_is_told_once_in_danish_to_the_communication_unit(
    world: SandboxWorld,
) -> None:
    world.linkedin.expire_token()
    world.poll()
    world.poll()
    [notice] = comms_history(world)
    assert "LinkedIn" in notice["text"] and "adgangen er udløbet" in notice["text"]


def test_a_stopped_account_is_not_polled_again(world: SandboxWorld) -> None:
    world.linkedin.expire_token()
    assert poll(world, "linkedin", world.clock()).skipped_reason == "stopped"
    world.linkedin.reset_counters()
    assert poll(world, "linkedin", world.clock()).skipped_reason == "stopped"
    assert world.linkedin.total_requests() == 0


def test_a_stopped_account_resumed_after_a_new_token_is_polled_again(world: SandboxWorld) -> None:
    world.linkedin.expire_token()
    poll(world, "linkedin", world.clock())
    world.linkedin.restore_token()
    waiting = comment(world, "linkedin")
    world.workflow.intake.resume_account("linkedin", client_of(world, "linkedin").account)
    assert poll(world, "linkedin", world.clock()).skipped_reason == ""
    assert stored(world, "linkedin", waiting) == 1


def test_a_reply_written_on_the_platform_marks_the_inquiry_answered(world: SandboxWorld) -> None:
    question = comment(world)
    world.poll()
    page = world.graph.world.page_id
    reply = world.graph.add_comment(question, ANSWER, author_id=page, author_name="Eksempel Kommune")
    world.poll()
    inquiry = world.inquiry_for("facebook", question)
    assert (inquiry.state, inquiry.reply_external_id) == (InquiryState.ANSWERED, reply)


def test_the_municipalitys_own_reply_is_not_an_inquiry(world: SandboxWorld) -> None:
    question = comment(world)
    world.poll()
    page = world.graph.world.page_id
    reply = world.graph.add_comment(question, ANSWER, author_id=page, author_name="Eksempel Kommune")
    world.poll()
    assert stored(world, "facebook", reply) == 0


def test_a_refusal_the_poller_does_not_know_leaves_the_other_accounts_polled(
    world: SandboxWorld,
) -> None:
    refusal = {"error": {"code": 100, "type": "GraphMethodException", "message": "Unsupported get"}}
    world.graph.fail_next(400, refusal, route="GET /{id}/feed")
    on_linkedin = comment(world, "linkedin")
    outcomes = world.poll()
    assert outcomes[0].skipped_reason == "failed"
    assert stored(world, "linkedin", on_linkedin) == 1


def test_a_complaint_is_stored_as_journal_relevant(world: SandboxWorld) -> None:
    _, complaint = world.citizens.write({"platform": "facebook", "kind": "message",
                                         "text": "Jeg vil klage over afgørelsen om min byggesag."})
    world.poll()
    assert world.inquiry_for("facebook", complaint).journal_required
