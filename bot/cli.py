"""The `borgerbot` command: the composition root, and the only place that exits the process."""

from __future__ import annotations

import sys

import typer

from bot.errors import BorgerbotError
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


def _settings() -> Settings:
    return load_settings()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending schema migrations to BORGERBOT_DATABASE_URL."""
    settings = _settings()
    engine = make_engine(settings.database_url)
    upgrade(engine)
    typer.echo("database schema is up to date")


def main() -> None:
    """Run the CLI; expected failures become one clear line and exit status 2, never a traceback."""
    try:
        app()
    except (BorgerbotError, SettingsError) as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
