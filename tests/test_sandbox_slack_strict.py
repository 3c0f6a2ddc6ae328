"""The fake Slack is as strict as Slack: scopes from the manifest, rate-limit tiers, channel
ids where Slack wants ids, deletions and the reply subtypes, and retried deliveries."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.sandbox.slack import FakeSlack
from bot.sandbox.slack_limits import manifest_scopes
from bot.sandbox.slack_requests import SlackRequests
from tests.slack_support import FakeClock

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def client(slack: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=slack.base_url, timeout=1)


def refusal(call: Any, **args: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        call(**args)
    return caught.value


def test_a_method_the_manifest_grants_no_scope_for_fails_with_missing_scope(
        slack: FakeSlack, client: WebClient) -> None:
    slack.scopes = frozenset({"chat:write"})
    refused = refusal(client.usergroups_users_list, usergroup="S1")
    assert (refused.response["error"], refused.response["needed"]) == ("missing_scope", "usergroups:read")


def test_reading_a_private_channel_needs_the_private_scope(slack: FakeSlack, client: WebClient) -> None:
    slack.add_channel("G1", "hemmelig", private=True)
    slack.scopes = frozenset({"channels:history"})
    assert refusal(client.conversations_history, channel="G1").response["needed"] == "groups:history"


def test_the_manifest_grants_every_method_the_bot_calls(slack: FakeSlack, client: WebClient) -> None:
    slack.add_usergroup("S1", ("U1",))
    slack.add_user("U1", "u1")
    client.chat_postMessage(channel="C1", text="hej")
    client.conversations_history(channel="C1")
    client.conversations_list(types="public_channel,private_channel")
    client.usergroups_users_list(usergroup="S1")
    client.users_info(user="U1")
    client.chat_postEphemeral(channel="C1", user="U1", text="kun til dig")


def test_the_readme_lists_exactly_the_scopes_the_manifest_asks_for() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    paragraph = readme[readme.index("It asks only for the scopes"):]
    listed = set(re.findall(r"`([a-z]+(?::[a-z.]+)?)`", paragraph[:paragraph.index(")")]))
    assert listed == set(manifest_scopes() or ())


def test_a_tier_2_method_is_throttled_after_its_minute_of_calls(slack: FakeSlack, client: WebClient) -> None:
    slack.add_usergroup("S1", ("U1",))
    for _ in range(20):
        client.usergroups_users_list(usergroup="S1")
    refused = refusal(client.usergroups_users_list, usergroup="S1")
    assert (refused.response.status_code, refused.response["error"]) == (429, "ratelimited")
    assert int(refused.response.headers["Retry-After"]) >= 1


def test_a_throttled_tier_recovers_at_its_rate(slack: FakeSlack, client: WebClient,
                                               slack_clock: FakeClock) -> None:
    slack.add_usergroup("S1", ("U1",))
    for _ in range(20):
        client.usergroups_users_list(usergroup="S1")
    slack_clock.now += 3.0  # Tier 2: one more call every 3 seconds
    assert client.usergroups_users_list(usergroup="S1")["users"] == ["U1"]


def test_an_ephemeral_sent_to_a_user_id_as_channel_is_channel_not_found(client: WebClient) -> None:
    assert refusal(client.chat_postEphemeral, channel="U1", user="U1", text="x").response["error"] == \
        "channel_not_found"


def test_reading_history_by_channel_name_is_channel_not_found(client: WebClient) -> None:
    assert refusal(client.conversations_history, channel="#teknik").response["error"] == "channel_not_found"


def test_a_deleted_thread_reply_is_gone_and_announced_as_message_deleted(slack: FakeSlack) -> None:
    parent = slack.say("C1", "U1", "spørgsmål")
    reply = slack.say("C1", "U1", "svar", thread_ts=parent["ts"])
    event = slack.delete("C1", reply["ts"], "U1")
    assert (event["subtype"], event["deleted_ts"], event["previous_message"]["text"]) == (
        "message_deleted", reply["ts"], "svar")
    assert slack.thread("C1", parent["ts"]) == []


def test_a_deleted_parent_with_replies_becomes_a_tombstone(slack: FakeSlack) -> None:
    parent = slack.say("C1", "U1", "spørgsmål")
    slack.say("C1", "U1", "svar", thread_ts=parent["ts"])
    event = slack.delete("C1", parent["ts"], "U1")
    assert (event["subtype"], event["message"]["subtype"]) == ("message_changed", "tombstone")


def test_only_the_author_can_delete_a_message(slack: FakeSlack) -> None:
    slack.add_channel("C2", "andet", members=("U1", "U2"))
    said = slack.say("C2", "U1", "mit")
    with pytest.raises(Exception, match="cant_delete_message"):
        slack.delete("C2", said["ts"], "U2")


def test_a_reply_also_sent_to_the_channel_is_a_thread_broadcast(slack: FakeSlack) -> None:
    parent = slack.say("C1", "U1", "spørgsmål")
    reply = slack.say("C1", "U1", "svar", thread_ts=parent["ts"], broadcast=True)
    assert (reply["subtype"], reply["thread_ts"], reply["root"]["ts"]) == (
        "thread_broadcast", parent["ts"], parent["ts"])


def test_a_reply_with_a_file_is_a_file_share(slack: FakeSlack) -> None:
    parent = slack.say("C1", "U1", "spørgsmål")
    reply = slack.say("C1", "U1", "se billedet", thread_ts=parent["ts"], files=("kort.png",))
    assert (reply["subtype"], [f["name"] for f in reply["files"]]) == ("file_share", ["kort.png"])


def test_redeliveries_repeat_the_event_id_with_the_retry_headers() -> None:
    requests = SlackRequests("s", clock=lambda: 1_800_000_000.0)
    first, *retries = requests.deliveries({"type": "message", "ts": "1.0", "channel": "C1"}, retries=3)
    assert "x-slack-retry-num" not in first.headers
    assert [(r.headers["x-slack-retry-num"], r.headers["x-slack-retry-reason"]) for r in retries] == [
        ("1", "http_timeout"), ("2", "http_timeout"), ("3", "http_timeout")]
    assert len({r.body for r in (first, *retries)}) == 1


def test_a_click_carries_the_value_drawn_in_the_button(slack: FakeSlack) -> None:
    blocks = [{"type": "actions", "block_id": "b", "elements": [
        {"type": "button", "action_id": "approve", "value": "7:3", "text": {"type": "plain_text", "text": "Ok"}}]}]
    message = {"ts": "1.0", "blocks": blocks}
    request = SlackRequests("s").block_action(user="U1", action={"action_id": "approve", "value": "7"},
                                              message=message, channel="C1", trigger_id="t", response_url="u")
    assert "%227%3A3%22" in request.body  # "7:3", as the button says
