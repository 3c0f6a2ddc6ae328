"""Scripted specialists and officers: they act only through Slack, as real people do.

Every action is a signed request into the real Bolt app (a thread reply, a button click),
so the demo exercises the same path as a person in a real workspace.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.demo.world import OFFICERS, SandboxWorld, specialist_for
from bot.models import Inquiry


@dataclass
class People:
    world: SandboxWorld

    def _inquiry(self, inquiry_id: int) -> Inquiry:
        with self.world.store.session() as session:
            found = session.get(Inquiry, inquiry_id)
        if found is None:
            raise LookupError(f"inquiry {inquiry_id} does not exist")
        return found

    def specialist_drafts(self, inquiry_id: int, text: str) -> str:
        """The department's specialist answers in the card's thread; returns who wrote."""
        inquiry = self._inquiry(inquiry_id)
        if not (inquiry.chat_channel and inquiry.chat_ts):
            raise LookupError(f"inquiry {inquiry_id} is not in chat yet")
        user = specialist_for(inquiry.route)
        message = self.world.slack.say(inquiry.chat_channel, user, text, thread_ts=inquiry.chat_ts)
        self.world.dispatch(self.world.requests.message_event(message))
        return user

    def click(self, user: str, inquiry_id: int, action: str, *, on_approval: bool = False) -> None:
        """A button press on the department card or on the approval request."""
        inquiry = self._inquiry(inquiry_id)
        channel, ts = (
            (inquiry.approval_channel, inquiry.approval_ts) if on_approval
            else (inquiry.chat_channel, inquiry.chat_ts)
        )
        if not (channel and ts):
            raise LookupError(f"inquiry {inquiry_id} has no such message in chat")
        slack = self.world.slack
        request = self.world.requests.block_action(
            user=user,
            action={"action_id": action, "value": str(inquiry_id)},
            message=slack.message(channel, ts),
            channel=channel,
            trigger_id=slack.new_trigger_id(),
            response_url=slack.new_response_url(),
        )
        self.world.dispatch(request)

    def officer_approves(self, inquiry_id: int, officer: str = OFFICERS[0]) -> None:
        self.click(officer, inquiry_id, "approve", on_approval=True)

    def fill_in_modal(self, user: str, values: dict[str, dict[str, str | None]]) -> None:
        """Submit the modal the bot opened last (as the fake Slack's views.open stored it)."""
        view = list(self.world.slack.views.values())[-1]
        self.world.dispatch(self.world.requests.view_submission(user=user, view=view, values=values))

    def officer_rejects(self, inquiry_id: int, comment: str, officer: str = OFFICERS[1]) -> None:
        self.click(officer, inquiry_id, "reject", on_approval=True)
        self.fill_in_modal(officer, {"comment_block": {"comment_input": comment}})

    def officer_answers(self, inquiry_id: int, text: str, officer: str = OFFICERS[0]) -> None:
        """The communication unit answers itself from the department card (urgent cases)."""
        self.click(officer, inquiry_id, "answer")
        self.fill_in_modal(officer, {"reply_block": {"reply_input": text}})

    def move(self, user: str, inquiry_id: int, route_id: str, reason: str) -> None:
        """Pick another department in the card's menu and confirm in the modal."""
        inquiry = self._inquiry(inquiry_id)
        slack = self.world.slack
        channel, ts = inquiry.chat_channel or "", inquiry.chat_ts or ""
        request = self.world.requests.block_action(
            user=user,
            action={"action_id": "move", "type": "static_select",
                    "selected_option": {"value": route_id}},
            message=slack.message(channel, ts),
            channel=channel,
            trigger_id=slack.new_trigger_id(),
            response_url=slack.new_response_url(),
        )
        self.world.dispatch(request)
        self.fill_in_modal(user, {"reason_block": {"reason_input": reason}})
