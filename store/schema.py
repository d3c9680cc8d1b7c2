"""Bringing a database to the current schema, with Alembic.

The migrations in ``store/migrations/versions`` own every table: the fact and app tables of
``store.models`` and the tables of slack_sdk's SQLAlchemy OAuth installation and state stores.
``ensure_schema`` runs at start-up and for ``chainbot migrate``:

* an empty database gets every table at once and is stamped at head (Alembic's documented
  "create_all, then stamp" recipe; a test keeps the migrations and the models identical);
* a database at an older revision is upgraded to head;
* a database made before migrations existed (tables but no ``alembic_version``) is adopted:
  stamped at head when it already matches it apart from missing tables, otherwise stamped at
  the first revision and upgraded from there.

Several processes may start at once: on PostgreSQL a session-level advisory lock serialises
them; on SQLite ``BEGIN IMMEDIATE`` takes the database's write lock for the whole upgrade.
Whoever waits finds the schema current and does nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData, inspect, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from store.errors import StoreError
from store.models import Base

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Any fixed 64-bit number unique to this application ("chainbot" in ASCII, truncated).
ADVISORY_LOCK_KEY = 0x636861696E626F74 & 0x7FFFFFFFFFFFFFFF
VERSION_TABLE = "alembic_version"


@dataclass(frozen=True)
class MigrationResult:
    """What ``ensure_schema`` did."""

    before: str | None  # revision found (None: no alembic_version table)
    after: str  # revision now (always head)
    action: str  # "current" | "created" | "upgraded" | "adopted"

    def summary(self) -> str:
        if self.action == "current":
            return f"schema is current (revision {self.after})"
        if self.action == "created":
            return f"created the schema at revision {self.after}"
        if self.action == "upgraded":
            return f"upgraded the schema from revision {self.before} to {self.after}"
        return f"adopted a database made before migrations; now at revision {self.after}"


def target_metadata() -> MetaData:
    """Every table the migrations manage: the models plus slack_sdk's OAuth stores."""
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
    from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

    metadata = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        table.to_metadata(metadata)
    store = SQLAlchemyInstallationStore
    store.build_installations_table(metadata, store.default_installations_table_name)
    store.build_bots_table(metadata, store.default_bots_table_name)
    states = SQLAlchemyOAuthStateStore
    states.build_oauth_states_table(metadata, states.default_table_name)
    return metadata


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, in code (no ini file needed at run time)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@functools.cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    head = _scripts().get_current_head()
    if head is None:  # pragma: no cover - the package always ships revisions
        raise StoreError("no database migrations found")
    return head


def first_revision() -> str:
    """The revision every history starts from."""
    bases = _scripts().get_bases()
    return bases[0]


def revisions_in_order() -> list[str]:
    """Every revision from the first to head."""
    return [rev.revision for rev in reversed(list(_scripts().walk_revisions()))]


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def ensure_schema(engine: Engine) -> MigrationResult:
    """Bring the database to the newest schema. Idempotent; safe from several processes."""
    try:
        with engine.connect() as conn:
            if current_revision(conn) == head_revision():
                return MigrationResult(head_revision(), head_revision(), "current")
            conn.rollback()
            with _migration_lock(conn):
                return _migrate(conn)
    except OperationalError as exc:
        raise StoreError(f"cannot open the database: {_reason(exc)}") from None
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot migrate the database: {_reason(exc)}") from None


def _migrate(conn: Connection) -> MigrationResult:
    """Runs inside the lock and one transaction (PostgreSQL's DDL is transactional; on SQLite
    the write lock keeps others out until commit)."""
    head = head_revision()
    before = current_revision(conn)
    if before == head:
        return MigrationResult(before, head, "current")
    tables = set(inspect(conn).get_table_names()) - {VERSION_TABLE}
    cfg = alembic_config(conn)
    if before is None and not tables:
        target_metadata().create_all(conn)
        command.stamp(cfg, "head")
        return MigrationResult(None, head, "created")
    if before is None:
        _adopt(conn, cfg)
        return MigrationResult(None, head, "adopted")
    command.upgrade(cfg, "head")
    return MigrationResult(before, head, "upgraded")


def _adopt(conn: Connection, cfg: Config) -> None:
    """A database made by ``create_all`` before migrations existed."""
    metadata = target_metadata()
    context = MigrationContext.configure(conn, opts={"compare_type": False})
    diffs = compare_metadata(context, metadata)
    missing_tables_only = all(
        isinstance(diff, tuple) and diff[0] in ("add_table", "add_index") for diff in diffs
    )
    if missing_tables_only:
        metadata.create_all(conn)
        command.stamp(cfg, "head")
        return
    command.stamp(cfg, first_revision())
    command.upgrade(cfg, "head")


@contextmanager
def _migration_lock(conn: Connection) -> Iterator[None]:
    """One migrator at a time, in one transaction that commits when the block ends."""
    postgres = conn.dialect.name == "postgresql"
    if postgres:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        conn.commit()
    try:
        if conn.dialect.name == "sqlite":
            # pysqlite would not BEGIN before DDL on its own; IMMEDIATE takes the write lock now.
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
    finally:
        if postgres:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
            conn.commit()


def _reason(exc: SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None)
    return str(orig or exc).splitlines()[0]
