"""The fact store on PostgreSQL: the same answers as on SQLite, and a rebuild that readers
never see half done (on both backends), that keeps the app tables, and that may overlap with
another rebuild."""

from __future__ import annotations

import threading

from sqlalchemy import Engine, select, text

from store import Store, db
from store.build import build_in
from store.models import Subscription

QUERIES = ("qingdao", "qingdoa", "tsingtao", "青岛", "qinghai", "xiongan", "bubi", "state grid")

SNAPSHOT = text(
    "SELECT (SELECT count(*) FROM documents), (SELECT count(*) FROM entities), "
    "(SELECT count(*) FROM aliases), (SELECT count(*) FROM facts), "
    "(SELECT count(*) FROM mentions), (SELECT value FROM store_meta WHERE key = 'generation')"
)


def _snapshot(engine: Engine) -> tuple[object, ...]:
    """Counts of the fact tables and the generation, read in one statement (one snapshot)."""
    with engine.connect() as conn:
        return tuple(conn.execute(SNAPSHOT).one())


def test_postgres_store_answers_like_sqlite(seed_db_url: str, postgres_seed_url: str) -> None:
    on_sqlite = Store.open(seed_db_url, build_if_empty=False)
    on_postgres = Store.open(postgres_seed_url, build_if_empty=False)
    assert on_postgres.generation() == on_sqlite.generation()
    sqlite_stats, postgres_stats = on_sqlite.stats(), on_postgres.stats()
    assert postgres_stats.facts == sqlite_stats.facts > 0
    assert postgres_stats.entities_by_kind == sqlite_stats.entities_by_kind
    assert postgres_stats.aliases == sqlite_stats.aliases
    for query in QUERIES:
        assert on_postgres.resolve(query) == on_sqlite.resolve(query), query
    assert on_postgres.answer("qingdao") == on_sqlite.answer("qingdao")
    text_ = "Bubi and Qingdao signed with State Grid in Xiong'an"
    assert on_postgres.mentions(text_) == on_sqlite.mentions(text_)
    assert on_postgres.list_entities("company", limit=50) == on_sqlite.list_entities(
        "company", limit=50
    )


def test_readers_never_see_a_half_built_store(seed_database_url: str) -> None:
    engine = db.get_engine(seed_database_url)
    store = Store(engine)
    expected = _snapshot(engine)
    assert expected[0] == 5 and expected[5]

    reads = threading.Semaphore(0)
    problems: list[str] = []
    stop = threading.Event()

    def read_loop() -> None:
        while not stop.is_set():
            try:
                seen = _snapshot(engine)
                if seen != expected:
                    problems.append(f"saw {seen}, expected {expected}")
                if store.resolve("qingdao").status != "found":
                    problems.append("qingdao not found")
            except Exception as exc:  # a reader must never fail either
                problems.append(repr(exc))
            reads.release()

    paused_at: list[int] = []

    def pause_mid_write(stage: str, done: int, total: int) -> None:
        # Halfway through the inserts (old rows deleted, some new ones written, nothing
        # committed), let the reader read several times before going on.
        if stage == "writing" and done == total // 2 and not paused_at:
            paused_at.append(done)
            for _ in range(5):
                assert reads.acquire(timeout=20), "the reader is stuck"

    reader = threading.Thread(target=read_loop, daemon=True)
    reader.start()
    try:
        with engine.begin() as conn:
            build_in(conn, pause_mid_write)
            for _ in range(5):  # all written, not yet committed
                assert reads.acquire(timeout=20), "the reader is stuck"
        for _ in range(5):  # committed
            assert reads.acquire(timeout=20)
    finally:
        stop.set()
        reader.join(timeout=30)
    assert paused_at, "the build never reported its writing stage"
    assert problems == []
    assert _snapshot(engine) == expected  # deterministic: the same store again


def test_a_rebuild_keeps_the_app_tables(seed_database_url: str) -> None:
    engine = db.get_engine(seed_database_url)
    with db.session_scope(engine) as session:
        session.add(
            Subscription(
                team_id="T1",
                channel_id="C1",
                weekday=0,
                hour=9,
                minute=0,
                tz="UTC",
                created_by="U1",
            )
        )
    Store(engine).build()
    with db.session_scope(engine) as session:
        assert session.scalars(select(Subscription.channel_id)).all() == ["C1"]


def test_overlapping_rebuilds_both_finish(seed_database_url: str) -> None:
    """A second rebuild started while the first holds its transaction open waits for it,
    then replaces its rows (on PostgreSQL the cascading deletes see the first one's rows)."""
    engine = db.get_engine(seed_database_url)
    expected = _snapshot(engine)
    errors: list[str] = []

    def second() -> None:
        try:
            Store(engine).build()
        except Exception as exc:
            errors.append(repr(exc))

    thread = threading.Thread(target=second)
    with engine.begin() as conn:
        build_in(conn)
        thread.start()
        thread.join(timeout=1.0)  # it must be waiting for us, not done
        assert thread.is_alive()
    thread.join(timeout=60)
    assert errors == []
    assert _snapshot(engine) == expected
