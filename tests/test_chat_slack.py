"""SlackGateway against the fake Slack over loopback: what lands in which channel, how
Slack's refusals surface, and how posting is paced per channel."""

from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_sdk import WebClient

from bot.chat import slack_blocks
from bot.chat.base import ChatRef, InquiryView
from bot.chat.slack import SlackCallFailed, SlackGateway
from bot.errors import ChatError
from bot.privacy import CPR_MASK
from bot.sandbox.slack import FakeSlack
from tests.slack_support import FakeClock

NOW = datetime(2026, 5, 12, 8, 50, tzinfo=UTC)
VIEW = InquiryView(
    inquiry_id=7, platform="facebook", kind="comment", author_name="Ida <!here>",
    text="Hvornår tømmes <@U1> skraldet? 010190-1234", post_text=None, permalink=None,
    route_id="teknik", route_name="Teknik og Miljø", reasons=(), urgent=False,
    no_reply_needed=False, deadline_at=NOW + timedelta(hours=4), now=NOW, state="posted",
    actions=("draft", "no_reply"))


@pytest.fixture
def fake(slack: FakeSlack) -> FakeSlack:
    """The shared fake workspace plus a second channel, #born, that U1 is not in."""
    slack.add_channel("C2", "born")
    return slack


def gateway(fake: FakeSlack, clock: FakeClock, token: str = "xoxb-test",
            **options: float) -> SlackGateway:
    client = WebClient(token=token, base_url=fake.base_url, timeout=1)
    return SlackGateway(client, sleep=clock.sleep, clock=clock, **options)  # type: ignore[arg-type]


def test_a_new_inquiry_appears_as_one_card_in_its_channel(
        fake: FakeSlack, slack_clock: FakeClock) -> None:
    ref = gateway(fake, slack_clock).post_inquiry("C1", VIEW)
    assert [m["ts"] for m in fake.history("C1")] == [ref.ts]
    assert fake.history("C1")[0]["blocks"] == slack_blocks.inquiry_card(VIEW)["blocks"]


def test_citizen_text_reaches_slack_escaped_and_masked(
        fake: FakeSlack, slack_clock: FakeClock) -> None:
    ref = gateway(fake, slack_clock).post_inquiry("C1", VIEW)
    body = fake.message("C1", ref.ts)["blocks"][1]["text"]["text"]
    assert body == f"*Ida &lt;!here&gt;* skrev:\nHvornår tømmes &lt;@U1&gt; skraldet? {CPR_MASK}"


def test_link_previews_are_turned_off_for_citizen_content(
        fake: FakeSlack, slack_clock: FakeClock) -> None:
    gateway(fake, slack_clock).post_inquiry("C1", VIEW)
    args = fake.calls_to("chat.postMessage")[0].args
    assert (args["unfurl_links"], args["unfurl_media"]) == (False, False)


def test_the_approval_request_goes_to_the_communication_channel(
        fake: FakeSlack, slack_clock: FakeClock) -> None:
    view = dataclasses.replace(VIEW, draft_text="Hej Ida", actions=("approve", "reject"))
    gateway(fake, slack_clock).post_approval("C2", view)
    assert fake.history("C2")[0]["blocks"][0]["text"]["text"].startswith("Udkast til godkendelse")


def test_an_update_redraws_the_same_message(fake: FakeSlack, slack_clock: FakeClock) -> None:
    chat = gateway(fake, slack_clock)
    ref = chat.post_inquiry("C1", VIEW)
    chat.update(ref, dataclasses.replace(VIEW, actions=(), status_lines=("✅ Besvaret",)))
    versions = fake.versions("C1", ref.ts)
    assert len(versions) == 2 and "✅ Besvaret" in str(versions[-1]["blocks"])
    assert [m["ts"] for m in fake.history("C1")] == [ref.ts]


def test_a_thread_message_lands_under_the_card(fake: FakeSlack, slack_clock: FakeClock) -> None:
    chat = gateway(fake, slack_clock)
    ref = chat.post_inquiry("C1", VIEW)
    chat.post_in_thread(ref, "⏰ Påmindelse")
    assert [m["text"] for m in fake.thread("C1", ref.ts)] == ["⏰ Påmindelse"]


def test_a_notice_never_carries_a_cpr_number(fake: FakeSlack, slack_clock: FakeClock) -> None:
    gateway(fake, slack_clock).notify("C2", "Borger skrev 010190-1234")
    assert fake.history("C2")[0]["text"] == f"Borger skrev {CPR_MASK}"


def test_an_ephemeral_message_is_shown_to_one_person_only(
        fake: FakeSlack, slack_clock: FakeClock) -> None:
    gateway(fake, slack_clock).post_ephemeral("C1", "U1", "Beklager")
    assert [(e["user"], e["text"]) for e in fake.ephemerals] == [("U1", "Beklager")]
    assert fake.history("C1") == []


def test_an_unknown_channel_is_a_chat_error_naming_slacks_code(
        fake: FakeSlack, slack_clock: FakeClock) -> None:
    with pytest.raises(SlackCallFailed) as caught:
        gateway(fake, slack_clock).notify("C404", "hej")
    assert caught.value.code == "channel_not_found"


def test_a_revoked_token_is_a_chat_error(fake: FakeSlack, slack_clock: FakeClock) -> None:
    with pytest.raises(ChatError, match="invalid_auth"):
        gateway(fake, slack_clock, token="xoxb-revoked").notify("C1", "hej")


def test_an_unreachable_slack_is_a_chat_error(slack_clock: FakeClock) -> None:
    client = WebClient(token="xoxb-test", base_url="http://127.0.0.1:9/api/", timeout=0.2)
    client.retry_handlers.clear()
    with pytest.raises(ChatError, match="unreachable"):
        SlackGateway(client, sleep=slack_clock.sleep, clock=slack_clock).notify("C1", "hej")


def test_a_429_is_waited_out_for_its_retry_after(fake: FakeSlack, slack_clock: FakeClock) -> None:
    fake.fail_next("chat.postMessage", "ratelimited", status=429, retry_after=2)
    gateway(fake, slack_clock).notify("C1", "hej")
    assert slack_clock.slept == [2.0]
    assert len(fake.history("C1")) == 1


def test_after_a_429_the_next_post_in_that_channel_waits_for_its_turn_too(
        fake: FakeSlack, slack_clock: FakeClock) -> None:
    fake.fail_next("chat.postMessage", "ratelimited", status=429, retry_after=2)
    chat = gateway(fake, slack_clock)
    chat.notify("C1", "første")
    chat.notify("C1", "anden")
    assert slack_clock.slept == [2.0, 1.0]
    assert len(fake.calls_to("chat.postMessage")) == 3  # one refusal, then both accepted


def test_slack_throttling_that_never_ends_becomes_a_chat_error(
        fake: FakeSlack, slack_clock: FakeClock) -> None:
    fake.fail_next("chat.update", "ratelimited", status=429, retry_after=1, times=10)
    with pytest.raises(SlackCallFailed, match="ratelimited"):
        gateway(fake, slack_clock, max_rate_limit_waits=3).update(ChatRef("C1", "1.0"), VIEW)
    assert slack_clock.slept == [1.0, 1.0, 1.0]


def test_posts_to_one_channel_are_paced_one_per_second(
        fake: FakeSlack, slack_clock: FakeClock) -> None:
    chat = gateway(fake, slack_clock)
    for _ in range(3):
        chat.notify("C1", "hej")
    assert slack_clock.slept == [1.0, 1.0]


def test_the_posting_rate_is_configurable(fake: FakeSlack, slack_clock: FakeClock) -> None:
    chat = gateway(fake, slack_clock, messages_per_second=4)
    for _ in range(3):
        chat.notify("C1", "hej")
    assert slack_clock.slept == [0.25, 0.25]


def test_another_channel_posts_without_waiting_for_a_busy_one(
        fake: FakeSlack, slack_clock: FakeClock) -> None:
    chat = gateway(fake, slack_clock)
    chat.notify("C1", "første")
    chat.notify("C2", "anden kanal")
    assert slack_clock.slept == []


def test_paced_posting_never_hits_slacks_channel_limit(
        fake: FakeSlack, slack_clock: FakeClock) -> None:
    fake.limit_posts_per_channel(1.0)
    chat = gateway(fake, slack_clock)
    for index in range(5):
        chat.notify("C1", f"besked {index}")
        chat.notify("C2", f"besked {index}")
    assert len(fake.history("C1")) == len(fake.history("C2")) == 5
    assert len(fake.calls_to("chat.postMessage")) == 10  # not one refused and retried


def test_a_waiting_channel_does_not_block_another_thread(fake: FakeSlack) -> None:
    released = threading.Event()
    waiting = threading.Event()

    def blocking_sleep(seconds: float) -> None:
        waiting.set()
        released.wait(timeout=5)

    client = WebClient(token="xoxb-test", base_url=fake.base_url, timeout=1)
    chat = SlackGateway(client, sleep=blocking_sleep)
    chat.notify("C1", "første")
    busy = threading.Thread(target=chat.notify, args=("C1", "anden"))
    busy.start()
    assert waiting.wait(timeout=5)
    chat.notify("C2", "imens")
    assert (len(fake.history("C1")), len(fake.history("C2"))) == (1, 1)
    released.set()
    busy.join(timeout=5)
    assert len(fake.history("C1")) == 2


def test_a_modal_opens_with_a_fresh_trigger(fake: FakeSlack, slack_clock: FakeClock) -> None:
    modal = slack_blocks.draft_modal(VIEW, greeting="Hej Ida", sign_off="Venlig hilsen")
    view_id = gateway(fake, slack_clock).open_modal(fake.new_trigger_id(), modal)
    assert fake.views[view_id]["callback_id"] == "draft_modal"


def test_a_permalink_points_at_the_card(fake: FakeSlack, slack_clock: FakeClock) -> None:
    chat = gateway(fake, slack_clock)
    ref = chat.post_inquiry("C1", VIEW)
    assert chat.permalink(ref).endswith(f"/C1/p{ref.ts.replace('.', '')}")


def test_the_communication_unit_is_read_from_its_user_group(
        fake: FakeSlack, slack_clock: FakeClock) -> None:
    fake.add_usergroup("S1", ("U1", "U2"))
    assert gateway(fake, slack_clock).usergroup_members("S1") == {"U1", "U2"}


def test_a_person_is_named_by_their_display_name(fake: FakeSlack, slack_clock: FakeClock) -> None:
    fake.add_user("U1", "mette", real_name="Mette Eriksen", display_name="Mette")
    assert gateway(fake, slack_clock).display_name("U1") == "Mette"


markup = st.sampled_from(["<!channel>", "<@U1>", "<http://evil.example|Din bank>", "&lt;", "\u202e",
                          "\u200b", "010190-1234", "x" * 5000, "\n" * 50, "*_~`>"])
hostile = st.lists(st.one_of(markup, st.text()), max_size=8).map("".join)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(author=hostile, text=hostile, draft=hostile)
def test_slack_accepts_every_card_whatever_the_citizen_wrote(
        slack_server: FakeSlack, author: str, text: str, draft: str) -> None:
    slack_server.reset()
    slack_server.add_channel("C1", "teknik")
    view = dataclasses.replace(VIEW, author_name=author, text=text, post_text=text,
                               draft_text=draft, actions=("approve", "edit", "reject"))
    clock = FakeClock()
    chat = SlackGateway(WebClient(token="xoxb-test", base_url=slack_server.base_url, timeout=1),
                        sleep=clock.sleep, clock=clock)
    chat.post_inquiry("C1", view)
    chat.post_approval("C1", view)
    assert len(slack_server.history("C1")) == 2


def test_a_person_slack_does_not_know_has_no_name(fake: FakeSlack, slack_clock: FakeClock) -> None:
    """users.info answers `user_not_found`; a draft mentioning them is refused, never sent with an id."""
    assert gateway(fake, slack_clock).display_name("U0NOBODY") is None
