"""Read-only questions the chat side asks: which inquiry is this thread, what is still open."""

from __future__ import annotations

import re

from sqlmodel import col, select

from bot.chat.base import InquiryView
from bot.errors import MembershipUnknown
from bot.models import OPEN_STATES, Draft, Inquiry
from bot.officers import Officers
from bot.workflow.context import WorkflowContext
from bot.workflow.views import card_view

PLACEHOLDER = re.compile(r"( ?)\{(navn|fornavn)\}")


def first_name(name: str) -> str:
    """The first word of a name as the platform gives it; empty when it is no name (a
    missing one, or a handle such as "@borger12")."""
    word = (name.split() or [""])[0]
    return word if word[:1].isalpha() else ""


class Queries:
    """Lookups that never change state."""

    def __init__(self, ctx: WorkflowContext) -> None:
        self.ctx = ctx

    def department_thread(self, channel: str, thread_ts: str) -> int | None:
        """The inquiry whose department card started this thread (drafts are written there)."""
        with self.ctx.store.session() as session:
            return session.exec(
                select(Inquiry.id).where(Inquiry.chat_channel == channel, Inquiry.chat_ts == thread_ts)
            ).first()

    def view(self, inquiry_id: int, *, approval: bool = False) -> InquiryView:
        """The current view of one inquiry, for modals opened from its card."""
        with self.ctx.store.session() as session:
            return card_view(self.ctx, session, self.ctx.load(session, inquiry_id), approval=approval)

    def open_views(self, user: str | None = None, limit: int = 200) -> list[InquiryView]:
        """Open inquiries, soonest deadline first; with `user`, only those that person drafted."""
        with self.ctx.store.session() as session:
            query = select(Inquiry).where(col(Inquiry.state).in_(OPEN_STATES))
            if user is not None:
                drafted = select(Draft.inquiry_id).where(Draft.author == user)
                query = query.where(col(Inquiry.id).in_(drafted))
            rows = session.exec(
                query.order_by(col(Inquiry.deadline_at).asc().nulls_last()).limit(limit)
            ).all()
            return [card_view(self.ctx, session, row) for row in rows]

    def salutation(self, inquiry_id: int, writer_name: str) -> tuple[str, str]:
        """The configured greeting and sign-off with `{navn}` (the citizen's first name) and
        `{fornavn}` (the writer's) filled in, so a draft starts ready to finish and answers to
        different people differ naturally. A name the platform does not give is left out with
        the space before it ("Hej {navn}" becomes "Hej"). Only the writer's template is
        filled here; the connector never alters the approved text."""
        with self.ctx.store.session() as session:
            citizen = self.ctx.load(session, inquiry_id).author_name
        names = {"navn": first_name(citizen), "fornavn": first_name(writer_name)}

        def fill(template: str) -> str:
            return PLACEHOLDER.sub(
                lambda match: f"{match.group(1)}{names[match.group(2)]}" if names[match.group(2)] else "",
                template)

        return fill(self.ctx.setup.greeting), fill(self.ctx.setup.signoff)

    def is_officer(self, user: str) -> bool:
        """Whether `user` may see everything; a membership Slack cannot tell now counts as no."""
        check = self.ctx.is_officer
        try:
            return check.recently(user) if isinstance(check, Officers) else check(user)
        except MembershipUnknown:
            return False

    def officer_known(self, user: str) -> bool | None:
        """The officer answer without calling Slack, for checks that must answer at once
        (a form submission is answered within Slack's 3 seconds); None when unknown."""
        check = self.ctx.is_officer
        return check.known(user) if isinstance(check, Officers) else None
