"""X OAuth 2.0 user tokens live past their two hours: the connector renews them with the
single-use refresh token, keeps the rotated one in the database, and stops the account only
when X will not renew. Real HTTP against the X emulator, whose tokens expire by its clock."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator

import pytest
from pydantic import SecretStr
from sqlmodel import select

from bot import texts
from bot.accounts import accounts_from_config, build_clients
from bot.demo.world import SandboxWorld
from bot.errors import AuthExpired, ConfigError
from bot.models import PlatformToken, utcnow
from bot.platforms.x import XClient
from bot.platforms.x_auth import XApp
from bot.polling import poll_account
from bot.sandbox.x import XEmulator
from bot.settings import Settings
from bot.store import Store
from bot.tokens import StoredRefreshToken
from tests.emulator_support import NO_WAIT, serve
from tests.flow_support import comms_history

TWO_HOURS = 2 * 3600 + 1


@pytest.fixture(scope="module")
def server() -> Iterator[XEmulator]:
    yield from serve(XEmulator())


@pytest.fixture
def x(server: XEmulator) -> XEmulator:
    server.reset()
    return server


@pytest.fixture
def granted(x: XEmulator) -> tuple[str, str]:
    """The access and refresh token the operator got once by authorizing the app."""
    access, refresh = x.issue_tokens()
    return access, refresh


Connect = Callable[..., XClient]


@pytest.fixture
def connect() -> Iterator[Connect]:
    """Clients as `build_clients` makes them for an X account with a refresh token."""
    made: list[XClient] = []

    def build(x: XEmulator, store: Store, access: str, refresh: str,
              secret: str | None = None) -> XClient:
        vault = StoredRefreshToken(store, "x", x.account_id, refresh, clock=utcnow)
        app = XApp(x.oauth.client_id, x.oauth.client_secret if secret is None else secret)
        made.append(XClient(x.account_id, access, x.base_url, timeout=0.5, retry=NO_WAIT,
                            oauth=(app, vault)))
        return made[-1]

    yield build
    for client in made:
        client.close()


def mention_texts(client: XClient, cursor: str = "") -> tuple[list[str], str]:
    result = client.fetch_new("mentions", cursor)
    return [item.text for item in result.items], result.next_cursor


def test_a_poll_two_hours_later_renews_the_token_and_reads_on(
    x: XEmulator, store: Store, granted: tuple[str, str], connect: Connect
) -> None:
    anna = x.add_user("anna_dk", "Anna")
    client = connect(x, store, *granted)
    x.post("@EksempelKommune første", author=anna)
    _, cursor = mention_texts(client)
    x.advance_clock(TWO_HOURS)
    x.post("@EksempelKommune anden", author=anna)
    assert mention_texts(client, cursor)[0] == ["@EksempelKommune anden"]
    assert x.oauth.refreshes == 1


def test_each_refresh_spends_the_newest_refresh_token(
    x: XEmulator, store: Store, granted: tuple[str, str], connect: Connect
) -> None:
    client = connect(x, store, *granted)
    for _ in range(3):
        x.advance_clock(TWO_HOURS)
        mention_texts(client)
    assert x.oauth.refreshes == 3
    with store.session() as session:
        [row] = session.exec(select(PlatformToken)).all()
    assert x.oauth.live_refresh == {row.refresh_token}


def test_a_restarted_bot_renews_with_the_rotated_token_from_the_database(
    x: XEmulator, store: Store, granted: tuple[str, str], connect: Connect
) -> None:
    first = connect(x, store, *granted)
    x.advance_clock(TWO_HOURS)
    mention_texts(first)
    first.close()
    restarted = connect(x, store, *granted)  # .env still holds the spent refresh token
    x.advance_clock(TWO_HOURS)
    mention_texts(restarted)
    assert x.oauth.refreshes == 2


def test_a_newly_configured_refresh_token_replaces_the_stored_one(
    x: XEmulator, store: Store, granted: tuple[str, str], connect: Connect
) -> None:
    first = connect(x, store, *granted)
    x.advance_clock(TWO_HOURS)
    mention_texts(first)
    x.revoke_refresh_tokens()
    access, renewed = x.issue_tokens()  # IT authorized the app again
    x.advance_clock(TWO_HOURS)
    mention_texts(connect(x, store, access, renewed))
    assert x.oauth.refreshes == 2


def test_a_reply_after_two_hours_is_sent_once(
    x: XEmulator, store: Store, granted: tuple[str, str], connect: Connect
) -> None:
    anna = x.add_user("anna_dk", "Anna")
    client = connect(x, store, *granted)
    x.post("@EksempelKommune hvornår?", author=anna)
    [item] = client.fetch_new("mentions", "").items
    x.advance_clock(TWO_HOURS)
    client.send_reply(item.reply_target, "I morgen.", "key-1")
    assert x.replies_from_account(item.external_id) == ["I morgen."]


def test_a_refused_refresh_raises_auth_expired(
    x: XEmulator, store: Store, granted: tuple[str, str], connect: Connect
) -> None:
    client = connect(x, store, *granted)
    x.revoke_refresh_tokens()
    x.advance_clock(TWO_HOURS)
    with pytest.raises(AuthExpired, match="refresh"):
        mention_texts(client)


def test_a_confidential_client_without_its_secret_is_refused(
    x: XEmulator, store: Store, granted: tuple[str, str], connect: Connect
) -> None:
    client = connect(x, store, *granted, secret="")
    x.advance_clock(TWO_HOURS)
    with pytest.raises(AuthExpired):
        mention_texts(client)


def test_no_token_reaches_the_log(
    x: XEmulator, store: Store, granted: tuple[str, str], caplog: pytest.LogCaptureFixture,
    connect: Connect,
) -> None:
    caplog.set_level(logging.DEBUG)
    client = connect(x, store, *granted)
    x.advance_clock(TWO_HOURS)
    mention_texts(client)
    x.revoke_refresh_tokens()
    x.advance_clock(TWO_HOURS)
    with pytest.raises(AuthExpired) as refused:
        mention_texts(client)
    with store.session() as session:
        [row] = session.exec(select(PlatformToken)).all()
    for secret in (*granted, row.refresh_token, x.token, x.oauth.client_secret):
        assert secret not in caplog.text
        assert secret not in str(refused.value)


def test_a_revoked_refresh_token_stops_the_account_with_the_notice(
    world: SandboxWorld, connect: Connect
) -> None:
    access, refresh = world.x.issue_tokens()
    client = connect(world.x, world.store, access, refresh)
    world.x.revoke_refresh_tokens()
    world.x.advance_clock(TWO_HOURS)
    outcome = poll_account(world.workflow, client, world.clock())
    assert outcome.skipped_reason == "stopped"
    notices = [m.get("text") for m in comms_history(world)]
    assert texts.account_stopped("x", world.x.account_id) in notices


def test_an_account_configured_with_a_refresh_token_renews_itself(
    x: XEmulator, store: Store, granted: tuple[str, str]
) -> None:
    [account] = accounts_from_config([{"platform": "x", "account": x.account_id,
                                       "token_env": "X_TOKEN",
                                       "refresh_token_env": "X_REFRESH_TOKEN"}])
    settings = Settings(x_api_url=x.base_url, x_client_id=x.oauth.client_id,
                        x_client_secret=SecretStr(x.oauth.client_secret))
    clients = build_clients([account], settings, {"X_REFRESH_TOKEN": granted[1]}, store=store)
    client = clients[("x", x.account_id)]
    try:
        client.fetch_new("mentions", "")  # no access token configured: the first call gets one
        x.advance_clock(TWO_HOURS)
        client.fetch_new("mentions", "")
    finally:
        client.close()
    assert x.oauth.refreshes == 2


def test_a_refresh_token_without_the_app_client_id_is_refused_at_start(
    x: XEmulator, store: Store
) -> None:
    [account] = accounts_from_config([{"platform": "x", "account": x.account_id,
                                       "token_env": "X_TOKEN",
                                       "refresh_token_env": "X_REFRESH_TOKEN"}])
    with pytest.raises(ConfigError, match="BORGERBOT_X_CLIENT_ID"):
        build_clients([account], Settings(x_api_url=x.base_url), {"X_REFRESH_TOKEN": "r"},
                      store=store)


def test_callers_meeting_the_expired_token_together_refresh_it_once(
    x: XEmulator, store: Store, granted: tuple[str, str], connect: Connect
) -> None:
    client = connect(x, store, *granted)
    x.advance_clock(TWO_HOURS)
    failures: list[BaseException] = []

    def read() -> None:
        try:
            mention_texts(client)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)

    workers = [threading.Thread(target=read) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert (failures, x.oauth.refreshes) == ([], 1)
