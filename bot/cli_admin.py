"""``chainbot migrate``: bring the database to the current schema, explicitly."""

from __future__ import annotations

import click

from bot.cli import main
from store import db
from store.schema import ensure_schema


@main.command()
def migrate() -> None:
    """Upgrade the schema of the DATABASE_URL database to the newest revision.

    Start-up does this too. Keeps every subscription, delivery, installation and ingested
    article; safe while other processes use the database, and from several at once."""
    click.echo(f"chainbot: {ensure_schema(db.get_engine()).summary()}")
