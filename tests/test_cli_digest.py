"""``chainbot digest``: formats, week handling and errors; the 004 week through a real
process."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import pytest
from blockkit import assert_valid_message
from click.testing import CliRunner

from bot.cli import main
from store.digest import parse_week
from store.digest_rules import APPLICATION, GOVERNMENT, LISTED, PARKS, POLICY


@pytest.fixture
def seeded(seed_database_url: str) -> str:
    """The seed store on each backend, as the CLI's ``DATABASE_URL``."""
    return seed_database_url


def test_parse_week() -> None:
    assert parse_week("2019-12-16") == (dt.date(2019, 12, 16), None)
    assert parse_week(" 2019-12-21 ") == (
        dt.date(2019, 12, 16),
        "2019-12-21 is a Saturday: showing the week from Monday 2019-12-16",
    )
    for bad in ("2019-13-01", "yesterday", "20191216", "", "2019-12-16T10:00"):
        with pytest.raises(ValueError, match="is not a date; use YYYY-MM-DD"):
            parse_week(bad)


@pytest.mark.parametrize("bad", ["2019-02-30", "next monday", "x" * 500])
def test_a_bad_date_is_one_line_and_exit_2(bad: str) -> None:
    result = CliRunner().invoke(main, ["digest", "--week", bad])
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("chainbot: --week: ")
    assert "YYYY-MM-DD" in lines[0] and len(lines[0]) < 120


def test_a_bad_format_is_refused() -> None:
    result = CliRunner().invoke(main, ["digest", "--format", "xml"])
    assert result.exit_code == 2


def test_json_of_the_004_week_in_process(seeded: str) -> None:
    result = CliRunner().invoke(main, ["digest", "--week", "2019-12-16", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["week_start"] == "2019-12-16" and data["week_end"] == "2019-12-22"
    assert [s["name"] for s in data["sections"]] == [
        GOVERNMENT,
        POLICY,
        APPLICATION,
        PARKS,
        LISTED,
    ]


def test_a_non_monday_is_snapped_and_said_on_stderr(seeded: str) -> None:
    result = CliRunner().invoke(main, ["digest", "--week", "2019-12-19", "--format", "json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["week_start"] == "2019-12-16"
    assert "2019-12-19 is a Thursday: showing the week from Monday 2019-12-16" in result.stderr


def test_text_and_blocks_formats(seeded: str) -> None:
    text = CliRunner().invoke(main, ["digest", "--week", "2019-12-16"])
    assert text.exit_code == 0
    assert text.stdout.startswith("Industry Blockchain Weekly News 丨 ")
    assert "Week of 16-22 December 2019" in text.stdout
    assert "GOVERNMENT UPDATE" in text.stdout

    blocks = CliRunner().invoke(main, ["digest", "--week", "2019-12-16", "--format", "blocks"])
    assert blocks.exit_code == 0
    messages = json.loads(blocks.stdout)
    assert len(messages) >= 1
    for message in messages:
        assert_valid_message(message)


def test_an_empty_week_and_the_archive_flag(seeded: str) -> None:
    plain = CliRunner().invoke(main, ["digest", "--week", "2021-12-20", "--format", "json"])
    assert plain.exit_code == 0
    assert json.loads(plain.stdout)["sections"] == []
    archive = CliRunner().invoke(
        main, ["digest", "--week", "2021-12-20", "--format", "json", "--archive"]
    )
    data = json.loads(archive.stdout)
    assert data["edition"] == "archive" and 2019 in data["archive_years"]
    assert data["title"].startswith("Industry Blockchain Weekly News 丨 From the archive: ")


def test_the_004_items_through_a_real_process(seed_db_url: str) -> None:
    """The issue's must-show, as a person would run it."""
    env = {**os.environ, "DATABASE_URL": seed_db_url}
    code = "from bot.cli import main; main()"
    result = subprocess.run(
        [sys.executable, "-c", code, "digest", "--week", "2019-12-16", "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    where = {
        " ".join(item["title"].split()): (section["name"], item["date"])
        for section in data["sections"]
        for item in section["items"]
    }
    # A sample from each section, as 004 places and dates them.
    assert where[
        "Deputy Mayor of Beijing: Beijing government data has been uploaded, and more "
        "data will be gradually shared"
    ] == (GOVERNMENT, "2019-12-18")
    assert where[
        "Shanghai: Municipal financial supervision departments should promote the use "
        "of blockchain and other technologies in regulatory platforms"
    ] == (
        POLICY,
        "2019-12-19",
    )
    assert where["Guangzhou, Zhuhai and other 10 cities jointly build a blockchain platform"] == (
        APPLICATION,
        "2019-12-16",
    )
    assert where["Zibo: First Blockchain Technology Research Institute Established"] == (
        PARKS,
        "2019-12-20",
    )
    assert where[
        "Chairman of Wuliangye Group: Suggests that alliance members accelerate the "
        "application of cutting-edge technologies such as blockchain"
    ] == (
        LISTED,
        "2019-12-17",
    )
