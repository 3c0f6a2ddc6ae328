"""Settled inquiries with a full history (draft, approval, sent reply, events), written straight
to the store, for the retention and journal tests, which read history rather than make it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from bot.models import (
    Decision,
    DecisionKind,
    Draft,
    Inquiry,
    InquiryKind,
    InquiryState,
    Reply,
    ReplyState,
)
from bot.store import Store

RECEIVED = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
CITIZEN_TEXT = "Hvornår henter I storskrald på Bækkegårdsvej? Mit CPR er 010190-1234"
REPLY_TEXT = "Hej Mette. Storskrald hentes hver anden tirsdag. Venlig hilsen Anne, Albertslund Kommune"
OFFICER = "U_OFFICER"
SPECIALIST = "U_SPECIALIST"


def settled_inquiry(
    store: Store,
    *,
    external_id: str = "111_222",
    state: InquiryState = InquiryState.ANSWERED,
    received: datetime = RECEIVED,
    settled_after: timedelta = timedelta(hours=2),
    text: str = CITIZEN_TEXT,
    journal_required: bool = False,
    no_reply_needed: bool = False,
    close_reason: str = "no_reply_needed",
    hidden_after: timedelta | None = None,
) -> int:
    """An inquiry answered (or closed) `settled_after` its receipt, optionally hidden later."""
    settled = received + settled_after
    answered = state is InquiryState.ANSWERED
    with store.session() as session:
        inquiry = Inquiry(
            platform="facebook", account="page-1", external_id=external_id, kind=InquiryKind.COMMENT,
            author_name="Mette Hansen", author_id="fb-user-42", text=text,
            post_id="page-1_post-9", post_text="Nu kommer storskraldsordningen", conversation_id="conv-7",
            permalink=f"https://facebook.example/page-1/posts/9?comment_id={external_id}",
            reply_target={"mode": "comment", "id": external_id}, created_at=received - timedelta(minutes=1),
            received_at=received, route="affald", journal_required=journal_required,
            no_reply_needed=no_reply_needed, routing_reasons=["affald: 'storskrald'"], state=state,
            answered_at=settled if answered else None, updated_at=settled,
            reply_external_id="reply-9" if answered else None,
        )
        session.add(inquiry)
        session.flush()
        inquiry_id = inquiry.id or 0
        store.record(session, "received", actor="platform:facebook", inquiry_id=inquiry_id, at=received)
        if answered:
            _answer(store, session, inquiry_id, received, settled)
        else:
            store.record(session, "closed", actor=OFFICER, inquiry_id=inquiry_id, at=settled,
                         reason=close_reason)
        if hidden_after is not None:
            store.record(session, "hidden", actor=OFFICER, inquiry_id=inquiry_id, at=received + hidden_after,
                         reason="personal_data", snapshot=text)
    return inquiry_id


def _answer(store: Store, session: Session, inquiry_id: int, received: datetime, settled: datetime) -> None:
    draft = Draft(inquiry_id=inquiry_id, author=SPECIALIST, text="Udkast: hver anden tirsdag",
                  created_at=received + timedelta(minutes=30))
    session.add(draft)
    session.flush()
    decision = Decision(inquiry_id=inquiry_id, draft_id=draft.id, decided_by=OFFICER, kind=DecisionKind.EDITED,
                        text=REPLY_TEXT, comment="Tilføjede hilsen til Mette", created_at=settled)
    session.add(decision)
    session.flush()
    reply = Reply(inquiry_id=inquiry_id, decision_id=decision.id or 0, idempotency_key=f"bb-{inquiry_id}",
                  text=REPLY_TEXT, state=ReplyState.SENT, external_id="reply-9", created_at=settled,
                  sent_at=settled)
    session.add(reply)
    session.flush()
    store.record(session, "drafted", actor=SPECIALIST, inquiry_id=inquiry_id, at=draft.created_at,
                 draft_id=draft.id)
    store.record(session, "edited", actor=OFFICER, inquiry_id=inquiry_id, at=settled, reply_id=reply.id)
    store.record(session, "sent", inquiry_id=inquiry_id, at=settled, reply_id=reply.id, external_id="reply-9",
                 permalink="https://facebook.example/page-1/posts/9?comment_id=reply-9")
