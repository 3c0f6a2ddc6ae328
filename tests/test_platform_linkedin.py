"""The LinkedIn connector against the LinkedIn emulator, over loopback HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot.errors import (
    AuthExpired,
    DuplicateRejected,
    ObjectGone,
    PlatformError,
    PlatformUnavailable,
    RateLimited,
)
from bot.platforms.base import FetchResult
from bot.platforms.linkedin import LinkedInClient
from bot.sandbox.linkedin import LinkedInEmulator
from tests.emulator_support import NO_WAIT, OUTAGES, assert_token_kept_secret, begin_outage, serve

ORG_ID = "2414183"
COMMENTS = "GET /socialActions/{target}/comments"
REPLY = "POST /socialActions/{target}/comments"


@pytest.fixture(scope="module")
def server() -> Iterator[LinkedInEmulator]:
    yield from serve(LinkedInEmulator(org_id=ORG_ID))


@pytest.fixture
def linkedin(server: LinkedInEmulator) -> LinkedInEmulator:
    server.reset()
    return server


def connect(linkedin: LinkedInEmulator, **options: object) -> LinkedInClient:
    return LinkedInClient(ORG_ID, linkedin.token, linkedin.base_url, timeout=0.2,
                          retry=NO_WAIT, **options)  # type: ignore[arg-type]


@pytest.fixture
def client(linkedin: LinkedInEmulator) -> Iterator[LinkedInClient]:
    connector = connect(linkedin)
    yield connector
    connector.close()


def poll(client: LinkedInClient, cursor: str = "") -> FetchResult:
    return client.fetch_new("comments", cursor)


def test_a_citizen_comment_arrives_with_its_post_text(
    linkedin: LinkedInEmulator, client: LinkedInClient
) -> None:
    post = linkedin.add_post("Vejarbejde på Storegade fra mandag")
    comment = linkedin.add_comment(post, "Hvor længe varer det?")
    [item] = poll(client).items
    assert (item.external_id, item.kind, item.text) == (comment, "comment", "Hvor længe varer det?")
    assert (item.post_id, item.post_text) == (post, "Vejarbejde på Storegade fra mandag")
    assert item.author_name == "LinkedIn-medlem"


def test_a_reply_to_a_comment_arrives_as_a_reply_in_that_thread(
    linkedin: LinkedInEmulator, client: LinkedInClient
) -> None:
    comment = linkedin.add_comment(linkedin.add_post("Nyt om affald"), "Hvornår?")
    reply = linkedin.add_comment(comment, "Også mig, hvornår?")
    items = {i.external_id: i for i in poll(client).items}
    assert items[reply].kind == "reply"
    assert items[reply].reply_target.ref["thread"] == comment


def test_a_second_poll_returns_nothing_already_seen(
    linkedin: LinkedInEmulator, client: LinkedInClient
) -> None:
    comment = linkedin.add_comment(linkedin.add_post("Nyt om affald"), "Hvornår?")
    first = poll(client)
    later = linkedin.add_comment(comment, "Svar gerne")
    second = poll(client, first.next_cursor)
    assert [i.external_id for i in second.items] == [later]
    assert poll(client, second.next_cursor).items == []


def test_an_idle_poll_costs_two_requests_however_many_posts(
    linkedin: LinkedInEmulator, client: LinkedInClient
) -> None:
    for number in range(40):
        linkedin.add_comment(linkedin.add_post(f"Opslag {number}"), "Spørgsmål")
    cursor = poll(client).next_cursor
    before = linkedin.total_requests()
    poll(client, cursor)
    assert linkedin.total_requests() - before == 2


def test_only_the_post_with_a_new_comment_is_read(
    linkedin: LinkedInEmulator, client: LinkedInClient
) -> None:
    posts = [linkedin.add_post(f"Opslag {n}") for n in range(20)]
    cursor = poll(client).next_cursor
    linkedin.add_comment(posts[7], "Nyt spørgsmål")
    before = linkedin.request_counts().get(COMMENTS, 0)
    assert len(poll(client, cursor).items) == 1
    assert linkedin.request_counts()[COMMENTS] - before == 1


def test_every_page_of_a_long_comment_list_arrives_in_time_order(
    linkedin: LinkedInEmulator, client: LinkedInClient
) -> None:
    post = linkedin.add_post("Borgermøde")
    start = linkedin.now() - timedelta(hours=3)
    for n in range(250):
        linkedin.add_comment(post, f"Kommentar {n}", created_at=start + timedelta(seconds=n))
    linkedin.set_comment_order("shuffled")
    items = poll(client).items
    assert [i.text for i in items] == [f"Kommentar {n}" for n in range(250)]


def test_a_late_comment_inside_the_overlap_window_still_arrives(
    linkedin: LinkedInEmulator, client: LinkedInClient
) -> None:
    post = linkedin.add_post("Borgermøde")
    linkedin.add_comment(post, "Først")
    cursor = poll(client).next_cursor
    late = linkedin.add_comment(post, "Forsinket", created_at=linkedin.now() - timedelta(minutes=5))
    assert [i.external_id for i in poll(client, cursor).items] == [late]


def test_a_restarted_client_resumes_from_the_cursor_without_losing_a_comment(
    linkedin: LinkedInEmulator, client: LinkedInClient
) -> None:
    post = linkedin.add_post("Borgermøde")
    linkedin.add_comment(post, "Først")
    cursor = poll(client).next_cursor
    new = linkedin.add_comment(post, "Efter genstart")
    restarted = connect(linkedin)
    assert new in [i.external_id for i in poll(restarted, cursor).items]
    restarted.close()


def test_our_own_comment_is_reported_as_the_answer_not_as_an_inquiry(
    linkedin: LinkedInEmulator, client: LinkedInClient
) -> None:
    question = linkedin.add_comment(linkedin.add_post("Nyt"), "Hvornår?",
                                    created_at=linkedin.now() - timedelta(minutes=1))
    ours = linkedin.add_comment(question, "Kl. 10", author=linkedin.org)
    result = poll(client)
    assert [i.external_id for i in result.items] == [question]
    assert [(o.external_id, o.answers_external_id) for o in result.own_replies] == [
        (ours, question)
    ]


def test_a_reply_to_a_reply_is_posted_under_the_top_comment_as_the_page(
    linkedin: LinkedInEmulator, client: LinkedInClient
) -> None:
    top = linkedin.add_comment(linkedin.add_post("Nyt"), "Hvornår?")
    linkedin.add_comment(top, "Ja, hvornår?")
    reply_item = next(i for i in poll(client).items if i.kind == "reply")
    sent = client.send_reply(reply_item.reply_target, "Kl. 10 i morgen", "key-1")
    assert linkedin.org_replies(top) == ["Kl. 10 i morgen"]
    assert sent.external_id in linkedin.comments


def test_a_reply_whose_answer_was_lost_is_found_on_the_platform(
    linkedin: LinkedInEmulator, client: LinkedInClient
) -> None:
    linkedin.add_comment(linkedin.add_post("Nyt"), "Hvornår?")
    [item] = poll(client).items
    linkedin.drop_next(route=REPLY, apply=True)
    with pytest.raises(PlatformUnavailable):
        client.send_reply(item.reply_target, "Kl. 10", "key-1")
    found = client.find_reply(item.reply_target, "key-1")
    assert found is not None and linkedin.comments[found.external_id].text == "Kl. 10"
    assert linkedin.org_replies(item.external_id) == ["Kl. 10"]


def test_find_reply_is_empty_when_nothing_was_sent(
    linkedin: LinkedInEmulator, client: LinkedInClient
) -> None:
    linkedin.add_comment(linkedin.add_post("Nyt"), "Hvornår?")
    [item] = poll(client).items
    assert client.find_reply(item.reply_target, "key-1") is None


def test_hiding_is_refused_because_linkedin_has_no_hide(
    linkedin: LinkedInEmulator, client: LinkedInClient
) -> None:
    linkedin.add_comment(linkedin.add_post("Nyt"), "Spam")
    [item] = poll(client).items
    with pytest.raises(PlatformError, match="no API to hide"):
        client.hide(item.reply_target, True)


def test_the_daily_quota_pauses_the_account_until_utc_midnight(
    linkedin: LinkedInEmulator, client: LinkedInClient
) -> None:
    linkedin.throttle_next(daily=True)
    with pytest.raises(RateLimited) as caught:
        poll(client)
    assert 0 < caught.value.retry_after <= 24 * 3600


def test_a_passing_throttle_pauses_the_account_for_a_minute(
    linkedin: LinkedInEmulator, client: LinkedInClient
) -> None:
    linkedin.throttle_next(daily=False)
    with pytest.raises(RateLimited) as caught:
        poll(client)
    assert caught.value.retry_after == 60


def test_a_passing_server_error_is_retried(
    linkedin: LinkedInEmulator, client: LinkedInClient
) -> None:
    linkedin.add_comment(linkedin.add_post("Nyt"), "Hvornår?")
    linkedin.server_error_next(504, times=2)
    assert len(poll(client).items) == 1


@pytest.mark.parametrize("fault", OUTAGES)
def test_a_lasting_outage_raises_platform_unavailable(
    linkedin: LinkedInEmulator, client: LinkedInClient, fault: str
) -> None:
    begin_outage(linkedin, fault)
    with pytest.raises(PlatformUnavailable):
        poll(client)


@pytest.mark.parametrize("problem", ["expired", "revoked", "permission"])
def test_a_token_problem_stops_the_account(
    linkedin: LinkedInEmulator, client: LinkedInClient, problem: str
) -> None:
    linkedin.expire_token(problem)
    with pytest.raises(AuthExpired):
        poll(client)


def test_a_retired_api_version_stops_the_account(linkedin: LinkedInEmulator) -> None:
    old = connect(linkedin, version="202401")
    with pytest.raises(AuthExpired, match="202401"):
        poll(old)
    old.close()


def test_replying_to_a_deleted_comment_raises_object_gone(
    linkedin: LinkedInEmulator, client: LinkedInClient
) -> None:
    linkedin.add_comment(linkedin.add_post("Nyt"), "Hvornår?")
    [item] = poll(client).items
    linkedin.delete_comment(item.external_id)
    with pytest.raises(ObjectGone):
        client.send_reply(item.reply_target, "Kl. 10", "key-1")


def test_a_duplicate_refused_by_the_platform_raises_duplicate_rejected(
    linkedin: LinkedInEmulator, client: LinkedInClient
) -> None:
    linkedin.add_comment(linkedin.add_post("Nyt"), "Hvornår?")
    [item] = poll(client).items
    linkedin.reject_duplicates()
    client.send_reply(item.reply_target, "Kl. 10", "key-1")
    with pytest.raises(DuplicateRejected):
        client.send_reply(item.reply_target, "Kl. 10", "key-2")
    assert linkedin.org_replies(item.external_id) == ["Kl. 10"]


def test_the_token_never_reaches_logs_or_error_messages(
    linkedin: LinkedInEmulator, client: LinkedInClient, caplog: pytest.LogCaptureFixture
) -> None:
    linkedin.add_comment(linkedin.add_post("Nyt"), "Hvornår?")
    assert_token_kept_secret(linkedin, lambda: poll(client), caplog)
