"""``chainbot ingest FILE...``: add articles to the fact store (``store.ingest``)."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli import StderrProgress, main
from store import Store


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def ingest(files: tuple[Path, ...]) -> None:
    """Add articles (plain text or Markdown with a Title/Source/Date header) to the store.

    Every file is validated first (UTF-8, at most 2 MB, a dated header, a body); then one
    transaction records the new ones and rebuilds, so a bad file changes nothing."""
    progress = StderrProgress()
    try:
        result = Store.open(build_if_empty=False).ingest(files, progress=progress)
    finally:
        progress.finish()
    for name in result.skipped:
        click.echo(f"skipped {name}: already ingested", err=True)
    report = result.build
    if report is None:
        click.echo("Nothing new to ingest.")
        return
    click.echo(
        f"Ingested {len(result.added)} article(s). Store generation {report.generation}: "
        f"{report.documents} documents, {report.entities} entities, {report.facts} facts "
        f"({report.seconds:.2f} s)."
    )
