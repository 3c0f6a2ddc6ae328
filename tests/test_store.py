"""Storage behaviour that must hold on SQLite and PostgreSQL alike."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine
from sqlmodel import SQLModel, select

from bot.models import Event, Inquiry, InquiryKind, InquiryState
from bot.store import Store, upgrade


def _inquiry(external_id: str = "123_456") -> Inquiry:
    return Inquiry(
        platform="facebook",
        account="page-1",
        external_id=external_id,
        kind=InquiryKind.COMMENT,
        text="Hvornår bliver der tømt skraldespand på Bækkegårdsvej?",
        route="affald",
        created_at=datetime(2026, 5, 13, 13, 0, tzinfo=UTC),
    )


def test_the_same_platform_item_is_stored_once(store: Store) -> None:
    with store.session() as session:
        first = store.insert_inquiry_once(session, _inquiry())
        second = store.insert_inquiry_once(session, _inquiry())
    assert first is not None
    assert second is None
    with store.session() as session:
        assert len(session.exec(select(Inquiry)).all()) == 1


def test_a_repeat_does_not_spoil_the_rest_of_the_batch(store: Store) -> None:
    with store.session() as session:
        store.insert_inquiry_once(session, _inquiry("a"))
    with store.session() as session:
        store.insert_inquiry_once(session, _inquiry("a"))
        store.insert_inquiry_once(session, _inquiry("b"))
    with store.session() as session:
        ids = sorted(row.external_id for row in session.exec(select(Inquiry)).all())
    assert ids == ["a", "b"]


def test_a_batch_lookup_names_exactly_the_items_already_stored(store: Store) -> None:
    with store.session() as session:
        store.insert_inquiry_once(session, _inquiry("a"))
        store.insert_inquiry_once(session, _inquiry("c"))
    with store.session() as session:
        assert store.stored_among(session, "facebook", ["a", "b", "c"]) == {"a", "c"}
        assert store.stored_among(session, "instagram", ["a"]) == set()


def test_times_come_back_aware_in_utc(store: Store) -> None:
    with store.session() as session:
        store.insert_inquiry_once(session, _inquiry())
    with store.session() as session:
        stored = session.exec(select(Inquiry)).one()
    assert stored.created_at == datetime(2026, 5, 13, 13, 0, tzinfo=UTC)
    assert stored.received_at.tzinfo is not None
    assert stored.state is InquiryState.RECEIVED


def test_events_record_who_did_what(store: Store) -> None:
    with store.session() as session:
        inquiry = store.insert_inquiry_once(session, _inquiry())
        assert inquiry is not None
        store.record(session, "approved", actor="U123", inquiry_id=inquiry.id, draft_id=1)
    with store.session() as session:
        event = session.exec(select(Event)).one()
    assert (event.actor, event.action, event.detail) == ("U123", "approved", {"draft_id": 1})


def test_upgrading_an_up_to_date_database_changes_nothing(store: Store) -> None:
    upgrade(store.engine)
    with store.session() as session:
        assert session.exec(select(Inquiry)).all() == []


def test_the_migrations_build_exactly_the_tables_the_models_describe(store: Store) -> None:
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []



@pytest.mark.postgres
def test_two_replicas_migrating_an_empty_database_together_both_succeed(
    empty_postgres: Engine,
) -> None:
    errors: list[BaseException] = []

    def start() -> None:
        try:
            upgrade(empty_postgres)
        except Exception as exc:  # noqa: BLE001 - the assertion below reports it
            errors.append(exc)

    replicas = [threading.Thread(target=start) for _ in range(2)]
    for replica in replicas:
        replica.start()
    for replica in replicas:
        replica.join()
    assert errors == []
    with Store(empty_postgres).session() as session:
        assert session.exec(select(Inquiry)).all() == []
