"""The build: deterministic, atomic, and blind to the app tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, select

from store import build, db
from store.build import build_store
from store.models import FACT_TABLES, Fact, StoreMeta, Subscription
from store.schema import ensure_schema


def _engine(path: Path) -> Engine:
    engine = db.get_engine(f"sqlite:///{path}")
    ensure_schema(engine)
    return engine


def _snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every fact table, except the build's timestamp."""
    out = {}
    with engine.connect() as conn:
        for table in FACT_TABLES:
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
            if table is StoreMeta.__table__:
                rows = [r for r in rows if r.key != "built_at"]
            out[table.name] = [tuple(r) for r in rows]
    return out


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.name: conn.scalar(select(func.count()).select_from(t)) for t in FACT_TABLES}


def _generation(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return conn.scalar(select(StoreMeta.value).where(StoreMeta.key == "generation"))


def test_report_and_progress(tmp_path: Path) -> None:
    stages: list[tuple[str, int, int]] = []
    report = build_store(_engine(tmp_path / "a.sqlite3"), progress=lambda *a: stages.append(a))
    assert report.documents == 5
    assert report.facts > 150 and report.entities > 400 and report.aliases > 2000
    assert len(report.generation) == 16
    names = [s for s, _, _ in stages]
    assert names.index("reading") < names.index("extracting") < names.index("writing")
    assert ("extracting", 5, 5) in stages


def test_two_builds_are_identical(tmp_path: Path) -> None:
    first, second = _engine(tmp_path / "a.sqlite3"), _engine(tmp_path / "b.sqlite3")
    r1, r2 = build_store(first), build_store(second)
    assert r1.generation == r2.generation
    assert _snapshot(first) == _snapshot(second)
    # Rebuilding in place gives the same rows again.
    build_store(first)
    assert _snapshot(first) == _snapshot(second)


def test_a_failed_write_leaves_the_previous_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = _engine(tmp_path / "a.sqlite3")
    build_store(engine)
    before, generation = _snapshot(engine), _generation(engine)
    real_insert = build.insert

    def failing_insert(table: Any) -> Any:
        # Documents and entities are already in when the facts fail: a half-written store.
        if table is Fact.__table__:
            raise RuntimeError("disk full")
        return real_insert(table)

    monkeypatch.setattr(build, "insert", failing_insert)
    with pytest.raises(RuntimeError, match="disk full"):
        build_store(engine)
    assert _generation(engine) == generation
    assert _snapshot(engine) == before


def test_a_bad_input_fails_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = _engine(tmp_path / "a.sqlite3")
    build_store(engine)
    before = _counts(engine)
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    real = Path(__file__).resolve().parent.parent / "seeds"
    for item in real.iterdir():
        (seeds / item.name).write_bytes(item.read_bytes())
    (seeds / "curation.yml").write_text("entities: [oops", "utf-8")
    monkeypatch.setenv("CHAINBOT_SEEDS", str(seeds))
    with pytest.raises(Exception, match=r"curation\.yml"):
        build_store(engine)
    assert _counts(engine) == before


def test_app_tables_survive_a_rebuild(tmp_path: Path) -> None:
    engine = _engine(tmp_path / "a.sqlite3")
    build_store(engine)
    with engine.begin() as conn:
        conn.execute(
            insert(Subscription.__table__),
            [
                {
                    "team_id": "T1",
                    "channel_id": "C1",
                    "weekday": 0,
                    "hour": 9,
                    "minute": 0,
                    "tz": "UTC",
                    "skip_empty": True,
                    "status": "active",
                    "created_by": "U1",
                }
            ],
        )
    build_store(engine)
    with engine.connect() as conn:
        subs = conn.execute(select(Subscription.team_id, Subscription.channel_id)).all()
    assert [tuple(s) for s in subs] == [("T1", "C1")]


def test_readers_see_the_old_store_until_the_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a rebuild has deleted and half re-inserted the fact tables, another connection
    (WAL snapshot) still counts the old rows."""
    path = tmp_path / "a.sqlite3"
    engine = _engine(path)
    build_store(engine)
    facts_before = _counts(engine)["facts"]
    seen: list[int] = []
    real_insert = build.insert

    def peeking_insert(table: Any) -> Any:
        if table is Fact.__table__:
            import sqlite3

            with sqlite3.connect(path) as other:
                seen.append(other.execute("SELECT count(*) FROM facts").fetchone()[0])
                seen.append(other.execute("SELECT count(*) FROM entities").fetchone()[0])
        return real_insert(table)

    monkeypatch.setattr(build, "insert", peeking_insert)
    build_store(engine)
    assert seen[0] == facts_before and seen[1] > 400
