"""Alembic migrations, on SQLite and PostgreSQL: they match the models, they keep data, they
adopt databases made before migrations, and several processes may run them at once."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from pg import run_together
from sqlalchemy import Connection, MetaData, Table, inspect, select, text

from bot.cli import main
from store import db, schema
from store.models import Base

UTC = dt.UTC
NOW = dt.datetime(2026, 11, 20, 8, 30, tzinfo=UTC)

# What people did, in the app tables: each must survive every upgrade.
APP_ROWS: dict[str, list[dict[str, Any]]] = {
    "subscriptions": [
        {
            "id": 1,
            "team_id": "T0001",
            "channel_id": "C0001",
            "weekday": 0,
            "hour": 9,
            "minute": 0,
            "tz": "America/New_York",
            "skip_empty": True,
            "status": "active",
            "paused_reason": None,
            "created_by": "U0001",
            "created_at": NOW,
            "updated_at": NOW,
        },
        {
            "id": 2,
            "team_id": "T0002",
            "channel_id": "C0002",
            "weekday": 4,
            "hour": 17,
            "minute": 45,
            "tz": "Asia/Shanghai",
            "skip_empty": False,
            "status": "paused",
            "paused_reason": "channel_not_found",
            "created_by": "U0002",
            "created_at": NOW,
            "updated_at": NOW,
        },
    ],
    "deliveries": [
        {
            "id": 1,
            "subscription_id": 1,
            "team_id": "T0001",
            "channel_id": "C0001",
            "week_start": dt.date(2026, 11, 16),
            "status": "sent",
            "claimed_by": "clock-a",
            "claimed_at": NOW,
            "finished_at": NOW,
            "scheduled_for": NOW,
            "late": False,
            "message_ts": "1763620200.000100",
            "error": None,
            "item_count": 7,
        }
    ],
    "ingested_documents": [
        {
            "id": 1,
            "filename": "qingdao-2026.md",
            "sha256": "ab" * 32,
            "raw": "Title: 青岛 chain bay\nSource: Qingdao Daily\nDate: 2026-11-19\n\nText.",
            "ingested_at": NOW,
        }
    ],
    "autolink_settings": [
        {
            "id": 1,
            "team_id": "T0001",
            "channel_id": "C0001",
            "enabled": True,
            "changed_by": "U0001",
            "changed_at": NOW,
        }
    ],
    "autolink_posts": [
        {
            "id": 1,
            "team_id": "T0001",
            "channel_id": "C0001",
            "entity_slug": "company:bubi",
            "day": dt.date(2026, 11, 20),
        }
    ],
    "event_receipts": [{"event_id": "Ev0001", "team_id": "T0001", "received_at": NOW}],
    "recent_queries": [
        {
            "id": 1,
            "team_id": "T0001",
            "user_id": "U0001",
            "entity_slug": "city:qingdao",
            "asked_at": NOW,
        }
    ],
    "slack_installations": [
        {
            "id": 1,
            "client_id": "111.222",
            "app_id": "A0001",
            "team_id": "T0001",
            "team_name": "Acme",
            "bot_token": "xoxb-test-token",
            "bot_id": "B0001",
            "bot_user_id": "UB001",
            "bot_scopes": "commands,chat:write",
            "user_id": "U0001",
            "is_enterprise_install": False,
            "installed_at": NOW.replace(tzinfo=None),
        }
    ],
}


def _upgrade(url: str, revision: str) -> None:
    with db.get_engine(url).begin() as conn:
        command.upgrade(schema.alembic_config(conn), revision)


def _revision(url: str) -> str | None:
    with db.get_engine(url).connect() as conn:
        return schema.current_revision(conn)


def _drift(url: str) -> list[Any]:
    with db.get_engine(url).connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, schema.target_metadata())


def _insert_app_rows(conn: Connection) -> None:
    """Insert the rows into whichever of their tables exist now, with the columns they have
    now (so the test keeps working as revisions add tables and columns)."""
    present = set(inspect(conn).get_table_names())
    for name, rows in APP_ROWS.items():
        if name not in present:
            continue
        table = Table(name, MetaData(), autoload_with=conn)
        conn.execute(
            table.insert(), [{k: v for k, v in row.items() if k in table.c} for row in rows]
        )


def _snapshot(conn: Connection) -> dict[str, list[dict[str, Any]]]:
    present = set(inspect(conn).get_table_names())
    result = {}
    for name in APP_ROWS:
        if name in present:
            table = Table(name, MetaData(), autoload_with=conn)
            pk = list(table.primary_key.columns)
            rows = conn.execute(select(table).order_by(*pk)).mappings()
            result[name] = [dict(row) for row in rows]
    return result


def _assert_kept(
    before: dict[str, list[dict[str, Any]]], after: dict[str, list[dict[str, Any]]]
) -> None:
    for name, rows in before.items():
        assert name in after, f"table {name} disappeared"
        kept = [{k: row[k] for k in rows[0]} for row in after[name]] if rows else after[name]
        assert kept == rows, f"rows of {name} changed"


def test_migrations_match_the_models(database_url: str) -> None:
    """Schema drift guard: a column added to store/models.py without a revision fails here."""
    _upgrade(database_url, "head")
    assert _revision(database_url) == schema.head_revision()
    assert _drift(database_url) == []


def test_revisions_form_one_line() -> None:
    revisions = schema.revisions_in_order()
    assert revisions[0] == schema.first_revision()
    assert revisions[-1] == schema.head_revision()
    assert len(set(revisions)) == len(revisions)


def test_upgrade_from_the_first_revision_keeps_every_row(database_url: str) -> None:
    first = schema.first_revision()
    _upgrade(database_url, first)
    engine = db.get_engine(database_url)
    with engine.begin() as conn:
        _insert_app_rows(conn)
    with engine.connect() as conn:
        before = _snapshot(conn)
    assert sum(len(rows) for rows in before.values()) >= 8
    assert {"subscriptions", "deliveries", "ingested_documents", "autolink_settings"} <= set(before)

    # One revision at a time, checking the data after each step.
    for revision in schema.revisions_in_order()[1:]:
        _upgrade(database_url, revision)
        with engine.connect() as conn:
            _assert_kept(before, _snapshot(conn))

    assert _revision(database_url) == schema.head_revision()
    assert _drift(database_url) == []
    with engine.connect() as conn:
        after = _snapshot(conn)
        _assert_kept(before, after)
        # The rows are still usable: the foreign key from deliveries still points home.
        joined = conn.execute(
            text(
                "SELECT s.channel_id FROM deliveries d "
                "JOIN subscriptions s ON s.id = d.subscription_id"
            )
        ).scalar_one()
        assert joined == "C0001"


def test_ensure_schema_upgrades_an_older_database(database_url: str) -> None:
    first = schema.first_revision()
    _upgrade(database_url, first)
    with db.get_engine(database_url).begin() as conn:
        _insert_app_rows(conn)
        before = _snapshot(conn)
    result = schema.ensure_schema(db.get_engine(database_url))
    if first == schema.head_revision():
        assert result.action == "current"
    else:
        assert (result.action, result.before, result.after) == (
            "upgraded",
            first,
            schema.head_revision(),
        )
    with db.get_engine(database_url).connect() as conn:
        _assert_kept(before, _snapshot(conn))
    assert schema.ensure_schema(db.get_engine(database_url)).action == "current"


def test_an_empty_database_is_created_at_head(database_url: str) -> None:
    result = schema.ensure_schema(db.get_engine(database_url))
    assert (result.action, result.before, result.after) == ("created", None, schema.head_revision())
    assert _drift(database_url) == []


def test_a_database_made_by_create_all_is_adopted(database_url: str) -> None:
    """Databases made before migrations existed: the skeleton's plain create_all."""
    engine = db.get_engine(database_url)
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        _insert_app_rows(conn)
        before = _snapshot(conn)
    result = schema.ensure_schema(engine)
    assert (result.action, result.after) == ("adopted", schema.head_revision())
    assert _drift(database_url) == []
    with engine.connect() as conn:
        _assert_kept(before, _snapshot(conn))


def test_a_database_at_the_first_revision_without_version_table_is_adopted(
    database_url: str,
) -> None:
    _upgrade(database_url, schema.first_revision())
    engine = db.get_engine(database_url)
    with engine.begin() as conn:
        _insert_app_rows(conn)
        conn.execute(text(f"DROP TABLE {schema.VERSION_TABLE}"))
        before = _snapshot(conn)
    assert schema.ensure_schema(engine).action == "adopted"
    assert _revision(database_url) == schema.head_revision()
    assert _drift(database_url) == []
    with engine.connect() as conn:
        _assert_kept(before, _snapshot(conn))


def test_downgrade_to_base_and_up_again(database_url: str) -> None:
    _upgrade(database_url, "head")
    with db.get_engine(database_url).begin() as conn:
        command.downgrade(schema.alembic_config(conn), "base")
    with db.get_engine(database_url).connect() as conn:
        assert set(inspect(conn).get_table_names()) <= {schema.VERSION_TABLE}
    _upgrade(database_url, "head")
    assert _drift(database_url) == []


def test_processes_starting_at_once_migrate_exactly_once(database_url: str) -> None:
    """Four processes run ensure_schema on one empty database at the same moment."""
    code = (
        "import sys\n"
        "from store import db\n"
        "from store.schema import ensure_schema\n"
        "print('ready', flush=True)\n"
        "sys.stdin.read()\n"  # wait for the start signal, so all four race
        "print(ensure_schema(db.get_engine(sys.argv[1])).action)\n"
    )
    results = run_together([[sys.executable, "-c", code, database_url] for _ in range(4)])
    assert [rc for rc, _, _ in results] == [0, 0, 0, 0], [err for _, _, err in results]
    actions = sorted(out.strip() for _, out, _ in results)
    assert actions == ["created", "current", "current", "current"]
    with db.get_engine(database_url).connect() as conn:
        versions = conn.execute(text(f"SELECT version_num FROM {schema.VERSION_TABLE}")).all()
    assert versions == [(schema.head_revision(),)]
    assert _drift(database_url) == []


def test_chainbot_migrate_prints_one_line(database_url: str) -> None:
    runner = CliRunner()
    first = runner.invoke(main, ["migrate"])
    assert first.exit_code == 0, first.output
    assert first.output == f"chainbot: created the schema at revision {schema.head_revision()}\n"
    again = runner.invoke(main, ["migrate"])
    assert again.exit_code == 0
    assert again.output == f"chainbot: schema is current (revision {schema.head_revision()})\n"


def test_chainbot_migrate_on_an_unreachable_server_is_one_line(
    monkeypatch: Any,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://chainbot:s3cret@127.0.0.1:1/none")
    result = CliRunner().invoke(main, ["migrate"])
    assert result.exit_code == 1
    assert result.output.startswith("chainbot: cannot open the database: ")
    assert result.output.count("\n") == 1
    assert "s3cret" not in result.output
