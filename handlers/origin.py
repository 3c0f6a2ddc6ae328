"""What a modal must remember of the click that opened it, in its `private_metadata`.

A `view_submission` payload has no channel (docs.slack.dev/reference/interaction-payloads/
view-interactions-payload), so a refusal after the submission would have nowhere to go; and
the edit form must approve the draft the officer was shown. Both ride in the metadata next to
what `bot.chat.slack_blocks` put there (up to 3,000 characters, docs.slack.dev/reference/
views), as `{"m": <its metadata>, "c": <channel>, "d": <draft id>}`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Origin:
    metadata: str  # what slack_blocks stored: "<inquiry id>" or "<inquiry id>:<extra>"
    channel: str | None = None
    draft_id: int | None = None

    @property
    def inquiry_id(self) -> int:
        return int(self.metadata.split(":", 1)[0])

    @property
    def extra(self) -> str:
        return self.metadata.split(":", 1)[1] if ":" in self.metadata else ""


def remember(view: dict[str, Any], channel: str | None, draft_id: int | None = None) -> dict[str, Any]:
    """`view` with the click's channel (and the draft shown) added to its metadata."""
    packed = {"m": view.get("private_metadata", ""), "c": channel, "d": draft_id}
    return {**view, "private_metadata": json.dumps(packed, separators=(",", ":"))}


def recall(view: dict[str, Any]) -> Origin:
    """The origin stored by `remember`; a modal opened before it existed has only its metadata."""
    raw = str(view.get("private_metadata") or "")
    if not raw.startswith("{"):
        return Origin(raw)
    packed = json.loads(raw)
    draft = packed.get("d")
    return Origin(str(packed.get("m", "")), packed.get("c"), int(draft) if draft is not None else None)
