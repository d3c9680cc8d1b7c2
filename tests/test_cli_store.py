"""``chainbot chain``, ``build`` and ``stats``: answers, bad input, and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli import main


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(
        main, list(args), env=env, catch_exceptions=False, prog_name="chainbot"
    )


@pytest.fixture
def seeded(seed_db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", seed_db_url)
    return seed_db_url


def _json(*args: str) -> dict:
    result = run("chain", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# --------------------------------------------------------------------------- answers


def test_chain_qingdao(seeded: str) -> None:
    result = run("chain", "qingdao")
    assert result.exit_code == 0
    out = result.stdout
    assert out.startswith("Qingdao\n=======\n")
    for needle in (
        "more than 100 blockchain-related companies",
        '"one bay, one center"',
        "Chain Bay",
        "Qingdao Fintech Center",
        "Qingdao ranked eighth",
        "Policies",
        "— Qingdao Daily, Qingdao blockchain industry",
    ):
        assert needle in out, needle
    assert result.stderr == ""  # the store was built already: no progress


def test_chain_json_shape(seeded: str) -> None:
    data = _json("qingdao")
    assert set(data) == {"status", "query", "entity", "candidates", "facts", "text"}
    assert data["status"] == "found" and data["query"] == "qingdao"
    assert data["entity"]["name"] == "Qingdao" and data["entity"]["kind"] == "city"
    assert "Tsingtao" in data["entity"]["aliases"]
    assert len(data["facts"]) > 20
    for fact in data["facts"]:
        assert set(fact) == {"text", "quote", "source", "date"}
        assert fact["quote"] and fact["source"]
    assert data["text"] == run("chain", "qingdao").stdout.rstrip("\n")


@pytest.mark.parametrize("query", [["qingdoa"], ["tsingtao"], ["青岛"], ["Qing", "dao"]])
def test_spellings_give_the_same_entity(seeded: str, query: list[str]) -> None:
    data = _json(*query)
    assert data["status"] == "found"
    assert data["entity"]["name"] == "Qingdao"


def test_qinghai_is_not_silently_qingdao(seeded: str) -> None:
    data = _json("qinghai")
    assert not (data["entity"] and data["entity"]["name"] == "Qingdao")


def test_multiple_words_are_joined(seeded: str) -> None:
    assert _json("chong", "qing")["entity"]["name"] == "Chongqing"


def test_unknown_name_is_not_in_the_store(seeded: str) -> None:
    result = run("chain", "atlantis")
    assert result.exit_code == 0
    assert '"atlantis" is not in the store.' in result.stdout
    assert "/chain list cities" in result.stdout
    assert _json("atlantis")["status"] == "not_found"


def test_suggestions_for_a_near_miss(seeded: str) -> None:
    data = _json("qingdaoo", "blockchain", "zzz")
    if data["status"] == "not_found":
        assert data["candidates"], data
        assert "Closest names it knows" in data["text"]


BAD_INPUTS = {
    "empty": [],
    "blank": ["   "],
    "huge": ["x" * 5000],
    "channel": ["<!channel>"],
    "mention": ["<@U123ABC>", "&", "friends"],
    "sql": ["' OR 1=1 --"],
    "emoji": ["🚀🔥"],
    "controls": ["\x00\x07\x1b[31mqing\x7f\u202e"],
}


@pytest.mark.parametrize("args", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_input_gets_a_friendly_answer(seeded: str, args: list[str]) -> None:
    result = run("chain", *args)
    assert result.exit_code == 0
    out = result.stdout
    assert out.strip()
    assert "Traceback" not in out + result.stderr
    for raw in ("<!channel>", "<@U123ABC>", "\x00", "\x07", "\x1b", "\u202e", "x" * 200):
        assert raw not in out
    data = json.loads(run("chain", *args, "--format", "json").stdout)
    assert data["status"] in ("usage", "not_found", "ambiguous", "found")


def test_help_and_grammar(seeded: str) -> None:
    help_text = run("chain", "help").stdout
    assert "/chain list cities|provinces|policies|projects|companies" in help_text
    assert "/chain Qingdao" in help_text  # a live example: the most-cited city
    listing = _json("list", "policies")
    assert listing["status"] == "list" and listing["total"] == len(listing["entities"]) > 3
    assert "Policies in the store" in listing["text"]
    assert _json("list", "planets")["status"] == "usage"
    timeline = run("chain", "timeline", "qingdao").stdout
    assert timeline.startswith("Timeline: Qingdao")
    compare = _json("compare", "qingdao", "vs", "chongqing")
    assert compare["status"] == "compare"
    assert compare["text"].startswith("Qingdao vs Chongqing")
    missing = _json("compare", "qingdao", "vs", "atlantis")
    assert missing["status"] == "not_found" and "atlantis" in missing["text"]


# --------------------------------------------------------------------------- build and stats


def test_first_use_builds_with_progress(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'fresh' / 'db.sqlite3'}"}
    result = run("chain", "bubi", env=env)
    assert result.exit_code == 0
    assert "Building the fact store" in result.stderr
    assert result.stdout.startswith("Bubi")


def test_build_and_stats(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    built = run("build", env=env)
    assert built.exit_code == 0
    assert built.stderr.strip()  # progress
    line = built.stdout.strip()
    assert "\n" not in line
    assert line.startswith("Built the fact store in ") and "5 documents" in line
    table = run("stats", env=env)
    assert table.exit_code == 0
    assert table.stdout.splitlines()[0].split() == ["documents", "5"]
    assert "city (with facts)" in table.stdout
    data = json.loads(run("stats", "--format", "json", env=env).stdout)
    assert data["documents"] == 5 and data["facts"] > 100
    assert data["entities_by_kind"]["city"] > 5 and data["generation"]


# --------------------------------------------------------------------------- errors


def _one_line_error(result: Result, code: int) -> str:
    assert result.exit_code == code, (result.exit_code, result.output)
    assert result.stdout == ""
    err = result.stderr.strip()
    assert err and "\n" not in err and "Traceback" not in err, err
    return err


def test_database_is_a_directory(tmp_path: Path) -> None:
    err = _one_line_error(run("chain", "qingdao", env={"DATABASE_URL": f"sqlite:///{tmp_path}"}), 1)
    assert "not a file" in err


def test_corrupt_database(tmp_path: Path) -> None:
    bad = tmp_path / "corrupt.sqlite3"
    bad.write_bytes(b"this is not a database" * 100)
    for command in (["chain", "qingdao"], ["stats"], ["build"]):
        err = _one_line_error(run(*command, env={"DATABASE_URL": f"sqlite:///{bad}"}), 1)
        assert "database" in err


def test_unwritable_path(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    url = f"sqlite:///{blocker / 'sub' / 'db.sqlite3'}"
    err = _one_line_error(run("build", env={"DATABASE_URL": url}), 1)
    assert "cannot create the database folder" in err


def test_malformed_database_url() -> None:
    err = _one_line_error(run("stats", env={"DATABASE_URL": "not a url"}), 2)
    assert "DATABASE_URL" in err


@pytest.mark.parametrize(
    "args",
    [
        ["chain", "--bogus"],
        ["chain", "--format", "xml", "q"],
        ["stats", "--format"],
        ["build", "x"],
    ],
)
def test_bad_flags(args: list[str]) -> None:
    err = _one_line_error(run(*args), 2)
    assert err.startswith("chainbot ") and "--help" in err


# --------------------------------------------------------------------------- a real process


def test_real_process(tmp_path: Path) -> None:
    """The README's first command, on a fresh database: builds, then answers."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'proc.sqlite3'}"}
    chainbot = Path(sys.executable).with_name("chainbot")
    command = [str(chainbot)] if chainbot.exists() else [sys.executable, "-m", "bot.cli"]
    proc = subprocess.run(
        [*command, "chain", "qingdao"], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Qingdao\n")
    assert "Qingdao ranked eighth" in proc.stdout
    assert "Building the fact store" in proc.stderr
    again = subprocess.run(
        [*command, "chain", "<!channel>"], env=env, capture_output=True, text=True, timeout=60
    )
    assert again.returncode == 0 and "<!channel>" not in again.stdout
    assert again.stderr == ""


def test_compare_with_an_unclear_side_says_so_like_slack(seeded: str) -> None:
    result = run("chain", "compare", "qingdao", "vs", "hanan")
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "“hanan” could mean more than one thing.",
        "  Did you mean: Hainan (province), Hunan (province)",
    ]


def test_compare_of_two_mentions_asks_once_for_two_names(seeded: str) -> None:
    result = run("chain", "compare", "<!channel>", "vs", "<!here>")
    assert result.output == "Name two entities: /chain compare <a> vs <b>.\n"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["compare", "qingdao"], "Compare what? Try /chain compare <a> vs <b>."),
        (["list", "dragons"], "List what? Try /chain list cities, provinces, policies"),
        (["timeline"], "Timeline of what? Try /chain timeline <name>."),
    ],
)
def test_an_incomplete_subcommand_says_what_slack_says(
    seeded: str, args: list[str], said: str
) -> None:
    result = run("chain", *args)
    assert result.exit_code == 0 and result.output.startswith(said)
