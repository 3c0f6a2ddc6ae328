"""The X connector against the X emulator, over loopback HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.errors import (
    AuthExpired,
    DuplicateRejected,
    ObjectGone,
    PlatformError,
    PlatformUnavailable,
    RateLimited,
    UsageCapped,
)
from bot.platforms.base import FetchResult, IncomingItem
from bot.platforms.x import XClient
from bot.sandbox.x import XEmulator
from tests.emulator_support import NO_WAIT, OUTAGES, assert_token_kept_secret, begin_outage, serve


@pytest.fixture(scope="module")
def server() -> Iterator[XEmulator]:
    yield from serve(XEmulator())


@pytest.fixture
def x(server: XEmulator) -> XEmulator:
    server.reset()
    return server


@pytest.fixture
def anna(x: XEmulator) -> str:
    return x.add_user("anna_dk", "Anna Hansen")


@pytest.fixture
def client(x: XEmulator) -> Iterator[XClient]:
    connector = XClient(x.account_id, x.token, x.base_url, timeout=0.2, retry=NO_WAIT)
    yield connector
    connector.close()


def mentions(client: XClient, cursor: str = "") -> FetchResult:
    return client.fetch_new("mentions", cursor)


def messages(client: XClient, cursor: str = "") -> FetchResult:
    return client.fetch_new("messages", cursor)


def only(result: FetchResult) -> IncomingItem:
    [item] = result.items
    return item


def test_a_mention_arrives_with_its_author(x: XEmulator, client: XClient, anna: str) -> None:
    tweet = x.post("@EksempelKommune hvornår kommer sneploven?", author=anna)
    item = only(mentions(client))
    assert (item.external_id, item.kind, item.author_name) == (tweet, "mention", "Anna Hansen")


def test_a_reply_to_our_post_arrives_with_the_post_text(
    x: XEmulator, client: XClient, anna: str
) -> None:
    ours = x.post("Sneryddning starter kl. 4")
    x.post("Også på villavejene?", author=anna, reply_to=ours)
    item = only(mentions(client))
    assert (item.kind, item.post_id, item.post_text) == ("reply", ours, "Sneryddning starter kl. 4")


def test_a_direct_message_arrives_with_its_conversation(
    x: XEmulator, client: XClient, anna: str
) -> None:
    event = x.send_dm(anna, "Hej, jeg har et spørgsmål om ejendomsskat")
    item = only(messages(client))
    assert (item.external_id, item.kind, item.author_name) == (event, "message", "Anna Hansen")
    assert item.reply_target.ref["participant_id"] == anna


def test_a_second_mentions_poll_returns_only_what_is_new(
    x: XEmulator, client: XClient, anna: str
) -> None:
    x.post("@EksempelKommune første", author=anna)
    first = mentions(client)
    second_tweet = x.post("@EksempelKommune anden", author=anna)
    second = mentions(client, first.next_cursor)
    assert [i.external_id for i in second.items] == [second_tweet]
    assert mentions(client, second.next_cursor).items == []


def test_a_second_messages_poll_returns_only_what_is_new(
    x: XEmulator, client: XClient, anna: str
) -> None:
    x.send_dm(anna, "første")
    first = messages(client)
    later = x.send_dm(anna, "anden")
    second = messages(client, first.next_cursor)
    assert [i.external_id for i in second.items] == [later]
    assert messages(client, second.next_cursor).items == []


def test_idle_polls_cost_two_requests_for_mentions_and_one_for_messages(
    x: XEmulator, client: XClient, anna: str
) -> None:
    x.post("@EksempelKommune hej", author=anna)
    x.send_dm(anna, "hej")
    cursors = mentions(client).next_cursor, messages(client).next_cursor
    before = x.total_requests()
    mentions(client, cursors[0])
    assert x.total_requests() - before == 2
    messages(client, cursors[1])
    assert x.total_requests() - before == 3


def test_every_page_of_mentions_arrives(x: XEmulator, client: XClient, anna: str) -> None:
    for n in range(230):
        x.post(f"@EksempelKommune nummer {n}", author=anna)
    assert len(mentions(client).items) == 230


def test_message_paging_stops_at_the_last_stored_event(
    x: XEmulator, client: XClient, anna: str
) -> None:
    for n in range(45):
        x.send_dm(anna, f"besked {n}")
    first = messages(client)
    assert len(first.items) == 45
    x.send_dm(anna, "ny besked")
    before = x.total_requests()
    assert [i.text for i in messages(client, first.next_cursor).items] == ["ny besked"]
    assert x.total_requests() - before == 1


def test_our_own_reply_on_x_is_reported_as_the_answer(
    x: XEmulator, client: XClient, anna: str
) -> None:
    question = x.post("@EksempelKommune hvornår?", author=anna)
    answer = x.post("@anna_dk kl. 10", reply_to=question)
    result = mentions(client)
    assert [o.external_id for o in result.own_replies] == [answer]
    assert result.own_replies[0].answers_external_id == question


def test_our_own_post_mentioning_ourselves_is_not_an_inquiry(
    x: XEmulator, client: XClient
) -> None:
    x.post("Følg @EksempelKommune for driftsinfo")
    assert mentions(client).items == []


def test_our_own_message_is_reported_as_the_answer(
    x: XEmulator, client: XClient, anna: str
) -> None:
    question = x.send_dm(anna, "Hej")
    first = messages(client)
    x.answer_dm(anna, "Hej Anna")
    own = messages(client, first.next_cursor).own_replies
    assert [o.answers_external_id for o in own] == [question]


def test_a_reply_is_posted_under_the_citizens_post(
    x: XEmulator, client: XClient, anna: str
) -> None:
    question = x.post("@EksempelKommune hvornår?", author=anna)
    sent = client.send_reply(only(mentions(client)).reply_target, "Kl. 10", "key-1")
    assert x.replies_from_account(question) == ["Kl. 10"]
    assert sent.permalink and sent.external_id in sent.permalink


def test_an_answer_to_a_message_is_sent_as_a_message(
    x: XEmulator, client: XClient, anna: str
) -> None:
    x.send_dm(anna, "Hej")
    client.send_reply(only(messages(client)).reply_target, "Hej Anna", "key-1")
    assert x.dms_from_account(anna) == ["Hej Anna"]


def test_identical_reply_text_is_rejected_as_duplicate(
    x: XEmulator, client: XClient, anna: str
) -> None:
    x.post("@EksempelKommune et", author=anna)
    x.post("@EksempelKommune to", author=anna)
    first, second = mentions(client).items
    client.send_reply(first.reply_target, "Tak for din besked", "key-1")
    with pytest.raises(DuplicateRejected):
        client.send_reply(second.reply_target, "Tak for din besked", "key-2")


def test_a_reply_the_author_did_not_summon_is_refused_without_stopping_the_account(
    x: XEmulator, client: XClient, anna: str
) -> None:
    unrelated = x.post("Sne i dag", author=anna)
    x.post("@EksempelKommune se her", author=anna)
    target = only(mentions(client)).reply_target
    stray = type(target)("comment", {"tweet_id": unrelated, "conversation_id": unrelated})
    with pytest.raises(PlatformError) as caught:
        client.send_reply(stray, "Kl. 10", "key-1")
    assert not isinstance(caught.value, AuthExpired)


@pytest.mark.parametrize("mode", ["comment", "message"])
def test_a_reply_whose_answer_was_lost_is_found_on_the_platform(
    x: XEmulator, client: XClient, anna: str, mode: str
) -> None:
    if mode == "comment":
        x.post("@EksempelKommune hvornår?", author=anna)
        target = only(mentions(client)).reply_target
    else:
        x.send_dm(anna, "Hej")
        target = only(messages(client)).reply_target
    x.drop_next(apply=True, route=None)
    with pytest.raises(PlatformUnavailable):
        client.send_reply(target, "Svar fra kommunen", "key-1")
    found = client.find_reply(target, "key-1")
    assert found is not None


def test_find_reply_is_empty_when_nothing_was_sent(
    x: XEmulator, client: XClient, anna: str
) -> None:
    x.post("@EksempelKommune hvornår?", author=anna)
    assert client.find_reply(only(mentions(client)).reply_target, "key-1") is None


def test_a_reply_under_our_post_can_be_hidden_and_shown_again(
    x: XEmulator, client: XClient, anna: str
) -> None:
    reply = x.post("spam spam", author=anna, reply_to=x.post("Nyt fra kommunen"))
    target = only(mentions(client)).reply_target
    client.hide(target, True)
    assert x.is_hidden(reply)
    client.hide(target, False)
    assert not x.is_hidden(reply)


@pytest.mark.parametrize("legacy_body", [False, True])
def test_throttling_pauses_until_the_reset_header(
    x: XEmulator, client: XClient, legacy_body: bool
) -> None:
    x.throttle_next(reset_in=600, legacy_body=legacy_body)
    with pytest.raises(RateLimited) as caught:
        mentions(client)
    assert 590 <= caught.value.retry_after <= 600


def test_the_sixteenth_message_read_in_fifteen_minutes_is_throttled(
    x: XEmulator, client: XClient
) -> None:
    for _ in range(15):
        messages(client)
    with pytest.raises(RateLimited):
        messages(client)
    x.advance_clock(901)
    assert messages(client).items == []


def test_a_passing_server_error_is_retried(x: XEmulator, client: XClient, anna: str) -> None:
    x.post("@EksempelKommune hej", author=anna)
    x.server_error_next(503, times=2)
    assert len(mentions(client).items) == 1


@pytest.mark.parametrize("fault", OUTAGES)
def test_a_lasting_outage_raises_platform_unavailable(
    x: XEmulator, client: XClient, fault: str
) -> None:
    begin_outage(x, fault)
    with pytest.raises(PlatformUnavailable):
        mentions(client)


@pytest.mark.parametrize("problem", ["expired", "revoked", "permission"])
def test_a_token_problem_stops_the_account(x: XEmulator, client: XClient, problem: str) -> None:
    x.expire_token(problem)
    with pytest.raises(AuthExpired):
        messages(client)


def test_replying_to_a_deleted_post_raises_object_gone(
    x: XEmulator, client: XClient, anna: str
) -> None:
    tweet = x.post("@EksempelKommune hvornår?", author=anna)
    target = only(mentions(client)).reply_target
    x.delete_tweet(tweet)
    with pytest.raises(ObjectGone):
        client.send_reply(target, "Kl. 10", "key-1")


def test_the_token_never_reaches_logs_or_error_messages(
    x: XEmulator, client: XClient, anna: str, caplog: pytest.LogCaptureFixture
) -> None:
    x.post("@EksempelKommune hej", author=anna)
    assert_token_kept_secret(x, lambda: mentions(client), caplog)



def test_the_default_api_url_with_its_version_reaches_the_api(x: XEmulator, anna: str) -> None:
    """`x_api_url` defaults to https://api.x.com/2/: the version is not added twice."""
    x.post("@EksempelKommune hej", author=anna)
    connector = XClient(x.account_id, x.token, x.base_url + "2/", timeout=0.2, retry=NO_WAIT)
    try:
        assert len(mentions(connector).items) == 1
    finally:
        connector.close()


@pytest.mark.parametrize("stream", ["mentions", "messages"])
def test_a_spent_usage_cap_pauses_the_whole_account_for_an_hour(
    x: XEmulator, client: XClient, stream: str
) -> None:
    x.usage_cap_next()
    with pytest.raises(UsageCapped) as capped:
        client.fetch_new(stream, "")
    assert not capped.value.per_stream
    assert capped.value.retry_after >= 3600
