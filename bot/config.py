"""The Slack app's settings, from the environment only.

A missing or malformed variable raises ``ConfigError`` with one line that names the variable
and never its value (``chainbot`` turns it into exit code 2). Secrets are kept out of
``repr`` so a stray log line or traceback cannot print them.
"""

from __future__ import annotations

import importlib
import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from store import config as store_config
from store.errors import ConfigError

if TYPE_CHECKING:
    from bot.oauth import OAuthConfig

BOT_TOKEN_ENV = "SLACK_BOT_TOKEN"
SIGNING_SECRET_ENV = "SLACK_SIGNING_SECRET"
APP_TOKEN_ENV = "SLACK_APP_TOKEN"
PORT_ENV = "PORT"
API_URL_ENV = "SLACK_API_URL"

OAUTH_MODULE = "bot.oauth"

DEFAULT_PORT = 3000
DEFAULT_API_URL = "https://slack.com/api/"

# "clock": the digest clock alone (a bot token or OAuth; no signing secret, no app token).
Mode = Literal["http", "socket", "clock"]

# Slack tokens are "xoxb-..." (bot) and "xapp-..." (app-level); printable, no spaces.
_TOKEN_BODY = re.compile(r"^[A-Za-z0-9-]+$")


@dataclass(frozen=True)
class SlackConfig:
    bot_token: str | None = field(repr=False)  # None only in OAuth mode
    signing_secret: str | None = field(repr=False)
    app_token: str | None = field(repr=False)
    database_url: str = field(repr=False)  # may carry a password
    port: int = DEFAULT_PORT
    api_url: str = DEFAULT_API_URL
    mode: Mode = "http"
    oauth: OAuthConfig | None = field(default=None, repr=False)

    def secrets(self) -> tuple[str, ...]:
        """Every secret value, for log scrubbing."""
        found = [self.bot_token, self.signing_secret, self.app_token]
        if self.oauth is not None:
            found.extend(self.oauth.secrets())
        return tuple(s for s in found if s)


def _required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ConfigError(f"{name} is not set")
    return value


def _token(name: str, prefix: str) -> str:
    value = _required(name)
    if not value.startswith(prefix) or not _TOKEN_BODY.match(value):
        raise ConfigError(f"{name} is malformed (expected a token starting with {prefix})")
    return value


def _signing_secret() -> str:
    value = _required(SIGNING_SECRET_ENV)
    if not value.isascii() or not value.isalnum():
        raise ConfigError(f"{SIGNING_SECRET_ENV} is malformed (expected letters and digits)")
    return value


def _port() -> int:
    raw = os.environ.get(PORT_ENV, "").strip()
    if not raw:
        return DEFAULT_PORT
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ConfigError(f"{PORT_ENV} must be a TCP port number between 1 and 65535")
    return int(raw)


def _api_url() -> str:
    raw = os.environ.get(API_URL_ENV, "").strip()
    if not raw:
        return DEFAULT_API_URL
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{API_URL_ENV} must be an http(s) URL such as {DEFAULT_API_URL}")
    # WebClient joins method names onto the base URL, so it must end with a slash.
    return raw if raw.endswith("/") else raw + "/"


def _oauth() -> OAuthConfig | None:
    """OAuth distribution settings (``bot.oauth``), or None for one workspace."""
    try:
        oauth = importlib.import_module(OAUTH_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != OAUTH_MODULE:
            raise
        return None
    return oauth.load()


def load(mode: Mode = "http") -> SlackConfig:
    """Read and check every variable the chosen mode needs.

    HTTP mode with ``SLACK_CLIENT_ID``/``SLACK_CLIENT_SECRET``/``SLACK_STATE_SECRET`` set is
    OAuth distribution: each workspace's token comes from its installation, so
    ``SLACK_BOT_TOKEN`` is optional (and unused by the app). Socket Mode is one workspace."""
    oauth = _oauth() if mode in ("http", "clock") else None
    needs_token = oauth is None or bool(os.environ.get(BOT_TOKEN_ENV, "").strip())
    bot_token = _token(BOT_TOKEN_ENV, "xoxb-") if needs_token else None
    signing_secret = _signing_secret() if mode == "http" else None
    app_token = _token(APP_TOKEN_ENV, "xapp-") if mode == "socket" else None
    return SlackConfig(
        oauth=oauth,
        bot_token=bot_token,
        signing_secret=signing_secret,
        app_token=app_token,
        database_url=store_config.database_url(),
        port=_port(),
        api_url=_api_url(),
        mode=mode,
    )
