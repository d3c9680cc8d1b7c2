"""Engines and sessions. SQLite is treated as a real database: WAL, foreign keys, a busy
timeout, so that a reader never waits for a rebuild and a rebuild never half-shows."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from store import config
from store.errors import ConfigError, StoreError

# How long a process waits for another to finish switching a new SQLite file to WAL.
WAL_SWITCH_SECONDS = 10.0


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _prepare_sqlite_path(url_text: str) -> None:
    url = make_url(url_text)
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database).expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"cannot create the database folder {path.parent}: {exc.strerror}"
        ) from None
    if path.exists() and not path.is_file():
        raise StoreError(f"the database path {path} is not a file")


def get_engine(url: str | None = None) -> Engine:
    """One engine per URL for the life of the process (default: ``DATABASE_URL``, read on
    every call, so that a changed environment never gets a stale engine)."""
    return _engine_for(url or config.database_url())


@functools.cache
def _engine_for(url: str) -> Engine:
    engine = _create_engine(url)
    _ENGINES.append(engine)
    return engine


# Every engine made, so that a forked child (a gunicorn worker) drops the pooled connections
# it inherited instead of sharing them with its parent: a database connection must never be
# used by two processes.
_ENGINES: list[Engine] = []


def _forget_inherited_connections() -> None:
    for engine in _ENGINES:
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_inherited_connections)


def _create_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"{config.DATABASE_ENV} is not a valid database URL") from None
    if parsed.get_backend_name() == "sqlite":
        _prepare_sqlite_path(url)
        engine = create_engine(url, connect_args={"timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        if parsed.database and parsed.database != ":memory:":
            _use_wal(engine)
        return engine
    try:
        return create_engine(url, pool_pre_ping=True)
    except (ArgumentError, ModuleNotFoundError) as exc:
        raise ConfigError(f"{config.DATABASE_ENV}: unsupported database URL ({exc})") from None


def _use_wal(engine: Engine, patience: float = WAL_SWITCH_SECONDS) -> None:
    """Put the database in WAL mode (it stays so, in the file). The switch needs an exclusive
    lock, which SQLite refuses at once ("database is locked") rather than waiting out the busy
    timeout when other processes open the same new file at the same moment; so re-check and
    retry until one of them has made the switch."""
    deadline = time.monotonic() + patience
    while True:
        try:
            with engine.connect() as conn:
                mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
                if str(mode).lower() != "wal":
                    conn.exec_driver_sql("PRAGMA journal_mode=WAL")
            return
        except OperationalError as exc:
            if "locked" not in _reason(exc) or time.monotonic() > deadline:
                raise StoreError(f"cannot open the database: {_reason(exc)}") from None
            time.sleep(0.05)


def _reason(exc: OperationalError) -> str:
    return str(exc.orig).splitlines()[0] if exc.orig else "unknown error"


@functools.cache
def _factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    session = _factory(engine or get_engine())()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
