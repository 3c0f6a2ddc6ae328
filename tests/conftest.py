"""Shared fixtures: a fresh database on SQLite and, where available, PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from bot.demo.clock import SteppedClock
from bot.demo.world import SandboxWorld
from bot.models import utcnow
from bot.store import Store, make_engine, upgrade

pytest_plugins = ["tests.slack_support"]

# Helper modules that assert on a test's behalf get pytest's detailed failure messages too.
pytest.register_assert_rewrite("tests.emulator_support")

POSTGRES_URL = os.environ.get("BORGERBOT_TEST_POSTGRES_URL", "")
REQUIRE_POSTGRES = os.environ.get("BORGERBOT_REQUIRE_POSTGRES") == "1"
REPO = Path(__file__).resolve().parent.parent
RULES_FILE = REPO / "routing_rules.yaml"
DEV_SET = REPO.parent / "shared" / "data" / "routing-dev.jsonl"


@pytest.fixture
def empty_postgres() -> Iterator[Engine]:
    """An engine on a fresh, unmigrated PostgreSQL schema."""
    yield from _postgres_schema()


def _postgres_schema() -> Iterator[Engine]:
    if not POSTGRES_URL:
        if REQUIRE_POSTGRES:
            pytest.fail("BORGERBOT_REQUIRE_POSTGRES=1 but BORGERBOT_TEST_POSTGRES_URL is not set")
        pytest.skip("PostgreSQL half skipped: set BORGERBOT_TEST_POSTGRES_URL to run it")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = _engine_in_schema(schema)
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _postgres_store() -> Iterator[Store]:
    for engine in _postgres_schema():
        upgrade(engine)
        yield Store(engine)


def _engine_in_schema(schema: str) -> Engine:
    """Each test gets its own schema, so parallel or aborted runs never see each other's rows."""
    separator = "&" if "?" in POSTGRES_URL else "?"
    return make_engine(f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A migrated, empty database; every storage test runs once per backend."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'borgerbot.db'}")
        upgrade(engine)
        yield Store(engine)
        engine.dispose()
    else:
        yield from _postgres_store()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    """A migrated SQLite database, for tests whose subject is not the storage backend."""
    engine = make_engine(f"sqlite:///{tmp_path / 'borgerbot.db'}")
    upgrade(engine)
    yield Store(engine)
    engine.dispose()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[SandboxWorld]:
    """The whole product on loopback (emulators, fake Slack, real clients, workflow, Bolt app)."""
    sandbox = SandboxWorld(f"sqlite:///{tmp_path / 'world.db'}", RULES_FILE)
    yield sandbox
    sandbox.close()


@pytest.fixture
def stepped_clock() -> SteppedClock:
    return SteppedClock(utcnow())


@pytest.fixture
def clocked_world(tmp_path: Path, stepped_clock: SteppedClock) -> Iterator[SandboxWorld]:
    """The assembled product on a clock the test moves, so waiting takes no time."""
    sandbox = SandboxWorld(f"sqlite:///{tmp_path / 'world.db'}", RULES_FILE, clock=stepped_clock)
    yield sandbox
    sandbox.close()
