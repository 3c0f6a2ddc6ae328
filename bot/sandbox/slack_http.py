"""The fake Slack's HTTP side: parsing Web API calls, Slack-shaped failure answers, and the
transport switches (a late answer, or none at all) that no JSON body can express."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from bot.sandbox.slack_workspace import Args, SlackFailure

JSON_FIELDS = ("blocks", "view", "metadata", "attachments")


@dataclass
class Transport:
    """A delay or a dropped connection for the next calls to one method."""

    delay: float
    drop: bool
    apply: bool
    remaining: int


class _Served(Protocol):
    """What the handler needs of `FakeSlack` (named structurally to avoid an import cycle)."""

    hook_posts: list[tuple[str, Any]]
    after_call: Any
    _lock: Any

    def handle(self, method: str, args: Args, token: str | None) -> tuple[int, Args, dict[str, str]]: ...

    def take_transport(self, method: str) -> Transport | None: ...


def failure_answer(failure: SlackFailure) -> tuple[int, Args, dict[str, str]]:
    body: Args = {"ok": False, "error": failure.code}
    if failure.messages:
        body["response_metadata"] = {"messages": failure.messages}
    headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
    return failure.status, body, headers


def parse_args(raw: bytes, content_type: str, query: str) -> Args:
    args: Args = {k: v[-1] for k, v in parse_qs(query).items()}
    text = raw.decode("utf-8") if raw else ""
    if "json" in content_type and text:
        args.update(json.loads(text))
    elif text:
        args.update({k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()})
    for name in JSON_FIELDS:
        if isinstance(args.get(name), str) and args[name][:1] in ("[", "{"):
            args[name] = json.loads(args[name])
    return args


def handler_for(fake: _Served) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self._serve()

        def do_GET(self) -> None:
            self._serve()

        def _serve(self) -> None:
            url = urlsplit(self.path)
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if url.path.startswith("/hooks/"):
                with fake._lock:
                    fake.hook_posts.append((url.path, json.loads(raw or b"null")))
                self._reply(200, b"ok", "text/plain", {})
                return
            try:
                args = parse_args(raw, self.headers.get("Content-Type", ""), url.query)
            except ValueError:
                self._reply(200, b'{"ok":false,"error":"invalid_json"}', "application/json", {})
                return
            auth = self.headers.get("Authorization", "")
            token = auth.removeprefix("Bearer ").strip() or args.get("token")
            method = url.path.rsplit("/", 1)[-1]
            switch = fake.take_transport(method)
            if switch is not None and not switch.apply:
                self.close_connection = True
                return
            status, body, headers = fake.handle(method, args, token)
            if fake.after_call is not None:
                fake.after_call(method, args, body)
            if switch is not None:
                time.sleep(switch.delay)
                if switch.drop:
                    self.close_connection = True
                    return
            self._reply(status, json.dumps(body).encode(), "application/json", headers)

        def _reply(self, status: int, body: bytes, content_type: str,
                   headers: dict[str, str]) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", f"{content_type}; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:
            """Silence the default stderr access log; tests read `fake.calls` instead."""

    return Handler
