"""Bolt apps served over real HTTP on loopback, so Slack's deliveries can arrive the way Slack
sends them: several at the same moment, to one replica or to two."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.sandbox.slack_requests import SignedRequest


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """No access log on stderr."""


@contextmanager
def served(app: App) -> Iterator[str]:
    """`app` answering on http://127.0.0.1:<port>/slack/events, one thread per request."""
    server = make_server("127.0.0.1", 0, SlackRequestHandler(app), server_class=_ThreadingWSGIServer,
                         handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/slack/events"
    finally:
        server.shutdown()
        server.server_close()


def post(url: str, request: SignedRequest) -> int:
    """One delivery; returns the HTTP status the app answered with."""
    sent = urllib.request.Request(url, data=request.body.encode(), headers=request.headers, method="POST")
    try:
        with urllib.request.urlopen(sent, timeout=30) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as refused:
        return int(refused.code)


def at_once(deliveries: Sequence[tuple[str, SignedRequest]]) -> list[int]:
    """Every (url, request) sent at the same moment, each from its own thread."""
    start = threading.Barrier(len(deliveries))
    statuses: list[int] = [0] * len(deliveries)

    def deliver(index: int, url: str, request: SignedRequest) -> None:
        start.wait()
        statuses[index] = post(url, request)

    threads = [threading.Thread(target=deliver, args=(i, url, request))
               for i, (url, request) in enumerate(deliveries)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses
