"""Adding articles to the store: validate every file, then record the new ones and rebuild the
fact tables in one transaction, so a failure anywhere leaves the store exactly as it was.

An article's inputs live in the app table ``ingested_documents`` (which rebuilds read and never
clear); a file ingested before (same SHA-256) is skipped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, insert, select

from store.build import BuildReport, build_in, checkpoint
from store.extract.source import parse_article, read_article_file
from store.models import IngestedDocument
from store.progress import ProgressFn, no_progress
from store.schema import ensure_schema


@dataclass(frozen=True)
class IngestReport:
    added: tuple[str, ...]  # file names
    skipped: tuple[str, ...]  # already ingested
    build: BuildReport | None  # None when nothing was new


def ingest_files(
    engine: Engine,
    paths: Sequence[Path],
    progress: ProgressFn = no_progress,
    *,
    now: dt.datetime | None = None,
) -> IngestReport:
    """Ingest ``paths``; ``StoreError`` (one line, naming the file) for the first bad one,
    before anything is written."""
    parsed = []
    for n, path in enumerate(paths, 1):
        progress("validating", n, len(paths))
        raw = read_article_file(path)
        parsed.append((raw, parse_article(raw, path.name)))
    ensure_schema(engine)
    ingested_at = now or dt.datetime.now(dt.UTC)
    added: list[str] = []
    skipped: list[str] = []
    with engine.begin() as conn:
        known = set(conn.scalars(select(IngestedDocument.sha256)))
        rows = []
        for raw, doc in parsed:
            if doc.sha256 in known:
                skipped.append(doc.filename)
                continue
            known.add(doc.sha256)
            added.append(doc.filename)
            rows.append(
                {
                    "filename": doc.filename,
                    "sha256": doc.sha256,
                    "raw": raw.decode("utf-8"),
                    "ingested_at": ingested_at,
                }
            )
        if not rows:
            return IngestReport(added=(), skipped=tuple(skipped), build=None)
        conn.execute(insert(IngestedDocument.__table__), rows)
        report = build_in(conn, progress)
    checkpoint(engine)
    return IngestReport(added=tuple(added), skipped=tuple(skipped), build=report)
