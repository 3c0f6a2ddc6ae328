"""The `borgerbot` command: the composition root, and the only place that exits the process."""

from __future__ import annotations

import json
import sys
from pathlib import Path

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


def _rules(path: Path | None) -> RuleSet:
    return load_rules(path if path is not None else _settings().rules_file)


@rules_app.command("check")
def rules_check(file: Path | None = typer.Argument(None, help="default: BORGERBOT_RULES_FILE")) -> None:
    """Validate a rules file; a mistake is reported as FILE:LINE: problem, exit status 2."""
    try:
        rules = _rules(file)
    except ConfigError as exc:
        typer.echo(exc.render(), err=True)
        raise typer.Exit(2) from None
    typer.echo(f"{rules.file}: ok: {len(rules.routes)} routes, {len(rules.flags)} flags "
               f"({', '.join(flag.id for flag in rules.flags)}), fallback {rules.fallback}, "
               f"{len(rules.sections)} other sections")


@app.command("route")
def route_command(
    text: str,
    post_text: str | None = typer.Option(None, "--post-text", help="the post it was written under"),
    platform: str | None = typer.Option(None, "--platform"),
    kind: str | None = typer.Option(None, "--kind", help="comment, reply, message or mention"),
    rules_file: Path | None = typer.Option(None, "--rules", help="default: BORGERBOT_RULES_FILE"),
    as_json: bool = typer.Option(False, "--json", help="one JSON object"),
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
    rules_file: Path | None = typer.Option(None, "--rules", help="default: BORGERBOT_RULES_FILE"),
    as_json: bool = typer.Option(False, "--json", help="one JSON object"),
) -> None:
    """Score the rules on labelled inquiries (JSON Lines as in routing-dev.jsonl)."""
    rules = _rules(rules_file)
    result = evaluation.evaluate(rules, evaluation.load_examples(file))
    if as_json:
        typer.echo(json.dumps(result.as_json(), ensure_ascii=False))
    else:
        typer.echo(evaluation.format_report(result))


def main() -> None:
    """Run the CLI; expected failures become one clear line and exit status 2, never a traceback."""
    try:
        app()
    except (BorgerbotError, SettingsError) as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
