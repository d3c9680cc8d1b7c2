"""Whatever goes wrong in a command, a person sees one line and an exit code."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy.exc import OperationalError

from bot.cli import main
from store.api import Store


def test_a_database_error_is_one_line_without_statement_or_parameters(
    monkeypatch: pytest.MonkeyPatch, seed_db_url: str
) -> None:
    def broken(self: Store) -> None:
        raise OperationalError(
            "SELECT * FROM documents WHERE source = %(p)s",
            {"p": "hunter2-secret"},
            Exception("server closed the connection unexpectedly\nmore detail"),
        )

    monkeypatch.setenv("DATABASE_URL", seed_db_url)
    monkeypatch.setattr(Store, "stats", broken)
    result = CliRunner().invoke(main, ["stats"])
    assert result.exit_code == 1
    assert result.output == (
        "chainbot: database error: server closed the connection unexpectedly\n"
    )
    assert "hunter2" not in result.output and "SELECT" not in result.output
