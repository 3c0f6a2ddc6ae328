"""No token or signing secret ever leaves the process's memory: not in a log line at any level
(ours, httpx, httpcore, Bolt, slack_sdk), not in an exception's text or traceback, not in the
printed timeline and not in any column of any table of the database. Citizens' words stay
out of every log line that operators read (INFO and above).

Each scenario runs the demo's own steps (`Demo`, `scripted_day`, `answer_everything`) on the
sandbox world once, with every logger at DEBUG, and keeps its database for inspection; the
faults scenario makes the platforms refuse tokens, fail with the token echoed in the error
body and drop connections, so the error paths are searched too.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from bot.demo.run import SAMPLES, STEP, Demo, answer_everything, read_inquiries, scripted_day
from bot.demo.world import BOT_TOKEN, OFFICERS, SIGNING_SECRET
from bot.models import InquiryState
from tests.conftest import RULES_FILE

LIBRARY_LOGGERS = ("httpx", "httpcore", "slack_bolt", "slack_sdk", "borgerbot", "bot", "handlers")
FED = [
    {"id": "f1", "platform": "facebook", "kind": "comment", "post_text": "Storskrald",
     "text": "Hvornår henter I storskrald? Mit CPR er 010190-1234"},
    {"id": "f2", "platform": "instagram", "kind": "message", "text": "<!channel> kørekort?"},
    {"id": "f3", "platform": "linkedin", "kind": "comment", "text": "Ledige stillinger?"},
    {"id": "f4", "platform": "x", "kind": "message", "text": "Tak for hjælpen 🙏"},
]


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def everything_logged() -> Iterator[list[logging.LogRecord]]:
    """Every record of the run at DEBUG, from the root and from each library's own logger."""
    keep = _Keep()
    loggers = [logging.getLogger(), *(logging.getLogger(name) for name in LIBRARY_LOGGERS)]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    loggers[0].addHandler(keep)
    try:
        yield keep.records
    finally:
        loggers[0].removeHandler(keep)
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def sample_day(demo: Demo, _: Path) -> None:
    scripted_day(demo, read_inquiries(SAMPLES))


def fed_inquiries(demo: Demo, workdir: Path) -> None:
    """`make demo --inquiries FILE`: read from a file, then every one drafted and approved."""
    source = workdir / "inquiries.jsonl"
    source.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in FED), encoding="utf-8")
    answer_everything(demo, read_inquiries(source))


def day_with_faults(demo: Demo, _: Path) -> None:
    """Platforms that echo the token in their errors, hang up and finally refuse the token;
    Slack refusing the bot's calls, once while a person waits for a form."""
    world = demo.world
    emulators = (world.graph, world.linkedin, world.x)
    for emulator in emulators:
        token = emulator.token
        echoed = {"error": {"message": f"bad request ?access_token={token} ({token})"}}
        emulator.fail_next(400, echoed)
        emulator.fail_next(503, echoed)
    world.slack.fail_next("chat.postMessage", "invalid_auth")
    demo.citizens_write(FED)
    demo.tick()
    posted = demo.open_inquiries(InquiryState.POSTED)
    world.slack.fail_next("views.open", "invalid_auth")
    world.click(OFFICERS[0], posted[0].id or 0, "answer")
    for emulator in emulators:
        emulator.drop_next()
    demo.advance(STEP)
    demo.tick()
    for emulator in emulators:
        emulator.expire_token("revoked")
    demo.advance(STEP)
    demo.tick()


SCENARIOS: dict[str, Callable[[Demo, Path], None]] = {
    "sample day": sample_day, "fed inquiries": fed_inquiries, "faults": day_with_faults,
}


@dataclass(frozen=True)
class Trace:
    scenario: str
    secrets: tuple[str, ...]
    citizen_texts: tuple[str, ...]
    records: list[logging.LogRecord]
    timeline: list[str]
    database: Path


@pytest.fixture(scope="module", params=list(SCENARIOS))
def trace(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Trace:
    workdir = tmp_path_factory.mktemp("secrets")
    timeline: list[str] = []
    with everything_logged() as records:
        demo = Demo(str(RULES_FILE), timeline.append, workdir)
        try:
            SCENARIOS[request.param](demo, workdir)
        finally:
            demo.close()
    world = demo.world
    secrets = (world.graph.token, world.linkedin.token, world.x.token, BOT_TOKEN, SIGNING_SECRET)
    written = read_inquiries(SAMPLES) if request.param == "sample day" else FED
    citizens = tuple(str(record["text"]) for record in written)
    return Trace(request.param, secrets, citizens, records, timeline, workdir / "demo.db")


def leaked(trace: Trace, texts: list[str]) -> list[str]:
    """Each text holding a secret, shortened around it, so a failure shows where it leaked."""
    found = []
    for piece in texts:
        for secret in trace.secrets:
            at = piece.find(secret)
            if at >= 0:
                found.append(piece[max(0, at - 80): at + len(secret) + 20])
    return found


def test_the_run_was_logged_at_debug_level_by_every_library(trace: Trace) -> None:
    """Guards the other tests: a search of an empty or INFO-only log would prove nothing."""
    names = {record.name.split(".")[0] for record in trace.records}
    assert {"httpx", "httpcore", "slack_sdk", "bot"} <= names
    assert any(record.levelno == logging.DEBUG for record in trace.records)
    if trace.scenario == "faults":
        assert any(record.exc_info for record in trace.records)


def test_no_secret_in_any_log_message(trace: Trace) -> None:
    assert leaked(trace, [record.getMessage() for record in trace.records]) == []


def test_no_secret_in_any_formatted_log_line_or_traceback(trace: Trace) -> None:
    formatter = logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s")
    assert leaked(trace, [formatter.format(record) for record in trace.records]) == []


def test_no_secret_in_the_text_of_any_logged_exception(trace: Trace) -> None:
    errors = [r.exc_info[1] for r in trace.records if r.exc_info and r.exc_info[1]]
    texts = [str(error) for error in errors] + [repr(error) for error in errors]
    texts += ["".join(traceback.format_exception(error)) for error in errors]
    assert leaked(trace, texts) == []


def test_no_citizen_text_in_any_log_line_at_info_or_above(trace: Trace) -> None:
    """Operators read INFO logs; citizens' words and CPR numbers belong only in the database."""
    shown = [r.getMessage() for r in trace.records if r.levelno >= logging.INFO]
    pieces = [text[:20] for text in trace.citizen_texts if len(text) >= 12] + ["010190"]
    assert [line for line in shown if any(piece in line for piece in pieces)] == []


def test_no_secret_in_the_printed_timeline(trace: Trace) -> None:
    assert leaked(trace, trace.timeline) == []


def test_no_secret_in_any_column_of_any_table(trace: Trace) -> None:
    engine = create_engine(f"sqlite:///{trace.database}")
    try:
        values: list[str] = []
        with engine.connect() as connection:
            for table in inspect(engine).get_table_names():
                rows = connection.execute(text(f'SELECT * FROM "{table}"')).all()
                values += [f"{table}: {value}" for row in rows for value in row]
    finally:
        engine.dispose()
    assert len(values) > 100
    assert leaked(trace, values) == []
