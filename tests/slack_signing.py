"""Requests signed exactly as Slack signs them, for tests and the HTTP benchmark.

Slack's scheme: ``v0=`` + hex HMAC-SHA256 of ``v0:{timestamp}:{raw body}`` with the app's
signing secret, sent as ``X-Slack-Signature`` beside ``X-Slack-Request-Timestamp``. The
signature is computed here independently of slack_sdk, so a test that signs with this and
verifies with Bolt checks one implementation against the other.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

# Slack's documented worked example (see REFERENCE.md in the project notes).
EXAMPLE_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
EXAMPLE_TIMESTAMP = 1531420618
EXAMPLE_BODY = (
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow"
    "&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner"
    "&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands"
    "%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    "&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
EXAMPLE_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


def signature(secret: str, timestamp: int | str, body: str | bytes) -> str:
    raw = body.encode() if isinstance(body, str) else body
    base = b"v0:" + str(timestamp).encode() + b":" + raw
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(
    secret: str, body: str | bytes, *, timestamp: int | None = None, content_type: str
) -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": signature(secret, ts, body),
    }


def command_body(
    text: str,
    *,
    response_url: str,
    team_id: str = "T0FAKE",
    channel_id: str = "C0GENERAL",
    user_id: str = "U0ALICE",
    command: str = "/chain",
) -> str:
    """A slash-command payload with the fields Slack sends."""
    return urlencode(
        {
            "token": "deprecated-verification-token",
            "team_id": team_id,
            "team_domain": "fake",
            "channel_id": channel_id,
            "channel_name": "general",
            "user_id": user_id,
            "user_name": "alice",
            "command": command,
            "text": text,
            "api_app_id": "A0CHAINBOT",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": "1337.42.abcdef",
        }
    )


def interactive_body(payload: dict[str, Any]) -> str:
    """Interactivity (buttons, shortcuts): ``payload=<json>``, form-encoded."""
    return urlencode({"payload": json.dumps(payload)})


def event_body(event: dict[str, Any], *, event_id: str, team_id: str = "T0FAKE") -> str:
    """An Events API ``event_callback`` envelope (JSON)."""
    return json.dumps(
        {
            "token": "deprecated-verification-token",
            "team_id": team_id,
            "api_app_id": "A0CHAINBOT",
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [{"team_id": team_id, "user_id": "U0CHAINBOT", "is_bot": True}],
        }
    )


FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
