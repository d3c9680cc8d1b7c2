"""SQLite (the baseline) beside PostgreSQL for what scale-out changes: schema creation and
migrations, the fact-store build and rebuild, lookups through the Store API, and the delivery
claim. Both databases are fresh and measured in the same run.

    eval "$(scripts/ci_postgres.sh start)"        # a throwaway server, if you have none
    python -m bench.backends                       # PostgreSQL at CHAINBOT_TEST_POSTGRES_URL
    python -m bench.backends --database-url postgresql+psycopg://user:pw@host/db

The PostgreSQL URL must name a server where the user may CREATE DATABASE: the benchmark
works in a new database it drops afterwards.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, make_url
from sqlalchemy.pool import NullPool

from store import Store, db, schema, subscriptions
from store.models import Subscription

QUERIES = ["qingdao", "tsingtao", "青岛", "qingdoa", "xiongan", "bubi", "state grid", "pizza"]
LOOKUP_ROUNDS = 30
CLAIMS = 300


def _timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(url: str) -> dict[str, float]:
    engine = db.get_engine(url)
    rows: dict[str, float] = {}
    with engine.begin() as conn:
        rows["alembic upgrade base→head, ms"] = _timed(
            lambda: command.upgrade(schema.alembic_config(conn), "head")
        )
    with engine.begin() as conn:
        command.downgrade(schema.alembic_config(conn), "base")
        conn.exec_driver_sql(f"DROP TABLE {schema.VERSION_TABLE}")
    rows["ensure_schema on empty db, ms"] = _timed(lambda: schema.ensure_schema(engine))
    rows["ensure_schema when current, ms"] = statistics.median(
        _timed(lambda: schema.ensure_schema(engine)) for _ in range(20)
    )
    store = Store(engine)
    rows["first build, ms"] = _timed(store.build)
    rows["rebuild, ms"] = statistics.median(_timed(store.build) for _ in range(3))

    latencies = [_timed(lambda q=q: store.answer(q)) for _ in range(LOOKUP_ROUNDS) for q in QUERIES]
    rows["answer() median, ms"] = statistics.median(latencies)
    rows["answer() p99, ms"] = _percentile(latencies, 0.99)
    rows["stats() median, ms"] = statistics.median(_timed(store.stats) for _ in range(20))

    with db.session_scope(engine) as session:
        session.add_all(
            Subscription(
                team_id="T1",
                channel_id=f"C{i:05d}",
                weekday=0,
                hour=9,
                minute=0,
                tz="UTC",
                created_by="U1",
            )
            for i in range(CLAIMS)
        )
    views = subscriptions.list_active(engine)
    now = dt.datetime(2026, 11, 23, 9, tzinfo=dt.UTC)

    def claim_all() -> None:
        for view in views:
            subscriptions.claim_delivery(
                engine,
                view,
                dt.date(2026, 11, 16),
                scheduled_for=now,
                late=False,
                claimed_by="bench",
                now=now,
            )

    rows["delivery claims per second (won)"] = CLAIMS / (_timed(claim_all) / 1000)
    rows["delivery claims per second (lost)"] = CLAIMS / (_timed(claim_all) / 1000)
    engine.dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("CHAINBOT_TEST_POSTGRES_URL"),
        help="a PostgreSQL server URL (default: CHAINBOT_TEST_POSTGRES_URL)",
    )
    args = parser.parse_args()
    if not args.database_url:
        parser.error("no PostgreSQL: pass --database-url or set CHAINBOT_TEST_POSTGRES_URL")

    server = make_url(args.database_url)
    name = f"chainbot_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    pg_url = server.set(database=name).render_as_string(hide_password=False)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            sqlite = measure(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        postgres = measure(pg_url)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    print(f"| measure | SQLite (baseline) | PostgreSQL {server.host}:{server.port} | ratio |")
    print("|---|---:|---:|---:|")
    for key, base in sqlite.items():
        other = postgres[key]
        print(f"| {key} | {base:.1f} | {other:.1f} | {other / base:.2f}x |")


if __name__ == "__main__":
    main()
