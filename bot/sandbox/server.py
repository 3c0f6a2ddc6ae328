"""The shared machinery of every platform emulator: a loopback HTTP server with switches.

Each emulator (Graph, LinkedIn, X) subclasses `Emulator`, registers its routes and keeps
its own state. This module gives them the parts that must behave the same everywhere, so
a test written against one emulator reads like a test against another: ephemeral ports,
per-route request counters, fault switches (fail, delay, drop, token trouble), a
controllable clock and an admin interface over HTTP that mirrors the Python methods.

Layering: the sandbox imports nothing from `bot`; it is written from the platform docs.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from bot.sandbox.wire import Fault, Handler, Request, Response, json_response

__all__ = ["Emulator", "Fault", "Handler", "Request", "Response", "json_response"]

ADMIN_PREFIX = "/_admin/"
LOOPBACK = "127.0.0.1"


@dataclass
class _Route:
    method: str
    pattern: str
    regex: re.Pattern[str]
    handler: Handler
    public: bool

    @property
    def key(self) -> str:
        return f"{self.method} {self.pattern}"


class Emulator:
    """Base of every platform emulator: routing, counters, faults, token state and admin.

    Subclasses call `route()` in `__init__`, override `extract_token`/`auth_error` for
    their auth scheme and `state_reset` to clear their data, and may add names to
    `admin_actions` to expose their control methods over `POST /_admin/<name>`.
    """

    admin_actions: tuple[str, ...] = (
        "reset",
        "fail_next",
        "delay_next",
        "drop_next",
        "expire_token",
        "restore_token",
        "advance_clock",
        "request_counts",
        "reset_counters",
    )

    def __init__(self, token: str = "sandbox-token") -> None:
        self.token = token
        self.lock = threading.RLock()
        self.requests: Counter[str] = Counter()
        self.faults: list[Fault] = []
        self.token_problem: str | None = None
        self.clock_offset = timedelta()
        self._routes: list[_Route] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> Emulator:
        """Serve on 127.0.0.1 with an ephemeral port in a daemon thread."""
        handler = type("BoundHandler", (_HttpHandler,), {"emulator": self})
        self._server = ThreadingHTTPServer((LOOPBACK, 0), handler)
        self._server.daemon_threads = True
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05},  # quick stop()
            name=type(self).__name__, daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def base_url(self) -> str:
        """Root URL with a trailing slash, e.g. http://127.0.0.1:50123/."""
        if self._server is None:
            raise RuntimeError("emulator not started")
        return f"http://{LOOPBACK}:{self._server.server_port}/"

    def reset(self) -> None:
        """Forget everything: data, counters, faults, token trouble and clock offset."""
        with self.lock:
            self.requests.clear()
            self.faults.clear()
            self.token_problem = None
            self.clock_offset = timedelta()
            self.state_reset()

    def state_reset(self) -> None:
        """Clear the subclass's own data; called under the lock by `reset`."""

    # -- clock ----------------------------------------------------------------------------

    def now(self) -> datetime:
        return datetime.now(UTC) + self.clock_offset

    def advance_clock(self, seconds: float) -> None:
        with self.lock:
            self.clock_offset += timedelta(seconds=seconds)

    # -- switches -------------------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        body: Any = None,
        headers: dict[str, str] | None = None,
        *,
        route: str | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` calls to `route` (e.g. "GET /{id}/feed") with this."""
        with self.lock:
            self.faults.append(Fault(route, times, response=json_response(body, status, headers)))

    def delay_next(
        self, seconds: float, *, route: str | None = None, times: int = 1, apply: bool = True
    ) -> None:
        """Hold the answer back; with `apply=False` the call has no effect and no answer."""
        with self.lock:
            self.faults.append(Fault(route, times, delay=seconds, apply=apply, drop=not apply))

    def drop_next(self, *, route: str | None = None, times: int = 1, apply: bool = False) -> None:
        """Close the connection without answering; `apply=True` performs the write first."""
        with self.lock:
            self.faults.append(Fault(route, times, drop=True, apply=apply))

    def expire_token(self, problem: str = "expired") -> None:
        """Refuse the token from now on: "expired", "revoked" or "permission"."""
        with self.lock:
            self.token_problem = problem

    def restore_token(self) -> None:
        with self.lock:
            self.token_problem = None

    def reset_counters(self) -> None:
        """Zero the counters only, e.g. between a warm-up poll and the one being measured."""
        with self.lock:
            self.requests.clear()

    def request_counts(self) -> dict[str, int]:
        with self.lock:
            return dict(self.requests)

    def total_requests(self) -> int:
        with self.lock:
            return sum(self.requests.values())

    # -- routing --------------------------------------------------------------------------

    def route(self, method: str, pattern: str, handler: Handler, *, public: bool = False) -> None:
        """Register `handler` for `pattern`, where `{name}` matches one path segment.

        Routes are tried in registration order, so register literal paths before
        patterns that would also match them. `public` routes skip the token check.
        """
        regex = re.compile(
            "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(pattern)) + "$"
        )
        self._routes.append(_Route(method.upper(), pattern, regex, handler, public))

    def route_path(self, path: str) -> str | None:
        """The path used for routing; subclasses strip prefixes such as a version."""
        return path

    def extract_token(self, request: Request) -> str | None:
        return request.bearer()

    def auth_error(self, problem: str) -> Response:
        """The platform's answer to a bad token; `problem` is "invalid" or a switch value."""
        return json_response({"error": problem}, 401)

    def not_found(self, request: Request) -> Response:
        return json_response({"error": f"no route for {request.method} {request.path}"}, 404)

    def extra_headers(self, request: Request, response: Response) -> dict[str, str]:
        """Headers added to every API answer (e.g. rate-limit usage)."""
        return {}

    def dispatch(self, request: Request, *, count: bool = True) -> Response:
        """Route, count, check the token and apply `response` faults; no delay or drop.

        Also used in-process by emulators that nest calls (Graph batch requests).
        """
        found = self._match(request)
        if found is None:
            return self.not_found(request)
        route, args = found
        request.args = args
        with self.lock:
            if count:
                self.requests[route.key] += 1
            fault = self._take_fault(route.key, lambda f: f.response is not None)
        if fault is not None and fault.response is not None:
            return fault.response
        if not route.public:
            refusal = self._check_token(request)
            if refusal is not None:
                return refusal
        with self.lock:
            try:
                response = route.handler(request)
            except Exception as exc:  # noqa: BLE001 - an emulator bug must answer, not hang
                response = json_response({"error": f"emulator: {exc!r}"}, 500)
        response.headers.update(self.extra_headers(request, response))
        return response

    def _match(self, request: Request) -> tuple[_Route, dict[str, str]] | None:
        path = self.route_path(request.path)
        if path is None:
            return None
        for route in self._routes:
            if route.method == request.method:
                hit = route.regex.match(path)
                if hit:
                    return route, hit.groupdict()
        return None

    def _check_token(self, request: Request) -> Response | None:
        token = self.extract_token(request)
        if token != self.token:
            return self.auth_error("invalid")
        if self.token_problem is not None:
            return self.auth_error(self.token_problem)
        return None

    def _take_fault(self, key: str, wanted: Callable[[Fault], bool]) -> Fault | None:
        for fault in self.faults:
            if fault.matches(key) and wanted(fault):
                fault.times -= 1
                if fault.times == 0:
                    self.faults.remove(fault)
                return fault
        return None

    def _transport_fault(self, request: Request) -> Fault | None:
        """A delay or drop switch for this call, consumed here (the HTTP layer acts on it).

        A call the switch swallows is still counted: it reached the server.
        """
        found = self._match(request)
        if found is None:
            return None
        key = found[0].key
        with self.lock:
            fault = self._take_fault(key, lambda f: f.response is None)
            if fault is not None and not fault.apply:
                self.requests[key] += 1
            return fault

    # -- admin ----------------------------------------------------------------------------

    def admin(self, action: str, arguments: dict[str, Any]) -> Response:
        if action not in self.admin_actions:
            return json_response({"error": f"unknown admin action {action!r}"}, 404)
        try:
            result = getattr(self, action)(**arguments)
        except (TypeError, KeyError, ValueError) as exc:
            return json_response({"error": str(exc)}, 400)
        return json_response({"result": result})

    def wait_or_stop(self, seconds: float) -> None:
        """Sleep for a delay switch, but wake at once when the emulator stops."""
        self._stopping.wait(seconds)


class _HttpHandler(BaseHTTPRequestHandler):
    emulator: Emulator
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # small keep-alive answers otherwise wait ~40 ms each

    def _serve(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        if request.path.startswith(ADMIN_PREFIX):
            arguments = request.json() if body else dict(request.query)
            self._send(self.emulator.admin(request.path[len(ADMIN_PREFIX) :], arguments or {}))
            return
        fault = self.emulator._transport_fault(request)
        if fault is None:
            self._send(self.emulator.dispatch(request))
            return
        response = self.emulator.dispatch(request) if fault.apply else None
        if fault.delay:
            self.emulator.wait_or_stop(fault.delay)
        if fault.drop or response is None:
            self.close_connection = True
            return
        self._send(response)

    def _send(self, response: Response) -> None:
        payload = response.encoded()
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log; requests are counted instead."""
