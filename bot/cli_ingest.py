"""``chainbot ingest FILE...``: add articles to the fact store.

Every file is read and validated first (UTF-8, at most 2 MB, a dated header, a body). Then
one transaction records the new articles in ``ingested_documents`` and rebuilds the fact
tables from the seeds plus every ingested article, so a failure anywhere leaves the store
exactly as it was. A file ingested before (same SHA-256) is reported and skipped.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from sqlalchemy import insert, select

from bot.cli import StderrProgress, main
from store import db
from store.build import build_in, checkpoint
from store.extract.source import SourceDocument, parse_article, read_article_file
from store.models import IngestedDocument
from store.schema import ensure_schema


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def ingest(files: tuple[Path, ...]) -> None:
    """Add articles (plain text or Markdown with a Title/Source/Date header) to the store."""
    progress = StderrProgress()
    parsed: list[tuple[bytes, SourceDocument]] = []
    try:
        for n, path in enumerate(files, 1):
            progress("validating", n, len(files))
            raw = read_article_file(path)
            parsed.append((raw, parse_article(raw, path.name)))
        engine = db.get_engine()
        ensure_schema(engine)
        now = dt.datetime.now(dt.UTC)
        with engine.begin() as conn:
            known = set(conn.scalars(select(IngestedDocument.sha256)))
            rows = []
            for raw, doc in parsed:
                if doc.sha256 in known:
                    click.echo(f"skipped {doc.filename}: already ingested", err=True)
                    continue
                known.add(doc.sha256)
                rows.append(
                    {
                        "filename": doc.filename,
                        "sha256": doc.sha256,
                        "raw": raw.decode("utf-8"),
                        "ingested_at": now,
                    }
                )
            if not rows:
                progress.finish()
                click.echo("Nothing new to ingest.")
                return
            conn.execute(insert(IngestedDocument.__table__), rows)
            report = build_in(conn, progress)
        checkpoint(engine)
    finally:
        progress.finish()
    click.echo(
        f"Ingested {len(rows)} article(s). Store generation {report.generation}: "
        f"{report.documents} documents, {report.entities} entities, {report.facts} facts "
        f"({report.seconds:.2f} s)."
    )
