"""The `borgerbot` command: the composition root, and the only place that exits the process."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from bot import evaluation, routing
from bot.errors import BorgerbotError, ConfigError
from bot.rules import RuleSet, load_rules
from bot.settings import Settings, SettingsError, load_settings
from bot.store import make_engine, upgrade

app = typer.Typer(
    help="borgerbot: citizens' social-media inquiries, routed, drafted, approved, answered.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
rules_app = typer.Typer(help="The routing rules file.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")


def _settings() -> Settings:
    return load_settings()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending schema migrations to BORGERBOT_DATABASE_URL."""
    settings = _settings()
    engine = make_engine(settings.database_url)
    upgrade(engine)
    typer.echo("database schema is up to date")


_RULES_HELP = "rules file; default: BORGERBOT_RULES_FILE"


def _rules(path: Path | None) -> RuleSet:
    return load_rules(path if path is not None else _settings().rules_file)


@rules_app.command("check")
def rules_check(
    file: Annotated[Path | None, typer.Argument(help="default: BORGERBOT_RULES_FILE")] = None,
) -> None:
    """Validate a rules file (routes, flags, chat, accounts, deadlines); a mistake is reported
    as FILE:LINE: problem, exit status 2."""
    from bot.assembly import load_configuration

    try:
        config = load_configuration(str(file if file is not None else _settings().rules_file))
    except ConfigError as exc:
        typer.echo(exc.render(), err=True)
        raise typer.Exit(2) from None
    rules = config.rules
    typer.echo(f"{rules.file}: ok: {len(rules.routes)} routes, {len(rules.flags)} flags "
               f"({', '.join(flag.id for flag in rules.flags)}), fallback {rules.fallback}, "
               f"{len(config.accounts)} accounts")


@app.command("route")
def route_command(
    text: str,
    post_text: Annotated[str | None, typer.Option("--post-text", help="the post it was written under")] = None,
    platform: Annotated[str | None, typer.Option("--platform")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="comment, reply, message or mention")] = None,
    rules_file: Annotated[Path | None, typer.Option("--rules", help=_RULES_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object")] = False,
) -> None:
    """Show where one inquiry would go, with its flags and reasons."""
    rules = _rules(rules_file)
    decision = routing.route(rules, text, post_text=post_text, platform=platform, kind=kind)
    if as_json:
        typer.echo(json.dumps(decision.as_json(), ensure_ascii=False))
        return
    chosen = rules.route(decision.route)
    typer.echo(f"route: {chosen.id} ({chosen.name}, {chosen.channel})")
    typer.echo(f"urgent: {'yes' if decision.urgent else 'no'}")
    typer.echo(f"no_reply_needed: {'yes' if decision.no_reply_needed else 'no'}")
    for reason in decision.reasons:
        typer.echo(f"  - {reason}")


@app.command("eval")
def eval_command(
    file: Path,
    rules_file: Annotated[Path | None, typer.Option("--rules", help=_RULES_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object")] = False,
) -> None:
    """Score the rules on labelled inquiries (JSON Lines as in routing-dev.jsonl)."""
    rules = _rules(rules_file)
    result = evaluation.evaluate(rules, evaluation.load_examples(file))
    if as_json:
        typer.echo(json.dumps(result.as_json(), ensure_ascii=False))
    else:
        typer.echo(evaluation.format_report(result))


@app.command("demo")
def demo_command(
    inquiries: Annotated[
        Path | None, typer.Option("--inquiries", help="JSON Lines to feed through the pipeline")
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="write the whole path of each inquiry as JSON")
    ] = None,
    rules_file: Annotated[Path | None, typer.Option("--rules", help=_RULES_HELP)] = None,
) -> None:
    """Run the whole product on the local sandboxes and a fake Slack, with an accelerated clock."""
    from bot.demo.run import run_demo

    rules = str(rules_file or _settings().rules_file)
    quiet = inquiries is not None
    if inquiries is not None and not inquiries.is_file():
        raise ConfigError("no such file", file=str(inquiries),
                          hint="give --inquiries a JSON Lines file, one inquiry per line")
    result = run_demo(rules, (lambda _line: None) if quiet else typer.echo, inquiries=inquiries,
                      report=report, skipped=lambda note: typer.echo(note, err=True))
    typer.echo(format_summary(result["summary"]))
    if report is not None:
        typer.echo(f"report written to {report}")


def format_summary(summary: dict[str, object]) -> str:
    lines = ["", "Summary (answers read back from the platform sandboxes, cards from the fake Slack):"]
    for key, value in summary.items():
        if isinstance(value, dict):
            lines.append(f"  {key}:")
            lines.extend(f"    {name}: {count}" for name, count in value.items())
        else:
            lines.append(f"  {key}: {value}")
    return "\n".join(lines)


@app.command("health")
def health_command(
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object")] = False,
) -> None:
    """What an operator must know: whether Slack takes the bot, what waits, which accounts are
    stopped; exit status 1 while something needs a person (for monitoring)."""
    from bot.health import health_report, render
    from bot.store import open_store

    report = health_report(open_store(_settings().database_url))
    typer.echo(json.dumps(report) if as_json else "\n".join(render(report)))
    if not report["healthy"]:
        raise typer.Exit(1)


@app.command("run")
def run_command() -> None:
    """Run the bot: Slack front end, a poll job per account and the deadline sweep."""
    from bot.service import run

    settings = _settings()
    require_slack_secrets(settings)
    _configure_logging(settings)
    run(settings)


def require_slack_secrets(settings: Settings) -> None:
    """Name the missing Slack secret before anything connects: the bot token always, the app
    token in Socket Mode, the signing secret in HTTP mode."""
    needed = {"BORGERBOT_SLACK_BOT_TOKEN": settings.slack_bot_token}
    if settings.slack_mode == "socket":
        needed["BORGERBOT_SLACK_APP_TOKEN"] = settings.slack_app_token
    else:
        needed["BORGERBOT_SLACK_SIGNING_SECRET"] = settings.slack_signing_secret
    missing = [name for name, value in needed.items() if value is None]
    if missing:
        raise ConfigError(f"{' and '.join(missing)} not set",
                          hint=f"set it in the environment or in .env (BORGERBOT_SLACK_MODE is "
                               f"{settings.slack_mode})")


@app.command("poll")
def poll_command() -> None:
    """Poll every configured account once, store what is new and post it to chat (for cron;
    `borgerbot run` is the service that keeps polling)."""
    from bot.service import poll_once

    settings = _settings()
    _configure_logging(settings)
    for platform, account, outcome in poll_once(settings):
        status = outcome.skipped_reason or "ok"
        typer.echo(f"{platform}/{account}: {status}, {outcome.stored} new, {outcome.repeats} already stored")


accounts_app = typer.Typer(help="The social accounts being watched.", no_args_is_help=True)
app.add_typer(accounts_app, name="accounts")


@accounts_app.command("resume")
def accounts_resume(
    platform: Annotated[str, typer.Argument(help="facebook, instagram, linkedin or x")],
    account: Annotated[str, typer.Argument(help="the account id as in the rules file")],
) -> None:
    """Poll an account again after its token was renewed; a stopped account stays stopped
    across restarts until this is run."""
    from bot.service import assemble

    config, workflow, _ = assemble(_settings())
    known = [(a.platform, a.account) for a in config.accounts]
    if (platform, account) not in known:
        raise ConfigError(f"{platform}/{account} is not an account in the rules file",
                          file=config.rules.file,
                          hint="configured: " + (", ".join(f"{p}/{a}" for p, a in known) or "none"))
    workflow.intake.resume_account(platform, account)
    typer.echo(f"{platform}/{account} will be polled again")


@app.command("audit")
def audit_command(inquiry: int) -> None:
    """Show the event log of one inquiry: who did what, when."""
    from bot.audit import audit_lines

    for line in audit_lines(_settings().database_url, inquiry):
        typer.echo(line)


def _configure_logging(settings: Settings) -> None:
    import logging

    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


journal_app = typer.Typer(help="What the municipality must journalise in ESDH.", no_args_is_help=True)
app.add_typer(journal_app, name="journal")
retention_app = typer.Typer(help="Deleting personal data on time (GDPR).", no_args_is_help=True)
app.add_typer(retention_app, name="retention")
_DAY = ["%Y-%m-%d"]


@journal_app.command("export")
def journal_export(
    start: Annotated[datetime, typer.Option("--from", formats=_DAY, help="first day, Danish time")],
    end: Annotated[datetime, typer.Option("--to", formats=_DAY, help="last day, included")],
    out: Annotated[Path, typer.Option("--out", help="directory for the CSV and JSON files")],
    rules_file: Annotated[Path | None, typer.Option("--rules", help=_RULES_HELP)] = None,
) -> None:
    """Write one record per inquiry received in the period (CSV and JSON), drafts left out."""
    from bot.journal import export
    from bot.store import open_store

    if end < start:
        raise ConfigError(f"--from {start.date()} is after --to {end.date()}",
                          hint="give the first day with --from and the last with --to")
    rules = _rules(rules_file)
    store = open_store(_settings().database_url)
    try:
        paths = export(store, start.date(), end.date(), out, rules=rules)
    finally:
        store.engine.dispose()
    for path in paths:
        typer.echo(f"written: {path}")


@journal_app.command("mark")
def journal_mark(
    inquiry: Annotated[int, typer.Argument(help="the inquiry's number (see `borgerbot audit`)")],
    case_number: Annotated[str, typer.Argument(help="the ESDH case number it was filed under")],
    by: Annotated[str, typer.Option("--by", help="who filed it (initials)")] = "it",
) -> None:
    """Record that an inquiry was journalised in ESDH; its retention period starts now."""
    from bot.journal import mark_journalised
    from bot.models import utcnow
    from bot.store import open_store

    store = open_store(_settings().database_url)
    try:
        mark_journalised(store, inquiry, case_number, by, utcnow())
    finally:
        store.engine.dispose()
    typer.echo(f"inquiry {inquiry} journalised under {case_number}")


@retention_app.command("run")
def retention_run(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="only list what would be anonymised")] = False,
) -> None:
    """Anonymise settled inquiries whose retention period has run out; list journal-relevant
    ones still waiting for an ESDH case number."""
    from bot.assembly import load_configuration
    from bot.models import utcnow
    from bot.retention import purge, run
    from bot.store import open_store

    settings = _settings()
    policy = load_configuration(str(settings.rules_file)).retention
    store = open_store(settings.database_url)
    try:
        if dry_run:
            outcome = purge(store, utcnow(), policy, dry_run=True)
        else:
            done = run(store, utcnow(), policy, _slack_for_retention(settings))
            outcome = done.outcome
    finally:
        store.engine.dispose()
    label = "inquiries to anonymise" if dry_run else "inquiries anonymised"
    typer.echo(f"{label}: {_counted(outcome.anonymised)}")
    if outcome.awaiting_journal:
        typer.echo(f"journal-relevant, no ESDH case number after {policy.journal_alert_days} days: "
                   f"{_counted(outcome.awaiting_journal)}")
    if not dry_run:
        typer.echo(_chat_line(done.chat))


def _slack_for_retention(settings: Settings) -> Any:
    """The Slack gateway retention redacts old cards through; None without a bot token."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    if not token:
        return None
    from slack_sdk import WebClient

    from bot.chat.slack import SlackGateway

    return SlackGateway(WebClient(token=token, base_url=settings.slack_api_url))


def _chat_line(chat: Any) -> str:
    """What retention did in Slack, in one line an operator can act on."""
    if chat is None:
        return "chat messages not redacted: no BORGERBOT_SLACK_BOT_TOKEN; they wait for a run with it"
    line = f"chat messages redacted: {chat.redacted}, still to redact: {chat.left}"
    if chat.interrupted:
        line += f" (Slack answered {chat.interrupted}; the next run resumes)"
    elif chat.failing:
        line += f" (Slack refused: {', '.join(sorted(set(chat.failing)))}; see the log)"
    return line


def _counted(ids: tuple[int, ...]) -> str:
    """"3 (4, 5, 9)": how many, then which, so an operator can look each one up with `audit`."""
    return f"{len(ids)} ({', '.join(map(str, ids))})" if ids else "0"


def main() -> None:
    """Run the CLI; expected failures become one clear line and exit status 2, never a traceback."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        app()
    except (BorgerbotError, SettingsError) as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except SQLAlchemyError as exc:
        typer.echo(f"error: {database_problem(exc)}", err=True)
        sys.exit(2)


def database_problem(exc: Exception) -> str:
    """The driver's own first line (it names host and port or the file problem, never the
    password), with where to look."""
    cause = getattr(exc, "orig", None) or exc
    first = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    return (f"cannot use the database: {first} (check BORGERBOT_DATABASE_URL: is the server "
            "running, is the file's folder writable?)")
