"""``chainbot digest``: the weekly digest for one week, as text, JSON or Slack messages.

It is the digest a subscribed channel would get for that week (``store.digest`` composes,
``bot.render.digest`` renders), minus the "new since the last digest" part, which belongs to a
channel. A date that is not a Monday is snapped to the Monday of its week, with a note on
stderr (stdout stays clean for ``--format json``). A malformed date: one line, exit code 2.
"""

from __future__ import annotations

import datetime as dt
import json
import sys

import click

from bot.cli import main
from bot.render.digest import digest_json, digest_messages, digest_text
from store import Store
from store.digest import compose_digest, parse_week, week_of


def _progress(stage: str, done: int, total: int) -> None:
    click.echo(f"building the store: {stage} {done}/{total}", err=True)


@main.command()
@click.option(
    "--week",
    "week_text",
    metavar="YYYY-MM-DD",
    help="A day of the week to show (snapped to its Monday); default: the current week.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "blocks"]),
    default="text",
    show_default=True,
    help="blocks: the Slack messages as JSON (first the post, then its thread replies).",
)
@click.option(
    "--archive",
    is_flag=True,
    help='When the week has nothing, show the "From the archive" edition.',
)
def digest(week_text: str | None, fmt: str, archive: bool) -> None:
    """The weekly digest for the week starting on a Monday."""
    if week_text is None:
        week = week_of(dt.date.today())
    else:
        try:
            week, note = parse_week(week_text)
        except ValueError as exc:
            click.echo(f"chainbot: --week: {exc}", err=True)
            sys.exit(2)
        if note:
            click.echo(f"chainbot: {note}", err=True)
    store = Store.open(progress=_progress)
    composed = compose_digest(store.engine, week, archive_if_empty=archive)
    if fmt == "json":
        click.echo(json.dumps(digest_json(composed), ensure_ascii=False, indent=2))
    elif fmt == "blocks":
        payloads = [m.payload() for m in digest_messages(composed)]
        click.echo(json.dumps(payloads, ensure_ascii=False, indent=2))
    else:
        click.echo(digest_text(composed), nl=False)
