"""What every part of the workflow shares: collaborators, the clock, and guarded state changes.

State moves by compare-and-set (`UPDATE ... WHERE state IN (...)`), which is atomic on
SQLite and PostgreSQL alike: of two simultaneous clicks exactly one wins, and the loser is
told the inquiry already moved on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col

from bot.chat.base import ChatGateway, ChatRef
from bot.errors import InvalidTransition, NotAllowed
from bot.models import ChatFollowUp, Inquiry, InquiryState, utcnow
from bot.platforms.base import PlatformClient
from bot.store import Store
from bot.workflow.setup import ChatSetup

REDRAW, NOTE, MOVE = "redraw", "note", "move"
"""The kinds of `ChatFollowUp`: redraw the cards, post a note, post the card of a move."""

LEFT_TO_OWNER = timedelta(seconds=30)
"""How long the sweep leaves a new follow-up to the code that stored it, which carries it
out right after its commit; only one left behind by a crash or an outage is the sweep's."""


@dataclass
class WorkflowContext:
    """The collaborators of one running bot, built once by the CLI and shared by every part."""

    store: Store
    chat: ChatGateway
    clients: Mapping[tuple[str, str], PlatformClient]
    rules: Any  # bot.rules.RuleSet
    policy: Any  # bot.deadlines.DeadlinePolicy
    setup: ChatSetup
    is_officer: Callable[[str], bool]
    clock: Callable[[], datetime] = utcnow
    tz: str = "Europe/Copenhagen"  # the time zone people read times in

    def now(self) -> datetime:
        return self.clock()

    def client_for(self, inquiry: Inquiry) -> PlatformClient | None:
        return self.clients.get((inquiry.platform, inquiry.account))

    def record(
        self, session: Session, action: str, *, actor: str = "system", inquiry_id: int | None = None,
        **detail: Any,
    ) -> None:
        """Append an audit event stamped with the workflow's clock (the demo's clock runs fast)."""
        self.store.record(session, action, actor=actor, inquiry_id=inquiry_id, at=self.now(), **detail)

    def require_officer(self, session: Session, actor: str, action: str, inquiry_id: int) -> None:
        """Refuse and record the attempt when `actor` is not in the communication unit."""
        if self.is_officer(actor):
            return
        with self.store.session() as audit:  # its own transaction: the refusal outlives the rollback
            self.record(audit, "refused", actor=actor, inquiry_id=inquiry_id, attempted=action)
        raise NotAllowed(f"{actor} is not a member of the communication unit ({action})")

    def load(self, session: Session, inquiry_id: int) -> Inquiry:
        inquiry = session.get(Inquiry, inquiry_id)
        if inquiry is None:
            raise InvalidTransition(f"inquiry {inquiry_id} does not exist")
        return inquiry

    def transition(
        self,
        session: Session,
        inquiry_id: int,
        allowed: Iterable[InquiryState],
        target: InquiryState,
        **values: Any,
    ) -> Inquiry:
        """Move the inquiry to `target` only if it is still in one of `allowed`; else refuse."""
        result = session.execute(
            update(Inquiry)
            .where(col(Inquiry.id) == inquiry_id, col(Inquiry.state).in_(list(allowed)))
            .values(state=target, updated_at=self.now(), **values)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            current = session.get(Inquiry, inquiry_id)
            state = current.state.value if current else "missing"
            raise InvalidTransition(f"inquiry {inquiry_id} is {state}, cannot become {target.value}", state=state)
        self.owe_redraw(session, inquiry_id)
        inquiry = self.load(session, inquiry_id)
        session.refresh(inquiry)
        return inquiry

    def owe_redraw(self, session: Session, inquiry_id: int, *, by_sweep: bool = False) -> None:
        """The inquiry's cards must be redrawn once this transaction commits; `by_sweep` when
        the caller will not redraw them itself, so the next sweep does it without waiting."""
        now = self.now()
        session.add(ChatFollowUp(kind=REDRAW, inquiry_id=inquiry_id, created_at=now,
                                 due_at=now if by_sweep else now + LEFT_TO_OWNER))

    def owe_note(self, session: Session, channel: str, text: str, *, inquiry_id: int | None = None,
                 thread_ts: str | None = None) -> int:
        """A note (already escaped for chat) must be posted once this transaction commits; returns
        its follow-up id, for the caller to carry it out at once (`bot.workflow.followups`)."""
        return self._owe(session, ChatFollowUp(kind=NOTE, inquiry_id=inquiry_id, channel=channel,
                                               thread_ts=thread_ts, text=text))

    def owe_move(self, session: Session, inquiry_id: int, old_card: ChatRef | None) -> int:
        """The moved inquiry's card must appear in its new channel, and `old_card` be frozen."""
        return self._owe(session, ChatFollowUp(
            kind=MOVE, inquiry_id=inquiry_id, channel=old_card.channel if old_card else "",
            thread_ts=old_card.ts if old_card else None))

    def _owe(self, session: Session, follow_up: ChatFollowUp) -> int:
        follow_up.created_at, follow_up.due_at = self.now(), self.now() + LEFT_TO_OWNER
        session.add(follow_up)
        session.flush()
        return follow_up.id or 0
