"""Configuration from the environment, the manifest, and Slack's signing example."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import time_machine
import yaml
from slack_sdk.signature import SignatureVerifier
from slack_signing import (
    EXAMPLE_BODY,
    EXAMPLE_SECRET,
    EXAMPLE_SIGNATURE,
    EXAMPLE_TIMESTAMP,
    signature,
)

from bot import config
from bot.app import RedactSecrets
from store.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "xoxb-1111-2222-secretsecret"
SECRET = "0123456789abcdef0123456789abcdef"


# --------------------------------------------------------------------------- signing


class PinnedClock:
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


def test_slacks_documented_example_signature_is_reproduced() -> None:
    assert signature(EXAMPLE_SECRET, EXAMPLE_TIMESTAMP, EXAMPLE_BODY) == EXAMPLE_SIGNATURE


def test_verifier_accepts_the_documented_example_with_the_clock_pinned() -> None:
    verifier = SignatureVerifier(EXAMPLE_SECRET, clock=PinnedClock(EXAMPLE_TIMESTAMP + 10))
    assert verifier.is_valid(EXAMPLE_BODY, str(EXAMPLE_TIMESTAMP), EXAMPLE_SIGNATURE)
    # The same request five minutes and a second later is a replay.
    late = SignatureVerifier(EXAMPLE_SECRET, clock=PinnedClock(EXAMPLE_TIMESTAMP + 301))
    assert not late.is_valid(EXAMPLE_BODY, str(EXAMPLE_TIMESTAMP), EXAMPLE_SIGNATURE)
    tampered = EXAMPLE_BODY.replace("roadrunner", "coyote")
    assert not verifier.is_valid(tampered, str(EXAMPLE_TIMESTAMP), EXAMPLE_SIGNATURE)


# --------------------------------------------------------------------------- config


def _set(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    for key, value in values.items():
        monkeypatch.setenv(key, value)


def test_load_reads_every_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    _set(
        monkeypatch,
        SLACK_BOT_TOKEN=TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        PORT="8123",
        SLACK_API_URL="http://127.0.0.1:9/api",
    )
    cfg = config.load("http")
    assert (cfg.port, cfg.api_url, cfg.mode) == (8123, "http://127.0.0.1:9/api/", "http")
    assert TOKEN not in repr(cfg) and SECRET not in repr(cfg)


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    _set(monkeypatch, SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET)
    cfg = config.load("http")
    assert cfg.port == 3000 and cfg.api_url == "https://slack.com/api/"


@pytest.mark.parametrize(
    ("env", "mode", "named"),
    [
        ({"SLACK_SIGNING_SECRET": SECRET}, "http", "SLACK_BOT_TOKEN"),
        (
            {"SLACK_BOT_TOKEN": "xoxp-user-token", "SLACK_SIGNING_SECRET": SECRET},
            "http",
            "SLACK_BOT_TOKEN",
        ),
        ({"SLACK_BOT_TOKEN": TOKEN}, "http", "SLACK_SIGNING_SECRET"),
        (
            {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": "has spaces!"},
            "http",
            "SLACK_SIGNING_SECRET",
        ),
        ({"SLACK_BOT_TOKEN": TOKEN}, "socket", "SLACK_APP_TOKEN"),
        ({"SLACK_BOT_TOKEN": TOKEN, "SLACK_APP_TOKEN": "xoxb-wrong"}, "socket", "SLACK_APP_TOKEN"),
        (
            {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "PORT": "http"},
            "http",
            "PORT",
        ),
        (
            {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "PORT": "70000"},
            "http",
            "PORT",
        ),
        (
            {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": "slack"},
            "http",
            "SLACK_API_URL",
        ),
    ],
)
def test_missing_or_malformed_names_the_variable_not_the_value(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], mode: config.Mode, named: str
) -> None:
    _set(monkeypatch, **env)
    with pytest.raises(ConfigError) as err:
        config.load(mode)
    message = str(err.value)
    assert named in message and "\n" not in message
    for value in env.values():
        if value not in ("http", "slack"):
            assert value not in message


def _chainbot(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_") and k != "PORT"}
    return subprocess.run(
        [sys.executable, "-c", "from bot.cli import main; main()", "serve", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def test_serve_without_a_token_exits_2_with_one_line() -> None:
    result = _chainbot({"SLACK_SIGNING_SECRET": SECRET})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["chainbot: SLACK_BOT_TOKEN is not set"]
    assert "Traceback" not in result.stderr


def test_serve_socket_without_app_token_exits_2() -> None:
    result = _chainbot({"SLACK_BOT_TOKEN": TOKEN}, "--socket")
    assert result.returncode == 2
    assert "SLACK_APP_TOKEN" in result.stderr and TOKEN not in result.stderr + result.stdout


def test_redaction_filter_removes_secrets_from_log_records() -> None:
    import logging

    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "token %s leaked", (TOKEN,), None)
    RedactSecrets((TOKEN,)).filter(record)
    assert record.getMessage() == "token [redacted] leaked"


# --------------------------------------------------------------------------- manifest


def test_manifest_validates_against_slacks_schema() -> None:
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    schema = json.loads((ROOT / "tests/data/manifest.schema.1.0.0.json").read_text())
    jsonschema.Draft7Validator(schema).validate(manifest)
    assert manifest["oauth_config"]["scopes"]["bot"] == [
        "commands",
        "chat:write",
        "app_mentions:read",
        "channels:history",
        "users:read",
    ]
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    assert set(events) == {
        "app_mention",
        "app_home_opened",
        "message.channels",
        "app_uninstalled",
        "tokens_revoked",
    }
    assert manifest["oauth_config"]["redirect_urls"] == [
        "https://chainbot.example.com/slack/oauth_redirect"
    ]
    (shortcut,) = manifest["features"]["shortcuts"]
    assert (shortcut["type"], shortcut["callback_id"]) == ("message", "lookup_message")
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == "/chain" and command["usage_hint"]
    assert manifest["settings"]["socket_mode_enabled"] is False


def test_schema_catches_a_typo() -> None:
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    manifest["settings"]["socket_mode_enabeld"] = True
    schema = json.loads((ROOT / "tests/data/manifest.schema.1.0.0.json").read_text())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(schema).validate(manifest)


def test_procfile_runs_the_web_server() -> None:
    lines = (ROOT / "Procfile").read_text().splitlines()
    assert "web: chainbot serve" in lines


@time_machine.travel(EXAMPLE_TIMESTAMP + 5, tick=False)
def test_time_machine_pins_the_clock_bolt_uses() -> None:
    """Bolt's verifier reads ``time.time()``; pinned, the documented example verifies."""
    assert SignatureVerifier(EXAMPLE_SECRET).is_valid(
        EXAMPLE_BODY, str(EXAMPLE_TIMESTAMP), EXAMPLE_SIGNATURE
    )
