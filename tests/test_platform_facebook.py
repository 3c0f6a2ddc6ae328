"""The Facebook connector against the Graph emulator over loopback HTTP."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest

from bot.errors import (
    AuthExpired,
    DuplicateRejected,
    ObjectGone,
    PlatformUnavailable,
    RateLimited,
)
from bot.platforms.base import ReplyTarget
from bot.platforms.facebook import FacebookClient
from bot.sandbox.graph import GraphEmulator
from tests.emulator_support import ago, graph_clients, serve

TOKEN = "EAAB-page-token-4f9c2d"
PAGE = "1000000001"
FEED = "GET /{id}/feed"
Make = Callable[..., FacebookClient]


@pytest.fixture(scope="module")
def running() -> Iterator[GraphEmulator]:
    yield from serve(GraphEmulator(token=TOKEN, page_id=PAGE))


@pytest.fixture
def graph(running: GraphEmulator) -> GraphEmulator:
    running.reset()
    return running


@pytest.fixture
def make(graph: GraphEmulator) -> Iterator[Make]:
    yield from graph_clients(FacebookClient, PAGE, graph)


@pytest.fixture
def facebook(make: Make) -> FacebookClient:
    return make()


# -- what arrives -----------------------------------------------------------------------------


def test_citizen_comment_arrives_with_its_post_text(
    graph: GraphEmulator, facebook: FacebookClient
) -> None:
    post = graph.add_post("Vejarbejde på Torvet i uge 12")
    comment = graph.add_comment(post, "Hvornår er I færdige?", author_id="501", author_name="Jens")
    [item] = facebook.fetch_new("comments", "").items
    assert (item.external_id, item.kind, item.author_name) == (comment, "comment", "Jens")
    assert (item.text, item.post_text) == ("Hvornår er I færdige?", "Vejarbejde på Torvet i uge 12")
    assert item.reply_target == ReplyTarget("comment", {"object_id": comment, "item_id": comment})
    assert item.permalink and comment in item.permalink


def test_reply_to_a_comment_arrives_as_a_reply_in_that_thread(
    graph: GraphEmulator, facebook: FacebookClient
) -> None:
    post = graph.add_post("Ny cykelsti")
    comment = graph.add_comment(post, "Fint!", author_id="501", author_name="Jens",
                                created_at=ago(graph, 2))
    reply = graph.add_comment(comment, "Hvor går den?", author_id="502", author_name="Ane")
    items = {i.external_id: i for i in facebook.fetch_new("comments", "").items}
    assert items[reply].kind == "reply"
    assert items[reply].reply_target.ref["object_id"] == comment


def test_visitor_post_arrives_as_a_post(graph: GraphEmulator, facebook: FacebookClient) -> None:
    post = graph.add_post("Der er hul i vejen på Storegade", author_id="503", author_name="Bo")
    [item] = facebook.fetch_new("comments", "").items
    assert (item.external_id, item.kind, item.author_id) == (post, "post", "503")


def test_messenger_message_arrives_with_its_conversation(
    graph: GraphEmulator, facebook: FacebookClient
) -> None:
    message = graph.send_message("601", "Jeg mangler mit sygesikringskort", author_name="Lis")
    [item] = facebook.fetch_new("messages", "").items
    assert (item.external_id, item.kind, item.author_name) == (message, "message", "Lis")
    assert item.reply_target.mode == "message"
    assert item.reply_target.ref["recipient_id"] == "601"


def test_each_item_arrives_once_in_a_fetch(graph: GraphEmulator, facebook: FacebookClient) -> None:
    post = graph.add_post("Høring om lokalplan")
    first = graph.add_comment(post, "Spørgsmål 1", author_id="501", created_at=ago(graph, 3))
    graph.add_comment(first, "Spørgsmål 2", author_id="502", created_at=ago(graph, 2))
    graph.add_comment(post, "Spørgsmål 3", author_id="503", created_at=ago(graph, 1))
    ids = [i.external_id for i in facebook.fetch_new("comments", "").items]
    assert len(ids) == 3 == len(set(ids))


def test_page_reply_is_an_own_reply_not_an_inquiry(
    graph: GraphEmulator, facebook: FacebookClient
) -> None:
    post = graph.add_post("Åbningstider")
    comment = graph.add_comment(post, "Åbent lørdag?", author_id="501", created_at=ago(graph, 5))
    graph.add_comment(comment, "Ja, 10-14", author_id=PAGE, author_name="Eksempel Kommune")
    result = facebook.fetch_new("comments", "")
    assert [i.external_id for i in result.items] == [comment]
    [own] = result.own_replies
    assert (own.answers_external_id, own.text) == (comment, "Ja, 10-14")


def test_page_message_is_an_own_reply_to_the_citizens_message(
    graph: GraphEmulator, facebook: FacebookClient
) -> None:
    question = graph.send_message("601", "Hej", created_at=ago(graph, 5))
    facebook.send_reply(ReplyTarget("message", {"recipient_id": "601"}), "Hej Lis", "k1")
    result = facebook.fetch_new("messages", "")
    assert [i.external_id for i in result.items] == [question]
    assert [(o.answers_external_id, o.text) for o in result.own_replies] == [(question, "Hej Lis")]


def test_hidden_comment_is_not_new(graph: GraphEmulator, facebook: FacebookClient) -> None:
    post = graph.add_post("Affald")
    comment = graph.add_comment(post, "spam spam", author_id="501")
    facebook.hide(ReplyTarget("comment", {"object_id": comment, "item_id": comment}), True)
    assert facebook.fetch_new("comments", "").items == []


# -- pagination and cursors -------------------------------------------------------------------


def test_comments_beyond_the_nested_page_are_followed(graph: GraphEmulator, make: Make) -> None:
    post = graph.add_post("Vintervedligeholdelse")
    for n in range(7):
        graph.add_comment(post, f"Spørgsmål {n}", author_id=f"50{n}", created_at=ago(graph, 10 - n))
    client = make(comments_per_item=3)
    assert len(client.fetch_new("comments", "").items) == 7
    assert graph.requests["GET /{id}/comments"] == 2


def test_posts_beyond_one_feed_page_are_followed(graph: GraphEmulator, make: Make) -> None:
    oldest = graph.add_post("Ældste opslag", created_at=ago(graph, 300))
    for n in range(149):
        graph.add_post(f"Opslag {n}", created_at=ago(graph, 299 - n))
    graph.add_comment(oldest, "Gammelt opslag, nyt spørgsmål", author_id="501")
    client = make(recent_items=150)
    assert len(client.fetch_new("comments", "").items) == 1
    assert graph.requests[FEED] == 2


def test_second_poll_returns_nothing_already_returned(
    graph: GraphEmulator, facebook: FacebookClient
) -> None:
    post = graph.add_post("Trafik", created_at=ago(graph, 120))
    graph.add_comment(post, "Gammel", author_id="501", created_at=ago(graph, 60))
    graph.add_comment(post, "Ny", author_id="502", created_at=ago(graph, 1))
    cursor = facebook.fetch_new("comments", "").next_cursor
    again = facebook.fetch_new("comments", cursor)
    assert again.items == []
    assert again.next_cursor == cursor


def test_new_comment_after_a_poll_arrives_alone(
    graph: GraphEmulator, facebook: FacebookClient
) -> None:
    post = graph.add_post("Trafik", created_at=ago(graph, 120))
    graph.add_comment(post, "Først", author_id="501", created_at=ago(graph, 2))
    cursor = facebook.fetch_new("comments", "").next_cursor
    second = graph.add_comment(post, "Bagefter", author_id="502")
    assert [i.external_id for i in facebook.fetch_new("comments", cursor).items] == [second]


def test_late_item_with_an_older_timestamp_is_caught_by_the_overlap(
    graph: GraphEmulator, facebook: FacebookClient
) -> None:
    post = graph.add_post("Skolestart", created_at=ago(graph, 120))
    graph.add_comment(post, "Først", author_id="501", created_at=ago(graph, 1))
    cursor = facebook.fetch_new("comments", "").next_cursor
    late = graph.add_comment(post, "Forsinket", author_id="502", created_at=ago(graph, 6))
    assert late in [i.external_id for i in facebook.fetch_new("comments", cursor).items]


def test_idle_poll_of_100_posts_costs_at_most_3_requests(
    graph: GraphEmulator, facebook: FacebookClient
) -> None:
    for n in range(100):
        post = graph.add_post(f"Opslag {n}", created_at=ago(graph, 600 - n))
        graph.add_comment(post, "Gammel", author_id="501", created_at=ago(graph, 500 - n))
    graph.send_message("601", "Gammel besked", created_at=ago(graph, 500))
    cursors = {s: facebook.fetch_new(s, "").next_cursor for s in facebook.streams()}
    graph.reset_counters()
    results = [facebook.fetch_new(s, cursors[s]) for s in facebook.streams()]
    assert all(not r.items for r in results)
    assert graph.total_requests() <= 3


# -- replying ---------------------------------------------------------------------------------


def test_reply_lands_in_the_comment_thread_as_the_page(
    graph: GraphEmulator, facebook: FacebookClient
) -> None:
    post = graph.add_post("Parkering")
    comment = graph.add_comment(post, "Må man parkere her?", author_id="501")
    target = ReplyTarget("comment", {"object_id": comment, "item_id": comment})
    sent = facebook.send_reply(target, "Ja, efter kl. 18.", "inq-1")
    [reply] = graph.replies_to(comment)
    assert reply["id"] == sent.external_id
    assert reply["text"].startswith("Ja, efter kl. 18.")


def test_message_reply_reaches_the_citizen(graph: GraphEmulator, facebook: FacebookClient) -> None:
    graph.send_message("601", "Hvornår åbner borgerservice?")
    facebook.send_reply(ReplyTarget("message", {"recipient_id": "601"}), "Kl. 10.", "inq-2")
    assert [m.startswith("Kl. 10.") for m in graph.messages_to("601")] == [True]


def test_hide_reaches_the_platform(graph: GraphEmulator, facebook: FacebookClient) -> None:
    post = graph.add_post("Byfest")
    comment = graph.add_comment(post, "Grimt sprog", author_id="501")
    facebook.hide(ReplyTarget("comment", {"object_id": comment, "item_id": comment}), True)
    assert graph.get_node(comment)["hidden"] is True


def test_reply_whose_answer_was_lost_is_found_instead_of_sent_twice(
    graph: GraphEmulator, facebook: FacebookClient
) -> None:
    post = graph.add_post("Renovation")
    comment = graph.add_comment(post, "Ingen tømning i dag?", author_id="501")
    target = ReplyTarget("comment", {"object_id": comment, "item_id": comment})
    graph.drop_next(route="POST /{id}/comments", apply=True)
    with pytest.raises(PlatformUnavailable):
        facebook.send_reply(target, "Vi undersøger det.", "inq-3")
    found = facebook.find_reply(target, "inq-3")
    [reply] = graph.replies_to(comment)
    assert found is not None and found.external_id == reply["id"]


def test_find_reply_is_none_when_nothing_was_sent(
    graph: GraphEmulator, facebook: FacebookClient
) -> None:
    post = graph.add_post("Renovation")
    comment = graph.add_comment(post, "Ingen tømning?", author_id="501")
    graph.add_comment(comment, "Et andet svar", author_id=PAGE)
    target = ReplyTarget("comment", {"object_id": comment, "item_id": comment})
    assert facebook.find_reply(target, "inq-4") is None


def test_found_message_reply_after_a_lost_answer(
    graph: GraphEmulator, facebook: FacebookClient
) -> None:
    graph.send_message("601", "Hej")
    conversation = facebook.fetch_new("messages", "").items[0].reply_target
    graph.drop_next(route="POST /{id}/messages", apply=True)
    with pytest.raises(PlatformUnavailable):
        facebook.send_reply(conversation, "Hej igen", "inq-5")
    assert facebook.find_reply(conversation, "inq-5") is not None
    assert len(graph.messages_to("601")) == 1


# -- faults -----------------------------------------------------------------------------------


def test_http_429_with_retry_after_is_rate_limited(
    graph: GraphEmulator, facebook: FacebookClient
) -> None:
    graph.fail_next(429, {"error": {"message": "slow", "code": 0}}, {"Retry-After": "42"})
    with pytest.raises(RateLimited) as caught:
        facebook.fetch_new("comments", "")
    assert caught.value.retry_after == 42


def test_graph_throttling_code_waits_until_access_is_regained(
    graph: GraphEmulator, facebook: FacebookClient
) -> None:
    graph.throttle(code=32, minutes=7)
    with pytest.raises(RateLimited) as caught:
        facebook.fetch_new("comments", "")
    assert caught.value.retry_after == 7 * 60
    assert graph.requests[FEED] == 1


def test_server_error_is_retried_and_the_poll_succeeds(
    graph: GraphEmulator, facebook: FacebookClient
) -> None:
    graph.add_comment(graph.add_post("Vand"), "Brunt vand?", author_id="501")
    graph.server_error(times=2)
    assert len(facebook.fetch_new("comments", "").items) == 1
    assert graph.requests[FEED] == 3


def test_lasting_server_error_becomes_platform_unavailable(
    graph: GraphEmulator, facebook: FacebookClient
) -> None:
    graph.server_error(times=5)
    with pytest.raises(PlatformUnavailable):
        facebook.fetch_new("comments", "")
    assert graph.requests[FEED] == 3


def test_timeout_is_retried_then_platform_unavailable(
    graph: GraphEmulator, facebook: FacebookClient
) -> None:
    graph.delay_next(1.0, times=3)
    with pytest.raises(PlatformUnavailable):
        facebook.fetch_new("messages", "")
    assert graph.requests["GET /{id}/conversations"] == 3


def test_dropped_connection_is_retried(graph: GraphEmulator, facebook: FacebookClient) -> None:
    graph.send_message("601", "Hej")
    graph.drop_next()
    assert len(facebook.fetch_new("messages", "").items) == 1


def test_expired_token_is_auth_expired(graph: GraphEmulator, facebook: FacebookClient) -> None:
    graph.expire_token("expired")
    with pytest.raises(AuthExpired):
        facebook.fetch_new("comments", "")
    assert graph.requests[FEED] == 1


def test_missing_permission_is_auth_expired(
    graph: GraphEmulator, facebook: FacebookClient
) -> None:
    graph.expire_token("permission")
    with pytest.raises(AuthExpired):
        facebook.fetch_new("messages", "")


def test_reply_to_a_deleted_comment_is_object_gone(
    graph: GraphEmulator, facebook: FacebookClient
) -> None:
    comment = graph.add_comment(graph.add_post("Sport"), "Hal?", author_id="501")
    graph.delete(comment)
    with pytest.raises(ObjectGone):
        facebook.send_reply(ReplyTarget("comment", {"object_id": comment}), "Svar", "inq-6")


def test_resending_the_same_reply_is_rejected_as_duplicate(
    graph: GraphEmulator, facebook: FacebookClient
) -> None:
    comment = graph.add_comment(graph.add_post("Sport"), "Hal?", author_id="501")
    target = ReplyTarget("comment", {"object_id": comment})
    graph.reject_duplicates()
    facebook.send_reply(target, "Svar", "inq-7")
    with pytest.raises(DuplicateRejected):
        facebook.send_reply(target, "Svar", "inq-7")
    assert len(graph.replies_to(comment)) == 1


# -- secrets ----------------------------------------------------------------------------------


def test_token_appears_in_no_log_line_and_no_error(
    graph: GraphEmulator, make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    post = graph.add_post("Valg")
    for n in range(4):
        graph.add_comment(post, f"Spørgsmål {n}", author_id="501", created_at=ago(graph, 5 - n))
    caplog.set_level(logging.DEBUG)
    client = make(comments_per_item=2)
    client.fetch_new("comments", "")
    graph.server_error(times=5)
    with pytest.raises(PlatformUnavailable) as caught:
        client.fetch_new("comments", "")
    assert graph.requests["GET /{id}/comments"] >= 1
    assert caplog.records and all(TOKEN not in r.getMessage() for r in caplog.records)
    assert TOKEN not in str(caught.value) and TOKEN not in repr(caught.value)


@pytest.mark.parametrize("variant", ["100/33", "100", "33", "1705"])
def test_every_documented_deleted_object_error_is_object_gone(
    graph: GraphEmulator, facebook: FacebookClient, variant: str
) -> None:
    comment = graph.add_comment(graph.add_post("Sport"), "Hal?", author_id="501")
    graph.delete(comment)
    graph.answer_gone_as(variant)
    with pytest.raises(ObjectGone):
        facebook.send_reply(ReplyTarget("comment", {"object_id": comment}), "Svar", "inq-6")


def test_a_deleted_comment_read_back_in_any_variant_is_object_gone(
    graph: GraphEmulator, facebook: FacebookClient
) -> None:
    comment = graph.add_comment(graph.add_post("Sport"), "Hal?", author_id="501")
    graph.delete(comment)
    for variant in ("100", "33"):
        graph.answer_gone_as(variant)
        with pytest.raises(ObjectGone):
            facebook.find_reply(ReplyTarget("comment", {"object_id": comment}), "inq-7")


def test_usage_headers_at_80_percent_rest_the_account_before_meta_blocks_it(
    graph: GraphEmulator, facebook: FacebookClient
) -> None:
    graph.set_usage(85)
    facebook.fetch_new("comments", "")
    before = graph.total_requests()
    with pytest.raises(RateLimited) as resting:
        facebook.fetch_new("messages", "")
    assert graph.total_requests() == before
    assert resting.value.retry_after == 600 and not resting.value.per_stream


def test_usage_headers_below_80_percent_change_nothing(
    graph: GraphEmulator, facebook: FacebookClient
) -> None:
    graph.set_usage(79)
    facebook.fetch_new("comments", "")
    facebook.fetch_new("messages", "")


def test_a_time_to_regain_access_sets_the_rest(
    graph: GraphEmulator, facebook: FacebookClient
) -> None:
    graph.set_usage(95, regain_minutes=30)
    facebook.fetch_new("comments", "")
    with pytest.raises(RateLimited) as resting:
        facebook.fetch_new("comments", "")
    assert resting.value.retry_after == 30 * 60


def test_after_the_rest_the_next_poll_reads_again(
    graph: GraphEmulator, facebook: FacebookClient
) -> None:
    graph.set_usage(85)
    facebook.fetch_new("comments", "")
    with pytest.raises(RateLimited):
        facebook.fetch_new("comments", "")
    graph.set_usage(40)
    facebook.fetch_new("comments", "")
    facebook.fetch_new("comments", "")
