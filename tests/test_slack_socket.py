"""``chainbot serve --socket --with-clock`` end to end: the real process connects to the fake
Slack's Socket Mode WebSocket, answers envelopes, and runs the digest clock beside it."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from blockkit import assert_valid_message
from fakeslack import FakeSlack
from processes import chainbot_command, stop

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
BOT_TOKEN = "xoxb-socket-0000-secretbot"
APP_TOKEN = "xapp-1-A0FAKE-0000-secretapp"


def _env(fake: FakeSlack, database: Path) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("SLACK_")},
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_API_URL": fake.api_url,
        "DATABASE_URL": f"sqlite:///{database}",
    }


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as slack:
        yield slack


@pytest.fixture(scope="module")
def database(seed_db_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("socket") / "store.sqlite3"
    with sqlite3.connect(seed_db_file) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return target


@pytest.fixture(scope="module")
def bot(fake: FakeSlack, database: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    log = database.parent / "socket.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*chainbot_command(), "serve", "--socket", "--with-clock"],
            env=_env(fake, database),
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    try:
        fake.socket_mode.wait_connected(timeout=60)
        yield process, log
    finally:
        stop(process, signal.SIGTERM)


def test_slash_command_is_answered_in_the_ack(
    bot: tuple[subprocess.Popen[bytes], Path], fake: FakeSlack
) -> None:
    payload: dict[str, Any] = {
        "team_id": "T0FAKE",
        "channel_id": "C0GENERAL",
        "user_id": "U0ALICE",
        "command": "/chain",
        "text": "Qingdao",
        "response_url": fake.response_url("socket"),
        "trigger_id": "1.2.3",
    }
    envelope = fake.socket_mode.send("slash_commands", payload)
    ack = fake.socket_mode.wait_ack(envelope, timeout=10)
    answer = ack["payload"]
    assert answer["response_type"] == "ephemeral"
    assert_valid_message(answer)
    assert answer["blocks"][0]["text"]["text"] == "Qingdao"


def test_redelivered_event_is_answered_once(
    bot: tuple[subprocess.Popen[bytes], Path], fake: FakeSlack
) -> None:
    event = {
        "type": "event_callback",
        "team_id": "T0FAKE",
        "event_id": "Ev0SOCKET",
        "event": {
            "type": "app_mention",
            "channel": "C0GENERAL",
            "user": "U0ALICE",
            "text": "<@U0CHAINBOT> Qingdao?",
            "ts": "1700002000.1",
        },
    }
    first = fake.socket_mode.send("events_api", event, retry_attempt=0)
    again = fake.socket_mode.send("events_api", event, retry_attempt=1, retry_reason="timeout")
    fake.socket_mode.wait_ack(first)
    fake.socket_mode.wait_ack(again)
    fake.wait_for("chat.postMessage", timeout=10)
    time.sleep(0.5)
    (post,) = fake.calls("chat.postMessage")
    assert post.params["thread_ts"] == "1700002000.1"


def test_runs_with_the_clock_and_logs_no_secret(bot: tuple[subprocess.Popen[bytes], Path]) -> None:
    process, log = bot
    assert process.poll() is None
    text = log.read_text(errors="replace")
    assert "Traceback" not in text
    assert BOT_TOKEN not in text and APP_TOKEN not in text


def test_refused_app_token_exits_2_with_one_line(
    fake: FakeSlack, database: Path, bot: tuple[subprocess.Popen[bytes], Path]
) -> None:
    fake.fail("apps.connections.open", "invalid_auth", times=1)
    result = subprocess.run(
        [*chainbot_command(), "serve", "--socket"],
        env=_env(fake, database),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert "SLACK_APP_TOKEN was refused by Slack (invalid_auth)" in result.stderr
    assert "Traceback" not in result.stderr and APP_TOKEN not in result.stderr
