"""PostgreSQL for tests: a real server named by ``CHAINBOT_TEST_POSTGRES_URL``.

Start one with ``eval "$(scripts/ci_postgres.sh start)"``. Without it the PostgreSQL tests skip
with the reason; under CI (``CI=true``) a missing server fails them instead.

Fixtures (re-exported by conftest.py, so any test module can ask for them):

* ``postgres_url``: a fresh, empty database of its own for one test (dropped afterwards).
* ``postgres_seed_url``: a fresh database holding the seed store, copied from a template
  database built once per session (``CREATE DATABASE ... TEMPLATE``).
* ``database_url``: parametrised over ``sqlite`` and ``postgresql``; an empty database of
  either kind, also set as ``DATABASE_URL``.
* ``seed_database_url``: parametrised the same way; the built seed store.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, make_url
from sqlalchemy.pool import NullPool

from store import Store, db

POSTGRES_ENV = "CHAINBOT_TEST_POSTGRES_URL"
BACKENDS = (
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
)


def server_url() -> str:
    """The server's URL, or skip (fail under CI) when none is configured."""
    url = os.environ.get(POSTGRES_ENV, "").strip()
    if url:
        return url
    reason = (
        f"{POSTGRES_ENV} is not set; start a throwaway server with "
        f'eval "$(scripts/ci_postgres.sh start)"'
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true needs PostgreSQL: {reason}", pytrace=False)
    pytest.skip(reason)


def database_url_for(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def admin_engine(url: str) -> Engine:
    """CREATE/DROP DATABASE cannot run inside a transaction."""
    return create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)


def release(url: str) -> None:
    """Close the pooled connections this process holds to ``url`` (the engine is cached)."""
    db.get_engine(url).dispose()


@contextmanager
def scratch_database(server: str, *, template: str | None = None) -> Iterator[str]:
    """A new database on the server, dropped when the block ends."""
    name = f"cbt_{uuid.uuid4().hex[:16]}"
    admin = admin_engine(server)
    clause = f" TEMPLATE {template}" if template else ""
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}{clause}")
    url = database_url_for(server, name)
    try:
        yield url
    finally:
        release(url)
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with scratch_database(server_url()) as url:
        yield url


@pytest.fixture(scope="session")
def postgres_seed_template() -> Iterator[str]:
    """The name of a database holding the seed store, built once per session."""
    server = server_url()
    with scratch_database(server) as url:
        Store.open(url)
        release(url)
        yield make_url(url).database or ""


@pytest.fixture
def postgres_seed_url(postgres_seed_template: str) -> Iterator[str]:
    with scratch_database(server_url(), template=postgres_seed_template) as url:
        yield url


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    """An empty database on each backend; also the test's ``DATABASE_URL``."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'backend.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
    monkeypatch.setenv("DATABASE_URL", url)
    return url


@pytest.fixture(params=BACKENDS)
def seed_database_url(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The built seed store on each backend, private to the test; also its ``DATABASE_URL``."""
    name = "seed_db_url" if request.param == "sqlite" else "postgres_seed_url"
    url: str = request.getfixturevalue(name)
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def run_together(commands: list[list[str]], timeout: float = 120) -> list[tuple[int, str, str]]:
    """Start processes, wait until each has printed its first line ("ready"), then release
    them all at once by closing their stdin; returns (returncode, stdout after the first
    line, stderr) of each. A child does ``print("ready", flush=True); sys.stdin.read()``
    right before the work that should race."""
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    procs = [
        subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for command in commands
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            first = proc.stdout.readline()
            if first.strip() != "ready":
                _, err = proc.communicate(timeout=timeout)
                raise AssertionError(f"child failed before the start: {first}{err}")
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.close()
            proc.stdin = None  # so that communicate() below does not touch the closed pipe
        results = []
        for proc in procs:
            out, err = proc.communicate(timeout=timeout)
            results.append((proc.returncode, out, err))
        return results
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
