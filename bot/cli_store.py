"""``chainbot chain``, ``chainbot build``, ``chainbot stats``: the fact store from the shell.

``chain`` prints exactly the answer ``/chain`` gives in Slack, rendered as text from the same
answer object. Errors a person can act on are one line and a non-zero exit code.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sys
import time
from collections.abc import Iterator
from typing import IO, Any

import click
from sqlalchemy.exc import SQLAlchemyError

from bot.cli import main
from bot.render import text as render_text
from store import profile as store_profile
from store.api import Stats, Store
from store.errors import StoreError


class _OneLineUsageError(click.UsageError):
    """A bad flag or argument, said in one line (click's default takes three)."""

    def show(self, file: IO[Any] | None = None) -> None:
        name = self.ctx.command_path if self.ctx else "chainbot"
        click.echo(f"{name}: {self.format_message()} (see {name} --help)", err=True)


class _Command(click.Command):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            if isinstance(exc, _OneLineUsageError):
                raise
            raise _OneLineUsageError(exc.format_message(), ctx) from None


@contextlib.contextmanager
def _database_errors() -> Iterator[None]:
    """A database that cannot be read (a corrupt file, a dropped server) is one line."""
    try:
        yield
    except SQLAlchemyError as exc:
        orig = getattr(exc, "orig", None)
        reason = str(orig or exc).splitlines()[0] if str(orig or exc) else type(exc).__name__
        raise StoreError(f"cannot read the database: {reason}") from None


class _Progress:
    """Draws ``progress(stage, done, total)`` on stderr: one rewritten line on a terminal,
    a line per stage otherwise (logs stay short)."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.stage: str | None = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        count = f" {done}/{total}" if total else ""
        if self.tty:
            click.echo(f"\r\033[K  {stage}{count}", err=True, nl=False)
        elif stage != self.stage:
            click.echo(f"  {stage}", err=True)
        self.stage = stage

    def finish(self) -> None:
        if self.tty and self.stage is not None:
            click.echo("", err=True)


def _open_store() -> Store:
    """Open the store, building it from the seeds on first use (progress on stderr)."""
    store = Store.open(build_if_empty=False)
    if store.generation() is None:
        click.echo("Building the fact store from the seed articles (first use)…", err=True)
        _build(store)
    return store


def _build(store: Store) -> float:
    progress = _Progress()
    started = time.perf_counter()
    try:
        store.build(progress=progress)
    finally:
        progress.finish()
    return time.perf_counter() - started


@main.command(cls=_Command)
@click.argument("query", nargs=-1)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: the rendered answer; json: the answer as data, with the text.",
)
def chain(query: tuple[str, ...], fmt: str) -> None:
    """Answer QUERY (a city, province, policy, project or company) from the fact store."""
    with _database_errors():
        store = _open_store()
        answer = store.answer(" ".join(query))
        examples = store_profile.featured(store.engine) if answer.status == "usage" else []
    rendered = render_text.answer_text(answer, examples=examples)
    if fmt == "json":
        click.echo(json.dumps(answer.to_json(rendered), ensure_ascii=False, indent=2))
    else:
        click.echo(rendered)


@main.command(cls=_Command)
def build() -> None:
    """Rebuild the fact store from the seed articles (and any ingested ones)."""
    with _database_errors():
        store = Store.open(build_if_empty=False)
        seconds = _build(store)
        st = store.stats()
    entities = sum(st.entities_by_kind.values())
    click.echo(
        f"Built the fact store in {seconds:.2f} s: {st.documents} documents, {st.facts} facts, "
        f"{entities} entities with facts, {st.aliases} aliases."
    )


def stats_table(st: Stats) -> str:
    rows: list[tuple[str, str]] = [
        ("documents", str(st.documents)),
        ("facts", str(st.facts)),
        ("aliases", str(st.aliases)),
        ("places in the gazetteer", str(st.places_in_gazetteer)),
    ]
    rows += [(f"{kind} (with facts)", str(n)) for kind, n in sorted(st.entities_by_kind.items())]
    rows.append(("generation", st.generation or "not built"))
    rows.append(("built at", st.built_at or "-"))
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label.ljust(width)}  {value}" for label, value in rows)


@main.command(cls=_Command)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def stats(fmt: str) -> None:
    """Counts: documents, facts, aliases, entities with facts by kind."""
    with _database_errors():
        store = _open_store()
        st = store.stats()
    if fmt == "json":
        click.echo(json.dumps(dataclasses.asdict(st), ensure_ascii=False, indent=2))
    else:
        click.echo(stats_table(st))
