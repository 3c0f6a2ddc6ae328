"""The fake Slack behaves like Slack's Web API: shapes, errors, limits, threads, modals,
throttling, and signed inbound requests that a real Bolt app accepts."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from slack_bolt import App, BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.sandbox.slack import FakeSlack
from bot.sandbox.slack_requests import SlackRequests, signature
from tests.slack_support import FakeClock

SECRET = "test-secret"


@pytest.fixture
def client(slack: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=slack.base_url, timeout=1)


def error_of(call: Any, **args: Any) -> str:
    with pytest.raises(SlackApiError) as caught:
        call(**args)
    return str(caught.value.response["error"])


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


# --- transport and auth --------------------------------------------------------------------


def test_auth_test_names_the_bot_as_bolt_needs(client: WebClient) -> None:
    answer = client.auth_test()
    assert (answer["user_id"], answer["bot_id"], answer["team_id"]) == ("UBOT", "BBOT", "T1")


def test_a_call_without_token_is_not_authed(slack: FakeSlack) -> None:
    answer = httpx.post(f"{slack.base_url}auth.test", timeout=1)
    assert (answer.status_code, answer.json()) == (200, {"ok": False, "error": "not_authed"})


def test_a_wrong_token_is_invalid_auth(slack: FakeSlack) -> None:
    wrong = WebClient(token="xoxb-other", base_url=slack.base_url, timeout=1)
    assert error_of(wrong.auth_test) == "invalid_auth"


def test_get_with_a_query_string_and_a_path_without_api_prefix_work(slack: FakeSlack) -> None:
    answer = httpx.get(f"{slack.root_url}/chat.postMessage",
                       params={"token": "xoxb-test", "channel": "C1", "text": "hej"}, timeout=1)
    assert answer.json()["ok"] and slack.history("C1")[0]["text"] == "hej"


def test_blocks_sent_as_a_json_string_in_a_form_are_understood(slack: FakeSlack) -> None:
    form = {"channel": "C1", "blocks": json.dumps([section("hej")])}
    httpx.post(f"{slack.base_url}chat.postMessage", data=form, timeout=1,
               headers={"Authorization": "Bearer xoxb-test"})
    assert slack.history("C1")[0]["blocks"] == [section("hej")]


# --- posting ---------------------------------------------------------------------------------


def test_a_post_returns_the_stored_message(client: WebClient) -> None:
    answer = client.chat_postMessage(channel="C1", text="hej")
    assert answer["message"]["user"] == "UBOT" and answer["message"]["ts"] == answer["ts"]


def test_a_private_channel_without_the_bot_is_not_found(
        slack: FakeSlack, client: WebClient) -> None:
    slack.add_channel("G1", "hemmelig", private=True, bot_member=False)
    assert error_of(client.chat_postMessage, channel="G1", text="hej") == "channel_not_found"


def test_a_public_channel_without_the_bot_needs_an_invitation(
        slack: FakeSlack, client: WebClient) -> None:
    slack.add_channel("C9", "andet", bot_member=False)
    assert error_of(client.chat_postMessage, channel="C9", text="hej") == "not_in_channel"


def test_an_archived_channel_refuses_posts(slack: FakeSlack, client: WebClient) -> None:
    slack.add_channel("C8", "gammel", archived=True)
    assert error_of(client.chat_postMessage, channel="C8", text="hej") == "is_archived"


def test_a_post_without_text_or_blocks_is_refused(slack: FakeSlack) -> None:
    answer = httpx.post(f"{slack.base_url}chat.postMessage", json={"channel": "C1"}, timeout=1,
                        headers={"Authorization": "Bearer xoxb-test"})
    assert answer.json() == {"ok": False, "error": "no_text"}


def test_a_very_long_text_is_truncated_at_40000(slack: FakeSlack, client: WebClient) -> None:
    client.chat_postMessage(channel="C1", text="x" * 50_000)
    assert len(slack.history("C1")[0]["text"]) == 40_000


def test_ts_values_increase_and_sort_as_strings_within_one_second(client: WebClient) -> None:
    stamps = [client.chat_postMessage(channel="C1", text=str(i))["ts"] for i in range(5)]
    assert stamps == sorted(stamps) and len(set(stamps)) == 5 and len({len(s) for s in stamps}) == 1


@pytest.mark.parametrize("blocks", [
    [section("x")] * 51,
    [section("x" * 3001)],
    [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}],
    [{"type": "header", "text": {"type": "mrkdwn", "text": "x"}}],
    [{"type": "actions", "elements": [{"type": "button", "action_id": "a", "value": "v" * 2001,
                                       "text": {"type": "plain_text", "text": "OK"}}]}],
    [{"type": "actions", "elements": [{"type": "button", "action_id": "a" * 256,
                                       "text": {"type": "plain_text", "text": "OK"}}]}],
    [{"type": "actions", "elements": [{"type": "button", "action_id": "a",
                                       "text": {"type": "plain_text", "text": "x" * 76}}]}],
    [{"type": "actions", "elements": [{"type": "button", "action_id": "a",
                                       "text": {"type": "plain_text", "text": "OK"}}] * 2}],
    [{"type": "blink", "text": "x"}],
    [section("")],
], ids=["51 blocks", "long section", "long header", "mrkdwn header", "long value",
        "long action_id", "long button", "duplicate action_id", "unknown type", "empty text"])
def test_blocks_slack_would_refuse_are_invalid(client: WebClient, blocks: list[Any]) -> None:
    assert error_of(client.chat_postMessage, channel="C1", text="x", blocks=blocks) == (
        "invalid_blocks")


def test_invalid_blocks_point_at_the_culprit(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel="C1", text="x", blocks=[section("ok"), section("x" * 3001)])
    first = caught.value.response["response_metadata"]["messages"][0]
    assert "[json-pointer:/blocks/1/text/text]" in first


def test_too_much_text_across_blocks_is_msg_blocks_too_long(client: WebClient) -> None:
    blocks = [section("x" * 2900)] * 5
    assert error_of(client.chat_postMessage, channel="C1", text="x", blocks=blocks) == (
        "msg_blocks_too_long")


# --- threads, updates, ephemerals, permalinks, history ------------------------------------


def test_a_reply_updates_the_parents_thread_summary(slack: FakeSlack, client: WebClient) -> None:
    parent = client.chat_postMessage(channel="C1", text="kort")["ts"]
    reply = slack.say("C1", "U1", "udkast", thread_ts=parent)
    root = slack.message("C1", parent)
    summary = (root["reply_count"], root["reply_users"], root["latest_reply"])
    assert summary == (1, ["U1"], reply["ts"])
    assert root["thread_ts"] == parent


def test_a_reply_to_a_reply_joins_the_parents_thread(slack: FakeSlack, client: WebClient) -> None:
    parent = client.chat_postMessage(channel="C1", text="kort")["ts"]
    first = client.chat_postMessage(channel="C1", text="a", thread_ts=parent)["ts"]
    client.chat_postMessage(channel="C1", text="b", thread_ts=first)
    assert [m["text"] for m in slack.thread("C1", parent)] == ["a", "b"]


def test_a_reply_to_an_unknown_message_is_refused(client: WebClient) -> None:
    refused = error_of(client.chat_postMessage, channel="C1", text="x", thread_ts="1.2")
    assert refused == "message_not_found"


def test_an_update_keeps_ts_and_blocks_unless_given(slack: FakeSlack, client: WebClient) -> None:
    ts = client.chat_postMessage(channel="C1", text="før", blocks=[section("før")])["ts"]
    client.chat_update(channel="C1", ts=ts, text="efter")
    assert slack.message("C1", ts)["blocks"] == [section("før")]
    client.chat_update(channel="C1", ts=ts, text="efter", blocks=[])
    assert slack.message("C1", ts)["blocks"] == [] and len(slack.versions("C1", ts)) == 3


def test_only_the_bots_own_messages_can_be_updated(slack: FakeSlack, client: WebClient) -> None:
    ts = slack.say("C1", "U1", "mit")["ts"]
    assert error_of(client.chat_update, channel="C1", ts=ts, text="x") == "cant_update_message"


def test_updating_a_missing_message_is_message_not_found(client: WebClient) -> None:
    refused = error_of(client.chat_update, channel="C1", ts="1.000001", text="x")
    assert refused == "message_not_found"


def test_an_update_over_4000_characters_is_too_long(client: WebClient) -> None:
    ts = client.chat_postMessage(channel="C1", text="kort")["ts"]
    assert error_of(client.chat_update, channel="C1", ts=ts, text="x" * 4001) == "msg_too_long"


def test_an_ephemeral_needs_the_person_in_the_channel(client: WebClient) -> None:
    refused = error_of(client.chat_postEphemeral, channel="C1", user="U7", text="x")
    assert refused == "user_not_in_channel"


def test_a_reply_permalink_names_its_thread(slack: FakeSlack, client: WebClient) -> None:
    parent = client.chat_postMessage(channel="C1", text="kort")["ts"]
    reply = client.chat_postMessage(channel="C1", text="svar", thread_ts=parent)["ts"]
    link = client.chat_getPermalink(channel="C1", message_ts=reply)["permalink"]
    assert link.endswith(f"p{reply.replace('.', '')}?thread_ts={parent}&cid=C1")


def test_history_pages_newest_first_without_thread_replies(client: WebClient) -> None:
    stamps = [client.chat_postMessage(channel="C1", text=str(i))["ts"] for i in range(3)]
    client.chat_postMessage(channel="C1", text="svar", thread_ts=stamps[0])
    first = client.conversations_history(channel="C1", limit=2)
    rest = client.conversations_history(channel="C1", limit=2,
                                        cursor=first["response_metadata"]["next_cursor"])
    assert [m["ts"] for m in first["messages"] + rest["messages"]] == stamps[::-1]
    assert rest["response_metadata"]["next_cursor"] == ""


def test_replies_list_the_parent_then_the_thread(client: WebClient) -> None:
    parent = client.chat_postMessage(channel="C1", text="kort")["ts"]
    client.chat_postMessage(channel="C1", text="svar", thread_ts=parent)
    messages = client.conversations_replies(channel="C1", ts=parent)["messages"]
    assert [m["text"] for m in messages] == ["kort", "svar"]


def test_user_groups_and_users_answer_or_say_unknown(slack: FakeSlack, client: WebClient) -> None:
    slack.add_usergroup("S1", ("U1",))
    slack.add_user("U1", "mette", real_name="Mette Eriksen")
    assert client.usergroups_users_list(usergroup="S1")["users"] == ["U1"]
    assert client.users_info(user="U1")["user"]["real_name"] == "Mette Eriksen"
    assert error_of(client.usergroups_users_list, usergroup="S9") == "no_such_subteam"
    assert error_of(client.users_info, user="U9") == "user_not_found"


# --- modals ---------------------------------------------------------------------------------

MODAL = {"type": "modal", "callback_id": "draft_modal", "blocks": [section("hej")],
         "title": {"type": "plain_text", "text": "Udkast"}}


def test_a_trigger_opens_one_modal_only(slack: FakeSlack, client: WebClient) -> None:
    trigger = slack.new_trigger_id()
    client.views_open(trigger_id=trigger, view=MODAL)
    assert error_of(client.views_open, trigger_id=trigger, view=MODAL) == "exchanged_trigger_id"


def test_a_trigger_expires_after_three_seconds(
        slack: FakeSlack, client: WebClient, slack_clock: FakeClock) -> None:
    trigger = slack.new_trigger_id()
    slack_clock.now += 3.5
    assert error_of(client.views_open, trigger_id=trigger, view=MODAL) == "expired_trigger_id"


def test_a_modal_title_over_24_characters_is_refused(slack: FakeSlack, client: WebClient) -> None:
    view = {**MODAL, "title": {"type": "plain_text", "text": "x" * 25}}
    refused = error_of(client.views_open, trigger_id=slack.new_trigger_id(), view=view)
    assert refused == "invalid_arguments"


def test_a_stale_hash_is_a_conflict_and_each_update_gets_a_new_hash(
        slack: FakeSlack, client: WebClient) -> None:
    opened = client.views_open(trigger_id=slack.new_trigger_id(), view=MODAL)["view"]
    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=MODAL)["view"]
    assert updated["hash"] != opened["hash"]
    refused = error_of(client.views_update, view_id=opened["id"], hash=opened["hash"], view=MODAL)
    assert refused == "hash_conflict"


# --- failure injection, throttling, reset, hooks --------------------------------------------


def test_an_injected_429_carries_retry_after_and_then_passes(slack: FakeSlack) -> None:
    slack.fail_next("chat.postMessage", "ratelimited", status=429, retry_after=1)
    url, auth = f"{slack.base_url}chat.postMessage", {"Authorization": "Bearer xoxb-test"}
    first = httpx.post(url, json={"channel": "C1", "text": "x"}, headers=auth, timeout=1)
    second = httpx.post(url, json={"channel": "C1", "text": "x"}, headers=auth, timeout=1)
    throttled = (first.status_code, first.headers["Retry-After"], first.json()["error"])
    assert throttled == (429, "1", "ratelimited")
    assert second.json()["ok"]


def test_the_channel_limit_throttles_a_second_post_within_a_second(
        slack: FakeSlack, client: WebClient, slack_clock: FakeClock) -> None:
    slack.add_channel("C2", "born")
    slack.limit_posts_per_channel(1.0)
    client.chat_postMessage(channel="C1", text="1")
    client.chat_postMessage(channel="C2", text="andet sted")
    assert error_of(client.chat_postMessage, channel="C1", text="2") == "ratelimited"
    slack_clock.now += 1.0
    client.chat_postMessage(channel="C1", text="2")


def test_reset_forgets_messages_and_channels(slack: FakeSlack, client: WebClient) -> None:
    client.chat_postMessage(channel="C1", text="hej")
    slack.reset()
    assert error_of(client.chat_postMessage, channel="C1", text="hej") == "channel_not_found"
    assert slack.calls_to("chat.postMessage")[-1].args["channel"] == "C1"


def test_posts_to_a_response_url_are_kept(slack: FakeSlack) -> None:
    url = slack.new_response_url()
    httpx.post(url, json={"text": "kun til dig", "response_type": "ephemeral"}, timeout=1)
    assert slack.hook_posts[-1][1]["text"] == "kun til dig"


# --- signed inbound requests into a real Bolt app -------------------------------------------


def test_signing_matches_the_reference_vector() -> None:
    body = '{"type":"url_verification","challenge":"c"}'
    assert signature(SECRET, "1700000000", body) == (
        "v0=4fc8040beea4806ba85f241abe8a9dda02c6cf66e813dd79255f7a2026f53630")


@pytest.fixture
def bolt(slack: FakeSlack) -> tuple[App, list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []
    app = App(client=WebClient(token="xoxb-test", base_url=slack.base_url, timeout=1),
              signing_secret=SECRET, process_before_response=True)

    @app.event("message")
    def on_message(event: dict[str, Any]) -> None:
        seen.append(("message", event["text"]))

    @app.action("draft")
    def on_draft(ack: Any, body: dict[str, Any]) -> None:
        ack()
        seen.append(("draft", body["actions"][0]["value"]))

    @app.view("draft_modal")
    def on_submit(ack: Any, view: dict[str, Any]) -> None:
        ack()
        seen.append(("submit", view["state"]["values"]["reply_block"]["reply_input"]["value"]))

    @app.command("/borgerbot")
    def on_command(ack: Any, command: dict[str, Any]) -> None:
        ack()
        seen.append(("command", command["user_id"]))

    return app, seen


def dispatch(app: App, request: Any) -> int:
    return app.dispatch(BoltRequest(body=request.body, headers=request.headers)).status


def test_a_signed_thread_message_reaches_the_listener(slack: FakeSlack, bolt: Any) -> None:
    app, seen = bolt
    parent = slack.workspace.chat_postMessage({"channel": "C1", "text": "kort"})["ts"]
    message = slack.say("C1", "U1", "mit udkast", thread_ts=parent)
    assert dispatch(app, SlackRequests(SECRET).message_event(message)) == 200
    assert seen == [("message", "mit udkast")]


def test_a_signed_click_reaches_the_action_listener(slack: FakeSlack, bolt: Any) -> None:
    app, seen = bolt
    blocks = [{"type": "actions", "block_id": "inquiry:7", "elements": [
        {"type": "button", "action_id": "draft", "value": "7",
         "text": {"type": "plain_text", "text": "Skriv"}}]}]
    ts = slack.workspace.chat_postMessage({"channel": "C1", "blocks": blocks})["ts"]
    click = SlackRequests(SECRET).block_action(
        user="U1", action={"action_id": "draft", "value": "7"}, message=slack.message("C1", ts),
        channel="C1", trigger_id=slack.new_trigger_id(), response_url=slack.new_response_url())
    assert dispatch(app, click) == 200
    assert seen == [("draft", "7")]


def test_a_signed_modal_submission_carries_the_typed_text(slack: FakeSlack, bolt: Any) -> None:
    app, seen = bolt
    submit = SlackRequests(SECRET).view_submission(
        user="U1", view={**MODAL, "id": "V1"}, values={"reply_block": {"reply_input": "Hej Ida"}})
    assert dispatch(app, submit) == 200
    assert seen == [("submit", "Hej Ida")]


def test_a_signed_slash_command_reaches_the_command_listener(slack: FakeSlack, bolt: Any) -> None:
    app, seen = bolt
    command = SlackRequests(SECRET).slash_command(
        user="U1", channel="C1", trigger_id=slack.new_trigger_id(),
        response_url=slack.new_response_url())
    assert dispatch(app, command) == 200
    assert seen == [("command", "U1")]


def test_a_request_signed_too_long_ago_is_refused(bolt: Any) -> None:
    app, seen = bolt
    long_ago = SlackRequests(SECRET, clock=lambda: 1_000_000_000.0)
    stale = long_ago.event({"type": "message", "text": "x"})
    assert dispatch(app, stale) == 401 and seen == []


def test_a_request_signed_with_another_secret_is_refused(bolt: Any) -> None:
    app, seen = bolt
    forged = SlackRequests("not-the-secret").event({"type": "message", "text": "x"})
    assert dispatch(app, forged) == 401 and seen == []


def test_history_shows_message_metadata_only_to_a_caller_who_asks(
        slack: FakeSlack, client: WebClient) -> None:
    slack.add_channel("C1", "general")
    metadata = {"event_type": "borgerbot_post", "event_payload": {"key": "card:1"}}
    client.chat_postMessage(channel="C1", text="kort", metadata=metadata)
    plain = client.conversations_history(channel="C1")["messages"][0]
    full = client.conversations_history(channel="C1", include_all_metadata=True)["messages"][0]
    assert "metadata" not in plain
    assert full["metadata"] == metadata


def test_channels_are_listed_with_their_names_but_private_ones_only_to_members(
        slack: FakeSlack, client: WebClient) -> None:
    slack.add_channel("C1", "general")
    slack.add_channel("G1", "hemmelig", private=True, bot_member=False)
    listed = client.conversations_list(types="public_channel,private_channel")["channels"]
    assert [(c["id"], c["name"]) for c in listed] == [("C1", "general")]


def test_a_dropped_post_is_stored_although_the_caller_never_hears_so(slack: FakeSlack) -> None:
    slack.add_channel("C1", "general")
    slack.drop_next("chat.postMessage")
    with pytest.raises(httpx.TransportError):
        httpx.post(slack.base_url + "chat.postMessage", data={"channel": "C1", "text": "hej"},
                   headers={"Authorization": f"Bearer {slack.bot_token}"}, timeout=2)
    assert [m["text"] for m in slack.history("C1")] == ["hej"]


def test_the_channel_limit_tolerates_a_short_burst_then_refuses(
        slack: FakeSlack, client: WebClient) -> None:
    slack.limit_posts_per_channel(1.0, burst=3)
    for index in range(3):
        client.chat_postMessage(channel="C1", text=f"besked {index}")
    with pytest.raises(SlackApiError) as refused:
        client.chat_postMessage(channel="C1", text="én for meget")
    assert refused.value.response.status_code == 429
    assert refused.value.response.headers.get("Retry-After")
