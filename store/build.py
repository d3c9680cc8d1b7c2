"""Building the fact store: seeds (and ingested articles) in, fact tables out.

How a rebuild stays atomic. The fact tables share one database with the app tables
(subscriptions, delivery history, ingested articles, ...), so "build a new file and swap it
in" would throw those away, or need them copied across while the bot keeps writing them.
Instead the swap happens inside the database:

1. Everything is extracted in memory first: every document read, parsed and validated and
   every row made before anything is written. A bad input fails here and changes nothing.
2. Then ONE transaction deletes every row of ``store.models.FACT_TABLES`` (children first),
   bulk-inserts the new rows (Core ``insert`` with executemany) and writes ``store_meta``
   (generation, built_at, seeds_hash).

Readers see the old store or the new one, never half: SQLite in WAL mode gives each reader
the last committed snapshot, PostgreSQL's MVCC does the same. A failure mid-write rolls the
whole transaction back. App tables are never touched.

The build is deterministic: the same inputs give the same rows and the same ``generation``,
a hash of every input and ``EXTRACTOR_VERSION``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from dataclasses import dataclass
from importlib import resources

from sqlalchemy import Connection, Engine, delete, insert, select

from store import config
from store.errors import StoreError
from store.extract.curation import load_curation
from store.extract.pipeline import EXTRACTOR_VERSION, Extraction, extract
from store.extract.source import SourceDocument, load_seed_documents, parse_article
from store.gazetteer import load_places
from store.models import (
    FACT_TABLES,
    Alias,
    Document,
    Entity,
    Fact,
    IngestedDocument,
    Link,
    Mention,
    Passage,
    StoreMeta,
)
from store.progress import ProgressFn, no_progress
from store.schema import ensure_schema


@dataclass(frozen=True)
class BuildReport:
    generation: str
    documents: int
    entities: int
    facts: int
    aliases: int
    seconds: float


@dataclass(frozen=True)
class _Inputs:
    documents: list[SourceDocument]
    seeds_hash: str
    generation: str


def _read_inputs(conn: Connection, progress: ProgressFn) -> tuple[_Inputs, Extraction]:
    seeds = config.seeds_dir()
    try:
        docs = load_seed_documents(seeds)
        curation_bytes = (seeds / "curation.yml").read_bytes()
        curation = load_curation(seeds / "curation.yml")
    except OSError as exc:
        raise StoreError(f"cannot read the seeds: {exc}") from None
    seed_hash = hashlib.sha256()
    seed_hash.update((seeds / "metadata.yml").read_bytes())
    seed_hash.update(curation_bytes)
    for doc in docs:
        seed_hash.update(doc.sha256.encode())
    ingested = conn.execute(
        select(
            IngestedDocument.filename, IngestedDocument.raw, IngestedDocument.ingested_at
        ).order_by(IngestedDocument.id)
    ).all()
    generation = hashlib.sha256()
    generation.update(EXTRACTOR_VERSION.encode())
    # The extractor's own code is an input too: changed rules make a new generation.
    extract_pkg = resources.files("store.extract")
    for name in sorted(p.name for p in extract_pkg.iterdir() if p.name.endswith(".py")):
        generation.update(extract_pkg.joinpath(name).read_bytes())
    generation.update(seed_hash.hexdigest().encode())
    generation.update(resources.files("store").joinpath("data/gazetteer.json").read_bytes())
    for filename, raw, ingested_at in ingested:
        doc = parse_article(raw.encode("utf-8"), filename, ingested_at=_aware(ingested_at))
        generation.update(doc.sha256.encode())
        docs.append(doc)
    inputs = _Inputs(docs, seed_hash.hexdigest(), generation.hexdigest()[:16])
    return inputs, extract(docs, curation, load_places(), progress)


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    # SQLite hands back naive datetimes; they were written in UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def _write(conn: Connection, inputs: _Inputs, rows: Extraction, progress: ProgressFn) -> None:
    for table in FACT_TABLES:
        conn.execute(delete(table))
    batches = (
        (Document, rows.documents),
        (Entity, rows.entities),
        (Alias, rows.aliases),
        (Passage, rows.passages),
        (Fact, rows.facts),
        (Mention, rows.mentions),
        (Link, rows.links),
    )
    for n, (model, batch) in enumerate(batches, 1):
        progress("writing", n, len(batches) + 1)
        if batch:
            conn.execute(insert(model.__table__), batch)
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    conn.execute(
        insert(StoreMeta.__table__),
        [
            {"key": "generation", "value": inputs.generation},
            {"key": "built_at", "value": now},
            {"key": "seeds_hash", "value": inputs.seeds_hash},
            {"key": "extractor_version", "value": EXTRACTOR_VERSION},
        ],
    )
    progress("writing", len(batches) + 1, len(batches) + 1)


def build_in(conn: Connection, progress: ProgressFn = no_progress) -> BuildReport:
    """Rebuild the fact tables inside the caller's transaction (``chainbot ingest`` adds its
    articles and rebuilds in one)."""
    started = time.perf_counter()
    progress("reading", 0, 0)
    inputs, rows = _read_inputs(conn, progress)
    _write(conn, inputs, rows, progress)
    return BuildReport(
        generation=inputs.generation,
        documents=len(rows.documents),
        entities=len(rows.entities),
        facts=len(rows.facts),
        aliases=len(rows.aliases),
        seconds=round(time.perf_counter() - started, 3),
    )


def build_store(engine: Engine, progress: ProgressFn = no_progress) -> BuildReport:
    """Rebuild the fact store from the seeds and every ingested article, atomically."""
    ensure_schema(engine)
    with engine.begin() as conn:
        report = build_in(conn, progress)
    checkpoint(engine)
    return report


def checkpoint(engine: Engine) -> None:
    """On SQLite, fold the write-ahead log into the database file after a rebuild, so the
    log does not keep a whole store's worth of pages and a plain copy of the file is
    complete. PASSIVE never waits for readers."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
