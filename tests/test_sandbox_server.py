"""The shared emulator machinery, exercised through a tiny echo emulator over loopback."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from bot.sandbox.server import Emulator, Request, Response, json_response


class EchoEmulator(Emulator):
    """Stores notes; enough surface to exercise routing, counters, faults and admin."""

    admin_actions = (*Emulator.admin_actions, "add_note")

    def __init__(self) -> None:
        super().__init__(token="secret-token")
        self.notes: list[str] = []
        self.route("GET", "/health", lambda r: json_response({"ok": True}), public=True)
        self.route("GET", "/notes", self._list)
        self.route("POST", "/notes", self._add)
        self.route("GET", "/notes/{index}", self._one)

    def state_reset(self) -> None:
        self.notes.clear()

    def add_note(self, text: str) -> int:
        with self.lock:
            self.notes.append(text)
            return len(self.notes) - 1

    def _list(self, request: Request) -> Response:
        return json_response({"notes": self.notes})

    def _add(self, request: Request) -> Response:
        return json_response({"index": self.add_note(str(request.params()["text"]))}, 201)

    def _one(self, request: Request) -> Response:
        return json_response({"note": self.notes[int(request.args["index"])]})


@pytest.fixture(scope="module")
def running() -> Iterator[EchoEmulator]:
    emulator = EchoEmulator()
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture
def echo(running: EchoEmulator) -> EchoEmulator:
    running.reset()
    return running


@pytest.fixture
def client(echo: EchoEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=echo.base_url, headers={"Authorization": "Bearer secret-token"}, timeout=0.2
    ) as http:
        yield http


def test_emulator_listens_on_an_ephemeral_loopback_port(echo: EchoEmulator) -> None:
    assert echo.base_url.startswith("http://127.0.0.1:")
    assert httpx.get(echo.base_url + "health").json() == {"ok": True}


def test_route_arguments_reach_the_handler(echo: EchoEmulator, client: httpx.Client) -> None:
    echo.add_note("first")
    assert client.get("/notes/0").json() == {"note": "first"}


def test_requests_are_counted_per_route_pattern(echo: EchoEmulator, client: httpx.Client) -> None:
    echo.add_note("first")
    client.get("/notes")
    client.get("/notes/0")
    client.get("/notes")
    assert echo.requests["GET /notes"] == 2
    assert echo.requests["GET /notes/{index}"] == 1


def test_wrong_token_is_refused(echo: EchoEmulator) -> None:
    answer = httpx.get(echo.base_url + "notes", headers={"Authorization": "Bearer wrong"})
    assert answer.status_code == 401


def test_expired_token_is_refused_until_restored(echo: EchoEmulator, client: httpx.Client) -> None:
    echo.expire_token()
    assert client.get("/notes").status_code == 401
    echo.restore_token()
    assert client.get("/notes").status_code == 200


def test_fail_next_answers_the_chosen_route_the_given_number_of_times(
    echo: EchoEmulator, client: httpx.Client
) -> None:
    echo.add_note("first")
    echo.fail_next(429, {"error": "slow down"}, {"Retry-After": "7"}, route="GET /notes", times=2)
    assert client.get("/notes/0").status_code != 429
    first, second, third = (client.get("/notes") for _ in range(3))
    assert (first.status_code, first.headers["retry-after"]) == (429, "7")
    assert second.status_code == 429
    assert third.status_code == 200


def test_delayed_answer_times_the_client_out(echo: EchoEmulator, client: httpx.Client) -> None:
    echo.delay_next(1.0)
    with pytest.raises(httpx.ReadTimeout):
        client.get("/notes")


def test_dropped_connection_gets_no_answer(echo: EchoEmulator, client: httpx.Client) -> None:
    echo.drop_next()
    with pytest.raises(httpx.RemoteProtocolError):
        client.get("/notes")
    assert echo.requests["GET /notes"] == 1


def test_ghost_success_applies_the_write_but_drops_the_answer(
    echo: EchoEmulator, client: httpx.Client
) -> None:
    echo.drop_next(route="POST /notes", apply=True)
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/notes", data={"text": "kept"})
    assert echo.notes == ["kept"]


def test_admin_interface_mirrors_the_python_controls(
    echo: EchoEmulator, client: httpx.Client
) -> None:
    admin = echo.base_url + "_admin/"
    assert httpx.post(admin + "add_note", json={"text": "via http"}).json() == {"result": 0}
    httpx.post(admin + "fail_next", json={"status": 503, "route": "GET /notes"})
    assert client.get("/notes").status_code == 503
    assert httpx.post(admin + "request_counts").json() == {"result": {"GET /notes": 1}}
    httpx.post(admin + "reset")
    assert echo.notes == [] and echo.total_requests() == 0


def test_unknown_admin_action_is_refused(echo: EchoEmulator) -> None:
    assert httpx.post(echo.base_url + "_admin/explode").status_code == 404
