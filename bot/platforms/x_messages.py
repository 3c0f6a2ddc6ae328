"""X direct messages: reading DM events without a `since_id`, and pairing our answers.

`GET /2/dm_events` lists every conversation newest first and has no since filter, and each
event returned is billed, so a poll reads pages only until it meets the newest event it
stored before. Split from `x.py` because the pairing rules (which citizen message an
answer of ours belongs to) are DM-specific.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from bot.platforms.base import FetchResult, IncomingItem, OwnReply, ReplyTarget

Pages = Callable[..., Iterator[dict[str, Any]]]
DM_FIELDS = {"event_types": "MessageCreate",
             "dm_event.fields": "id,text,event_type,created_at,sender_id,dm_conversation_id,"
             "participant_ids", "expansions": "sender_id", "user.fields": "username,name"}


def parse_time(stamp: str) -> datetime:
    """X's `2026-08-12T18:00:00.000Z`."""
    return datetime.fromisoformat(stamp)


class DmReader:
    """The `messages` stream of one X account; the cursor holds the newest event's id and time."""

    def __init__(self, pages: Pages, account: str, page_size: int, overlap: timedelta) -> None:
        self._pages = pages
        self.account = account
        self._page_size = str(page_size)
        self._overlap = overlap

    def fetch_new(self, cursor: str) -> FetchResult:
        state = json.loads(cursor) if cursor else {}
        last_id = state.get("last", "")
        floor = parse_time(state["at"]) - self._overlap if state.get("at") else None
        seen: list[dict[str, Any]] = []
        new: list[dict[str, Any]] = []
        users: dict[str, dict[str, Any]] = {}
        for page in self._pages("/dm_events", max_results=self._page_size, **DM_FIELDS):
            users.update({u["id"]: u for u in page.get("includes", {}).get("users", [])})
            seen.extend(page.get("data", []))
            stop = next((i for i, e in enumerate(seen) if e["id"] == last_id
                         or (floor is not None and parse_time(e["created_at"]) < floor)), None)
            if stop is not None:
                new = seen[:stop]
                break
        else:
            new = seen
        items = [self._item(e, users) for e in new if e.get("sender_id") != self.account]
        own = [self._own(e, seen) for e in new if e.get("sender_id") == self.account]
        next_cursor = (json.dumps({"last": seen[0]["id"], "at": seen[0]["created_at"]})
                       if seen else cursor)
        return FetchResult(sorted(items, key=lambda i: i.created_at),
                           [o for o in own if o is not None], next_cursor)

    def own_answer(self, conversation: str, target_id: str) -> str | None:
        """Our first message after `target_id` and before the citizen's next one, if any."""
        candidate = None
        for event in self._conversation(conversation):
            if event.get("sender_id") == self.account:
                candidate = event["id"]
            elif event["id"] == target_id:
                return candidate
            else:
                candidate = None
        return None

    def _own(self, event: dict[str, Any], seen: list[dict[str, Any]]) -> OwnReply | None:
        """Our message, paired with the citizen message before it (read further if needed)."""
        answers = _answered(event, seen, self.account)
        if answers is None:
            answers = _answered(event, list(self._conversation(event["dm_conversation_id"])),
                                self.account)
        if answers is None:
            return None
        return OwnReply("x", event["id"], answers, event.get("text", ""),
                        parse_time(event["created_at"]))

    def _conversation(self, conversation: str) -> Iterator[dict[str, Any]]:
        for page in self._pages(f"/dm_conversations/{conversation}/dm_events",
                                max_results="100", **DM_FIELDS):
            yield from page.get("data", [])

    def _item(self, event: dict[str, Any], users: dict[str, dict[str, Any]]) -> IncomingItem:
        sender = event.get("sender_id", "")
        conversation = event.get("dm_conversation_id", "")
        user = users.get(sender, {})
        ref = {"participant_id": sender, "dm_conversation_id": conversation,
               "dm_event_id": event["id"]}
        return IncomingItem(
            platform="x", account=self.account, external_id=event["id"], kind="message",
            author_id=sender, author_name=user.get("name") or user.get("username", ""),
            text=event.get("text", ""), created_at=parse_time(event["created_at"]),
            reply_target=ReplyTarget("message", ref), conversation_id=conversation,
            permalink=f"https://x.com/messages/{conversation}",
        )


def _answered(own: dict[str, Any], newest_first: list[dict[str, Any]], account: str) -> str | None:
    """The newest citizen message older than `own` in its conversation, from a newest-first list."""
    after = False
    for event in newest_first:
        if event["id"] == own["id"]:
            after = True
        elif (after and event.get("dm_conversation_id") == own["dm_conversation_id"]
              and event.get("sender_id") != account):
            return str(event["id"])
    return None
