"""Where things are: the database URL and the seeds folder, from the environment."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_data_dir

from store.errors import ConfigError

SEEDS_ENV = "CHAINBOT_SEEDS"
DATABASE_ENV = "DATABASE_URL"


def default_database_url() -> str:
    """A SQLite file in the per-user data directory (created on first use)."""
    path = Path(user_data_dir("chainbot", appauthor=False)) / "chainbot.sqlite3"
    return f"sqlite:///{path}"


def database_url() -> str:
    url = os.environ.get(DATABASE_ENV, "").strip()
    if not url:
        return default_database_url()
    if "://" not in url:
        raise ConfigError(f"{DATABASE_ENV} is not a database URL (expected e.g. sqlite:///path)")
    # Heroku-style URLs name the dialect "postgres"; SQLAlchemy wants psycopg 3 spelled out.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def seeds_dir() -> Path:
    """The folder with the seed articles, ``metadata.yml`` and ``curation.yml``."""
    configured = os.environ.get(SEEDS_ENV, "").strip()
    path = Path(configured) if configured else Path(__file__).resolve().parent.parent / "seeds"
    if not (path / "metadata.yml").is_file():
        raise ConfigError(f"{SEEDS_ENV}: no seeds folder with metadata.yml at {path}")
    return path
