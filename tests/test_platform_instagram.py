"""The Instagram connector against the Graph emulator over loopback HTTP."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest

from bot.errors import AuthExpired, ObjectGone, PlatformUnavailable, RateLimited
from bot.platforms.base import ReplyTarget
from bot.platforms.instagram import InstagramClient
from bot.sandbox.graph import GraphEmulator
from tests.emulator_support import ago, graph_clients, serve

TOKEN = "IGQV-account-token-77aa31"
IG = "17841400000000001"

Make = Callable[..., InstagramClient]


@pytest.fixture(scope="module")
def running() -> Iterator[GraphEmulator]:
    yield from serve(GraphEmulator(token=TOKEN, ig_id=IG, ig_username="eksempelkommune"))


@pytest.fixture
def graph(running: GraphEmulator) -> GraphEmulator:
    running.reset()
    return running


@pytest.fixture
def make(graph: GraphEmulator) -> Iterator[Make]:
    yield from graph_clients(InstagramClient, IG, graph)


@pytest.fixture
def instagram(make: Make) -> InstagramClient:
    return make()


def test_comment_on_media_arrives_with_the_caption(
    graph: GraphEmulator, instagram: InstagramClient
) -> None:
    media = graph.add_media("Svømmehallen åbner igen")
    comment = graph.add_comment(media, "Også i påsken?", author_id="901", author_name="anna")
    [item] = instagram.fetch_new("comments", "").items
    assert (item.external_id, item.kind, item.author_name) == (comment, "comment", "anna")
    assert (item.text, item.post_text) == ("Også i påsken?", "Svømmehallen åbner igen")


def test_reply_arrives_and_is_answered_in_the_top_level_thread(
    graph: GraphEmulator, instagram: InstagramClient
) -> None:
    media = graph.add_media("Affaldssortering", created_at=ago(graph, 60))
    comment = graph.add_comment(media, "Hvor?", author_id="901", created_at=ago(graph, 30))
    reply = graph.add_comment(comment, "Samme spørgsmål", author_id="902")
    items = {i.external_id: i for i in instagram.fetch_new("comments", "").items}
    assert items[reply].kind == "reply"
    assert items[reply].reply_target.ref["object_id"] == comment


def test_new_reply_under_an_old_comment_is_found(
    graph: GraphEmulator, instagram: InstagramClient
) -> None:
    media = graph.add_media("Vejarbejde", created_at=ago(graph, 120))
    old = graph.add_comment(media, "Gammel", author_id="901", created_at=ago(graph, 100))
    cursor = instagram.fetch_new("comments", "").next_cursor
    reply = graph.add_comment(old, "Nyt svar fra en borger", author_id="902")
    assert [i.external_id for i in instagram.fetch_new("comments", cursor).items] == [reply]


def test_own_reply_is_reported_not_ingested(
    graph: GraphEmulator, instagram: InstagramClient
) -> None:
    media = graph.add_media("Bibliotek")
    comment = graph.add_comment(media, "Åbent søndag?", author_id="901", created_at=ago(graph, 5))
    graph.add_comment(comment, "@anna Ja", author_id=IG, author_name="eksempelkommune")
    result = instagram.fetch_new("comments", "")
    assert [i.external_id for i in result.items] == [comment]
    assert [o.answers_external_id for o in result.own_replies] == [comment]


def test_direct_message_arrives(graph: GraphEmulator, instagram: InstagramClient) -> None:
    message = graph.send_message("IGSID-7", "Hej", author_name="anna", platform="instagram")
    graph.send_message("PSID-1", "Messenger, ikke Instagram")
    [item] = instagram.fetch_new("messages", "").items
    assert (item.external_id, item.kind, item.author_name) == (message, "message", "anna")


def test_idle_poll_of_100_media_costs_at_most_3_requests(
    graph: GraphEmulator, instagram: InstagramClient
) -> None:
    for n in range(100):
        media = graph.add_media(f"Opslag {n}", created_at=ago(graph, 600 - n))
        graph.add_comment(media, "Gammel", author_id="901", created_at=ago(graph, 500 - n))
    cursors = {s: instagram.fetch_new(s, "").next_cursor for s in instagram.streams()}
    graph.reset_counters()
    results = [instagram.fetch_new(s, cursors[s]) for s in instagram.streams()]
    assert all(not r.items for r in results)
    assert graph.total_requests() <= 3


def test_reply_is_posted_under_the_comment(
    graph: GraphEmulator, instagram: InstagramClient
) -> None:
    comment = graph.add_comment(graph.add_media("Park"), "Hunde tilladt?", author_id="901")
    target = ReplyTarget("comment", {"object_id": comment, "item_id": comment})
    sent = instagram.send_reply(target, "Ja, i snor.", "inq-1")
    assert [r["id"] for r in graph.replies_to(comment)] == [sent.external_id]
    assert graph.requests["POST /{id}/replies"] == 1


def test_dm_reply_reaches_the_citizen(graph: GraphEmulator, instagram: InstagramClient) -> None:
    graph.send_message("IGSID-7", "Hej", platform="instagram")
    instagram.send_reply(ReplyTarget("message", {"recipient_id": "IGSID-7"}), "Hej!", "inq-2")
    assert [m.startswith("Hej!") for m in graph.messages_to("IGSID-7")] == [True]


def test_hide_reaches_the_platform(graph: GraphEmulator, instagram: InstagramClient) -> None:
    comment = graph.add_comment(graph.add_media("Park"), "Reklame", author_id="901")
    instagram.hide(ReplyTarget("comment", {"object_id": comment, "item_id": comment}), True)
    assert graph.get_node(comment)["hidden"] is True


def test_reply_with_a_lost_answer_is_found(
    graph: GraphEmulator, instagram: InstagramClient
) -> None:
    comment = graph.add_comment(graph.add_media("Park"), "Toiletter?", author_id="901")
    target = ReplyTarget("comment", {"object_id": comment, "item_id": comment})
    graph.delay_next(1.0, route="POST /{id}/replies", apply=True)
    with pytest.raises(PlatformUnavailable):
        instagram.send_reply(target, "Ved indgangen.", "inq-3")
    assert instagram.find_reply(target, "inq-3") is not None
    assert len(graph.replies_to(comment)) == 1


def test_instagram_throttling_code_is_rate_limited(
    graph: GraphEmulator, instagram: InstagramClient
) -> None:
    graph.throttle(code=80002, minutes=3)
    with pytest.raises(RateLimited) as caught:
        instagram.fetch_new("comments", "")
    assert caught.value.retry_after == 180


def test_expired_token_is_auth_expired(graph: GraphEmulator, instagram: InstagramClient) -> None:
    graph.expire_token("revoked")
    with pytest.raises(AuthExpired):
        instagram.fetch_new("messages", "")


def test_hiding_a_deleted_comment_is_object_gone(
    graph: GraphEmulator, instagram: InstagramClient
) -> None:
    comment = graph.add_comment(graph.add_media("Park"), "Slettes", author_id="901")
    graph.delete(comment)
    with pytest.raises(ObjectGone):
        instagram.hide(ReplyTarget("comment", {"object_id": comment, "item_id": comment}), True)


def test_token_appears_in_no_log_line_and_no_error(
    graph: GraphEmulator, make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    media = graph.add_media("Valg")
    for n in range(3):
        graph.add_comment(media, f"Spørgsmål {n}", author_id="901", created_at=ago(graph, 5 - n))
    caplog.set_level(logging.DEBUG)
    client = make(comments_per_item=1)
    client.fetch_new("comments", "")
    graph.expire_token()
    with pytest.raises(AuthExpired) as caught:
        client.fetch_new("comments", "")
    assert graph.requests["GET /{id}/comments"] >= 1
    assert caplog.records and all(TOKEN not in r.getMessage() for r in caplog.records)
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize("variant", ["100/33", "100", "33", "1705"])
def test_hiding_a_deleted_comment_is_object_gone_in_every_documented_variant(
    graph: GraphEmulator, instagram: InstagramClient, variant: str
) -> None:
    comment = graph.add_comment(graph.add_media("Park"), "Slettes", author_id="901")
    graph.delete(comment)
    graph.answer_gone_as(variant)
    with pytest.raises(ObjectGone):
        instagram.hide(ReplyTarget("comment", {"object_id": comment, "item_id": comment}), True)


def test_instagram_usage_at_80_percent_rests_the_account(
    graph: GraphEmulator, instagram: InstagramClient
) -> None:
    graph.set_usage(80)
    instagram.fetch_new("comments", "")
    with pytest.raises(RateLimited):
        instagram.fetch_new("messages", "")
