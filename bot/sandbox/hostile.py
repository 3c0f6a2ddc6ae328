"""Answers no well-behaved platform gives but a broken or hostile one can: paging that never
ends and pages too big to hold. The emulators switch them on to test the client's bounds.

Real sightings this models: Graph's `paging.next` is an opaque absolute URL the client must
follow as given (docs/platform-apis.md 1.6), so a Graph bug that hands back the same link
makes a naive client loop for ever; X's `meta.next_token` is opaque too (docs 4), so a
repeated token loops the same way; neither documents a maximum response size.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from bot.sandbox.wire import Response

FILLER = b"x" * (1024 * 1024)


@dataclass
class Hostility:
    """Which hostile answers an emulator gives on list reads; all off by default."""

    loop: bool = False  # the next-page cursor points back at the same page
    pad_bytes: int = 0  # each list answer is padded to at least this many bytes

    def padded(self, response: Response) -> Response:
        """The answer as JSON bytes of at least `pad_bytes`, still one valid JSON object."""
        if not self.pad_bytes or not isinstance(response.body, dict) or response.status != 200:
            return response
        head = json.dumps(response.body, ensure_ascii=False).encode()[:-1]
        missing = max(0, self.pad_bytes - len(head))
        whole, rest = divmod(missing, len(FILLER))
        filler = b"".join([FILLER] * whole) + FILLER[:rest]
        comma = b", " if len(head) > 1 else b""
        body = head + comma + b'"padding": "' + filler + b'"}'
        return Response(response.status, body, dict(response.headers))

