"""Shared fixtures. Every test gets its own database; the seed store is built once per
session and copied, since building is deterministic."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

# PostgreSQL and both-backend fixtures (see tests/pg.py): postgres_url, postgres_seed_url,
# database_url and seed_database_url (parametrised over sqlite and postgresql).
from pg import (  # noqa: F401
    database_url,
    postgres_seed_template,
    postgres_seed_url,
    postgres_url,
    seed_database_url,
)

from store import Store, db


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test may touch the developer's own database or Slack credentials."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'default.sqlite3'}")
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "SLACK_API_URL",
        "SLACK_CLIENT_ID",
        "SLACK_CLIENT_SECRET",
        "SLACK_STATE_SECRET",
        "SLACK_REDIRECT_URI",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def seed_db_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with the seed store built once for the whole run."""
    path = tmp_path_factory.mktemp("seedstore") / "seed.sqlite3"
    url = f"sqlite:///{path}"
    Store.open(url)
    # Closing every connection folds the write-ahead log into the file, so a plain file copy
    # holds the whole build.
    db.get_engine(url).dispose()
    return path


@pytest.fixture
def seed_db_url(seed_db_file: Path, tmp_path: Path) -> str:
    """A private copy of the built seed store, safe to write to."""
    copy = tmp_path / "store.sqlite3"
    shutil.copy(seed_db_file, copy)
    return f"sqlite:///{copy}"


@pytest.fixture
def store(seed_db_url: str) -> Iterator[Store]:
    yield Store.open(seed_db_url, build_if_empty=False)
