"""The request, response and fault values every emulator handler works with."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl


@dataclass
class Request:
    """One parsed HTTP request, plus the values captured from the route pattern."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes = b""
    args: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def params(self) -> dict[str, Any]:
        """Query and body parameters together, as Graph-style APIs accept either."""
        merged: dict[str, Any] = dict(self.query)
        content_type = self.headers.get("content-type", "")
        if self.body and "json" in content_type:
            data = self.json()
            if isinstance(data, dict):
                merged.update(data)
        elif self.body:
            merged.update(parse_qsl(self.body.decode("utf-8"), keep_blank_values=True))
        return merged

    def bearer(self) -> str | None:
        auth = self.headers.get("authorization", "")
        return auth[7:] if auth.lower().startswith("bearer ") else None


@dataclass
class Response:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if self.body is None:
            return b""
        return json.dumps(self.body, ensure_ascii=False).encode("utf-8")


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(status=status, body=body, headers=dict(headers or {}))


Handler = Callable[[Request], Response]


@dataclass
class Fault:
    """A switch that changes the next `times` calls to `route` (None: any route).

    `response` replaces the answer; `delay` holds the answer back (past the client's
    timeout); `drop` closes the connection without an answer. `apply` runs the real handler
    first, so a write takes effect although the caller never learns it did (ghost success).
    """

    route: str | None
    times: int
    response: Response | None = None
    delay: float = 0.0
    drop: bool = False
    apply: bool = False

    def matches(self, route: str) -> bool:
        return self.times > 0 and (self.route is None or self.route == route)
