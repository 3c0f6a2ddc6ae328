"""The workflow of an inquiry: the only place that changes stored state.

`Workflow` wires the parts together once; callers (polling, the sweep, chat listeners)
reach the part they need: `intake`, `decisions`, `delivery`, `reminding`, `followups`,
`queries`, `chat_inbox`.
"""

from __future__ import annotations

from bot.workflow.chat_inbox import ChatInbox
from bot.workflow.context import WorkflowContext
from bot.workflow.decisions import Decisions
from bot.workflow.delivery import Delivery
from bot.workflow.followups import FollowUps
from bot.workflow.intake import Intake
from bot.workflow.presenter import Presenter
from bot.workflow.queries import Queries
from bot.workflow.reminding import Reminding
from bot.workflow.setup import ChatSetup


class Workflow:
    """One running bot's workflow, shared by the scheduler jobs and the chat listeners."""

    def __init__(self, ctx: WorkflowContext) -> None:
        self.ctx = ctx
        presenter = Presenter(ctx)
        self.followups = FollowUps(ctx, presenter)
        self.reminding = Reminding(ctx)
        self.delivery = Delivery(ctx, presenter, self.followups)
        self.intake = Intake(ctx, self.reminding, self.followups)
        self.decisions = Decisions(ctx, presenter, self.delivery, self.reminding, self.followups)
        self.queries = Queries(ctx)
        self.chat_inbox = ChatInbox(ctx, self.decisions)


__all__ = ["ChatSetup", "Workflow", "WorkflowContext"]
