"""Who may act on an inquiry: only requests Slack signed within the last five minutes, and for
approving, answering directly and hiding only people who are in the communication unit at
the moment they act, not merely when the buttons were drawn.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace

import pytest
from slack_sdk import WebClient
from sqlmodel import select

from bot.assembly import build_workflow
from bot.demo.world import BOT_TOKEN, OFFICERS, SIGNING_SECRET, SandboxWorld, specialist_for
from bot.models import Draft, InquiryState
from bot.sandbox.slack_requests import SignedRequest, SlackRequests
from handlers.app import build_app
from tests.flow_support import DRAFT, QUESTION, drafted, events

OFFICER = OFFICERS[0]
UNIT = "S0KOMMUNE"
STALE_SECONDS = 5 * 60 + 1
DRAFT_START = "Hej, vi henter storskraldet"
"""The draft's opening as it stands in a JSON body (the rest has escaped Danish letters)."""


def thread_reply(world: SandboxWorld, requests: SlackRequests) -> tuple[int, SignedRequest]:
    """A specialist's draft in a card's thread, signed by `requests`; returns the inquiry too."""
    inquiry = world.citizen_writes({"text": QUESTION})
    channel, ts = world.message_of(inquiry.id or 0)
    message = world.slack.say(channel, specialist_for(inquiry.route), DRAFT, thread_ts=ts)
    return inquiry.id or 0, requests.message_event(message)


def signed_by(secret: str = SIGNING_SECRET, skew: float = 0.0) -> SlackRequests:
    return SlackRequests(secret, clock=lambda: time.time() + skew)


def as_signed(request: SignedRequest) -> SignedRequest:
    return request


def unsigned(request: SignedRequest) -> SignedRequest:
    headers = {k: v for k, v in request.headers.items()
               if k not in ("x-slack-signature", "x-slack-request-timestamp")}
    return SignedRequest(request.body, headers)


def tampered(request: SignedRequest) -> SignedRequest:
    """A body changed after signing: the signature no longer matches it."""
    body = request.body.replace(DRAFT_START, "Ring til mig")
    assert body != request.body
    return SignedRequest(body, request.headers)


FORGERIES: dict[str, tuple[SlackRequests, Callable[[SignedRequest], SignedRequest]]] = {
    "missing signature": (signed_by(), unsigned),
    "signed with another secret": (signed_by("not-the-secret"), as_signed),
    "body changed after signing": (signed_by(), tampered),
    "over five minutes old": (signed_by(skew=-STALE_SECONDS), as_signed),
    "over five minutes ahead": (signed_by(skew=STALE_SECONDS), as_signed),
}


def forged(world: SandboxWorld, forgery: str) -> tuple[int, SignedRequest]:
    requests, change = FORGERIES[forgery]
    inquiry_id, request = thread_reply(world, requests)
    return inquiry_id, change(request)


def drafts(world: SandboxWorld) -> list[Draft]:
    with world.store.session() as session:
        return list(session.exec(select(Draft)).all())


@pytest.mark.parametrize("forgery", FORGERIES)
def test_a_badly_signed_request_is_refused_with_401(world: SandboxWorld, forgery: str) -> None:
    _, request = forged(world, forgery)
    assert world.dispatch(request) == 401


@pytest.mark.parametrize("forgery", FORGERIES)
def test_a_badly_signed_request_changes_nothing(world: SandboxWorld, forgery: str) -> None:
    inquiry_id, request = forged(world, forgery)
    calls_before = len(world.slack.calls)
    world.dispatch(request)
    assert drafts(world) == []
    assert world.inquiry(inquiry_id).state is InquiryState.POSTED
    assert world.inquiry(inquiry_id).approval_ts is None
    assert world.slack.calls[calls_before:] == []


def test_a_correctly_signed_request_is_accepted(world: SandboxWorld) -> None:
    inquiry_id, request = thread_reply(world, world.requests)
    assert world.dispatch(request) == 200
    assert [d.text for d in drafts(world)] == [DRAFT]
    assert world.inquiry(inquiry_id).approval_ts is not None


def test_a_signature_four_minutes_old_is_still_accepted(world: SandboxWorld) -> None:
    """Slack allows five minutes of clock skew; a slightly slow clock must not lock people out."""
    _, request = thread_reply(world, signed_by(skew=-240))
    assert world.dispatch(request) == 200


def test_a_refused_request_leaves_its_body_out_of_the_logs(
    world: SandboxWorld, caplog: pytest.LogCaptureFixture
) -> None:
    """Bolt reports a bad signature with the whole body; that body is citizen text and drafts."""
    _, request = thread_reply(world, signed_by("not-the-secret"))
    with caplog.at_level(logging.DEBUG):
        world.dispatch(request)
    assert any("signature" in record.getMessage() for record in caplog.records)
    assert DRAFT_START not in caplog.text


# --- membership at the moment of the action ---------------------------------------------------


@pytest.fixture
def unit_world(world: SandboxWorld) -> SandboxWorld:
    """The world with the communication unit as a Slack user group (no fixed officer list), so
    a member can be removed in Slack while the cards are already on screen."""
    world.slack.add_usergroup(UNIT, (OFFICER,))
    setup = replace(world.config.setup, officers=frozenset(), officer_group=UNIT)
    world.workflow = build_workflow(
        replace(world.config, setup=setup), world.store, world.gateway, world.clients,
        group_members=world.gateway.usergroup_members, clock=world.clock,
    )
    world.app = build_app(
        world.settings, world.workflow,
        client=WebClient(token=BOT_TOKEN, base_url=world.slack.base_url),
        token_verification_enabled=False, synchronous=True,
    )
    return world


def leave_unit(world: SandboxWorld) -> None:
    world.slack.add_usergroup(UNIT, ())


def refusals(world: SandboxWorld) -> list[tuple[str, str]]:
    return [(e.actor, e.detail["attempted"]) for e in events(world, "refused")]


def test_a_member_of_the_unit_group_may_approve(unit_world: SandboxWorld) -> None:
    inquiry = drafted(unit_world)
    unit_world.click(OFFICER, inquiry.id or 0, "approve", on="approval")
    assert unit_world.replies_seen_by_citizen(inquiry.id or 0) == [DRAFT]


def test_an_officer_removed_after_the_buttons_were_drawn_cannot_approve(
    unit_world: SandboxWorld,
) -> None:
    inquiry = drafted(unit_world)
    leave_unit(unit_world)
    unit_world.click(OFFICER, inquiry.id or 0, "approve", on="approval")
    assert unit_world.replies_seen_by_citizen(inquiry.id or 0) == []
    assert unit_world.inquiry(inquiry.id or 0).state is InquiryState.DRAFTED
    assert refusals(unit_world) == [(OFFICER, "approve")]


def test_an_officer_removed_while_the_answer_form_is_open_cannot_send_it(
    unit_world: SandboxWorld,
) -> None:
    inquiry = unit_world.citizen_writes({"text": QUESTION})
    unit_world.click(OFFICER, inquiry.id or 0, "answer")
    leave_unit(unit_world)
    unit_world.submit_modal(OFFICER, "answer_modal", "Vi henter den i morgen.")
    assert unit_world.replies_seen_by_citizen(inquiry.id or 0) == []
    assert refusals(unit_world) == [(OFFICER, "answer_direct")]


def test_an_officer_removed_after_the_buttons_were_drawn_cannot_hide(
    unit_world: SandboxWorld,
) -> None:
    inquiry = unit_world.citizen_writes({"text": QUESTION})
    leave_unit(unit_world)
    unit_world.click(OFFICER, inquiry.id or 0, "hide")
    assert events(unit_world, "hidden") == []
    assert refusals(unit_world) == [(OFFICER, "hide")]
