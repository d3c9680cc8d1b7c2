"""``chainbot ingest``: good files join the store, bad ones change nothing."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select

from bot.cli import main
from store import Store, build, db
from store.models import FACT_TABLES, Document, Fact, IngestedDocument, StoreMeta

ARTICLE = """---
title: Laoshan opens a blockchain testing lab
source: Example Daily
date: 2020-05-12
---
On May 10, Bubi and the CCID (Qingdao) Blockchain Research Institute opened \
the Laoshan Blockchain Testing Lab in Laoshan District.

The lab will serve more than 30 blockchain companies in Qingdao.
"""
SECOND = """Title: Chengdu sets up a chain registry
Source: Example Times
Date: 2020-06-02

On June 1, the Chengdu Blockchain Registry Center was unveiled in Chengdu.
"""


@pytest.fixture
def engine(seed_db_url: str, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setenv("DATABASE_URL", seed_db_url)
    return db.get_engine(seed_db_url)


def _state(engine: Engine) -> tuple[str | None, dict[str, int], int]:
    with engine.connect() as conn:
        generation = conn.scalar(select(StoreMeta.value).where(StoreMeta.key == "generation"))
        counts = {t.name: conn.scalar(select(func.count()).select_from(t)) for t in FACT_TABLES}
        ingested = conn.scalar(select(func.count()).select_from(IngestedDocument))
    return generation, counts, ingested


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, "utf-8")
    else:
        path.write_bytes(content)
    return path


def _run(*args: Any) -> Any:
    return CliRunner().invoke(main, ["ingest", *map(str, args)])


def test_ingest_adds_entities_and_facts(engine: Engine, tmp_path: Path) -> None:
    before = _state(engine)
    result = _run(_write(tmp_path, "lab.md", ARTICLE), _write(tmp_path, "chengdu.txt", SECOND))
    assert result.exit_code == 0, result.output
    assert "Ingested 2 article(s)" in result.output
    generation, counts, ingested = _state(engine)
    assert ingested == 2 and generation != before[0]
    assert counts["documents"] == before[1]["documents"] + 2

    store = Store.open(build_if_empty=False)
    found = store.resolve("Laoshan Blockchain Testing Lab")
    assert found.status == "found" and found.entity is not None
    profile = store.profile(found.entity.slug)
    (fact,) = profile.facts
    assert fact.quote.startswith("On May 10, Bubi")
    assert fact.date is not None and fact.date.value.isoformat() == "2020-05-10"
    # Known entities pick up the new article too.
    bubi = store.profile("company:bubi")
    assert any(f.source.document.startswith("ingested-") for f in bubi.facts)

    with engine.connect() as conn:
        docs = conn.execute(
            select(Document.origin, Document.ingested_at, Document.text).where(
                Document.origin == "ingested"
            )
        ).all()
        ingested_at = conn.scalars(select(IngestedDocument.ingested_at)).all()
        quotes = conn.execute(
            select(Fact.quote, Fact.start, Fact.end, Document.text).join(Document)
        ).all()
    assert len(docs) == 2 and all(d.ingested_at is not None for d in docs)
    assert {d.ingested_at.replace(tzinfo=None) for d in docs} == {
        t.replace(tzinfo=None) for t in ingested_at
    }
    assert all(text[start:end] == quote for quote, start, end, text in quotes)


def test_the_same_file_twice_is_skipped(engine: Engine, tmp_path: Path) -> None:
    path = _write(tmp_path, "lab.md", ARTICLE)
    assert _run(path).exit_code == 0
    after_first = _state(engine)
    result = _run(path)
    assert result.exit_code == 0
    assert "already ingested" in result.output and "Nothing new" in result.output
    assert _state(engine) == after_first


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"Title: x\n\nNo date here, only a body of words.", "no date"),
        (b"Date: 2020-01-01\n\n\xff\xfe\xfa not text", "not UTF-8"),
        (
            ARTICLE.replace("source: Example Daily", "source: " + "S" * 201).encode(),
            "the source is too long",
        ),
    ],
)
def test_a_bad_file_changes_nothing(
    engine: Engine, tmp_path: Path, content: bytes, message: str
) -> None:
    before = _state(engine)
    good = _write(tmp_path, "lab.md", ARTICLE)
    bad = _write(tmp_path, "bad.txt", content)
    result = _run(good, bad)
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
    assert _state(engine) == before


def test_fifty_megabytes_of_noise_fail_fast(engine: Engine, tmp_path: Path) -> None:
    before = _state(engine)
    noise = tmp_path / "noise.txt"
    with noise.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    result = _run(noise)
    assert result.exit_code == 1 and "too large" in result.output
    assert _state(engine) == before


def test_a_missing_file_is_one_line(engine: Engine, tmp_path: Path) -> None:
    result = _run(tmp_path / "nope.md")
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1].startswith("chainbot: ")


def test_a_failure_during_the_rebuild_rolls_the_ingest_back(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _state(engine)
    real_insert = build.insert

    def failing_insert(table: Any) -> Any:
        if table is Fact.__table__:
            raise RuntimeError("disk full")
        return real_insert(table)

    monkeypatch.setattr(build, "insert", failing_insert)
    result = _run(_write(tmp_path, "lab.md", ARTICLE))
    assert result.exit_code != 0
    assert _state(engine) == before


def test_progress_is_shown_for_many_files(engine: Engine, tmp_path: Path) -> None:
    files = []
    for n in range(12):
        body = f"Date: 2020-07-{n + 1:02d}\n\nOn July {n + 1}, Bubi opened office number {n}.\n"
        files.append(_write(tmp_path, f"a{n}.txt", body))
    result = _run(*files)
    assert result.exit_code == 0, result.output
    assert "validating" in result.output and "writing" in result.output
    assert _state(engine)[2] == 12


def test_ingested_articles_survive_a_rebuild(engine: Engine, tmp_path: Path) -> None:
    assert _run(_write(tmp_path, "lab.md", ARTICLE)).exit_code == 0
    generation, counts, _ = _state(engine)
    report = build.build_store(engine)
    assert report.generation == generation
    assert _state(engine)[1] == counts
    assert os.environ["DATABASE_URL"].startswith("sqlite:///")


@pytest.mark.parametrize("args", [[], ["--bogus"]])
def test_usage_errors_are_one_line(args: list[str]) -> None:
    result = CliRunner().invoke(main, ["ingest", *args])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
