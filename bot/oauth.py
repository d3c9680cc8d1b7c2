"""Distribution to many workspaces: Slack's OAuth v2 install flow and per-workspace tokens.

OAuth is on when ``SLACK_CLIENT_ID``, ``SLACK_CLIENT_SECRET`` and ``SLACK_STATE_SECRET`` are
all set (setting only some of them is a configuration error); otherwise the app runs in the
simple single-workspace mode with ``SLACK_BOT_TOKEN``.

* ``GET /slack/install`` shows the "Add to Slack" page; ``GET /slack/oauth_redirect`` finishes
  the install. Bolt runs both (the WSGI adapter answers them on any path it is given).
* Installations live in slack_sdk's ``SQLAlchemyInstallationStore`` and OAuth states in its
  ``SQLAlchemyOAuthStateStore``, on the same database as everything else; their tables are
  created by the migrations (revision 0002), never by ``create_tables``.
* Each state is also signed with ``SLACK_STATE_SECRET`` (HMAC-SHA256): a forged or altered
  state is refused before the database is asked, and a state is single-use and expires after
  ``STATE_TTL_SECONDS``.
* ``app_uninstalled`` and ``tokens_revoked`` (bot tokens) remove the workspace's installation
  and pause its digest subscriptions with that reason.
* ``token_for_team(team_id)`` gives the token to post into a workspace with, for code that
  runs outside a Slack request (the digest clock). With token rotation enabled it refreshes a
  token that expires within ``REFRESH_MARGIN_MINUTES`` before returning it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import App
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store import OAuthStateStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from slack_sdk.oauth.token_rotation import TokenRotator
from sqlalchemy import Engine, text

from store import db, subscriptions
from store.errors import ConfigError

log = logging.getLogger("chainbot.oauth")

CLIENT_ID_ENV = "SLACK_CLIENT_ID"
CLIENT_SECRET_ENV = "SLACK_CLIENT_SECRET"
STATE_SECRET_ENV = "SLACK_STATE_SECRET"
REDIRECT_URI_ENV = "SLACK_REDIRECT_URI"  # optional: Slack uses the app's only redirect URL

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
# The bot scopes of manifest.yml (tests/test_oauth.py keeps the two equal).
BOT_SCOPES = ("commands", "chat:write", "app_mentions:read", "channels:history", "users:read")
STATE_TTL_SECONDS = 600
# Refresh rotating tokens this long before they expire (Bolt's default for requests too).
REFRESH_MARGIN_MINUTES = 120
MIN_STATE_SECRET = 16

_CLIENT_ID = re.compile(r"^[0-9]+\.[0-9]+$")


@dataclass(frozen=True)
class OAuthConfig:
    client_id: str
    client_secret: str = field(repr=False)
    state_secret: str = field(repr=False)
    redirect_uri: str | None = None

    def secrets(self) -> tuple[str, ...]:
        """For log scrubbing (``bot.app.RedactSecrets``)."""
        return (self.client_secret, self.state_secret)


def load() -> OAuthConfig | None:
    """The OAuth settings from the environment; None in single-workspace mode."""
    names = (CLIENT_ID_ENV, CLIENT_SECRET_ENV, STATE_SECRET_ENV)
    values = {name: os.environ.get(name, "").strip() for name in names}
    if not any(values.values()):
        return None
    for name in names:
        if not values[name]:
            raise ConfigError(f"{name} is not set ({', '.join(names)} go together for OAuth)")
    if not _CLIENT_ID.match(values[CLIENT_ID_ENV]):
        raise ConfigError(f"{CLIENT_ID_ENV} is malformed (expected digits.digits)")
    if len(values[STATE_SECRET_ENV]) < MIN_STATE_SECRET:
        raise ConfigError(f"{STATE_SECRET_ENV} must be at least {MIN_STATE_SECRET} characters")
    redirect = os.environ.get(REDIRECT_URI_ENV, "").strip() or None
    if redirect is not None and not redirect.startswith("https://"):
        raise ConfigError(f"{REDIRECT_URI_ENV} must be an https:// URL")
    return OAuthConfig(
        client_id=values[CLIENT_ID_ENV],
        client_secret=values[CLIENT_SECRET_ENV],
        state_secret=values[STATE_SECRET_ENV],
        redirect_uri=redirect,
    )


class SignedStateStore(OAuthStateStore):
    """slack_sdk's database state store, each state signed with the state secret."""

    def __init__(self, inner: OAuthStateStore, secret: str) -> None:
        self._inner = inner
        self._key = secret.encode()

    @property
    def logger(self) -> logging.Logger:
        return log

    def _sign(self, raw: str) -> str:
        return hmac.new(self._key, raw.encode(), hashlib.sha256).hexdigest()[:32]

    def issue(self, *args: Any, **kwargs: Any) -> str:
        raw = self._inner.issue(*args, **kwargs)
        return f"{raw}.{self._sign(raw)}"

    def consume(self, state: str) -> bool:
        raw, _, signature = state.rpartition(".")
        if not raw or not hmac.compare_digest(signature, self._sign(raw)):
            log.warning("refused an OAuth state with a bad signature")
            return False
        return self._inner.consume(raw)


def installation_store(engine: Engine, cfg: OAuthConfig) -> SQLAlchemyInstallationStore:
    return SQLAlchemyInstallationStore(client_id=cfg.client_id, engine=engine, logger=log)


def oauth_settings(cfg: OAuthConfig, engine: Engine) -> OAuthSettings:
    """Bolt's OAuth settings: pass as ``App(oauth_settings=...)`` (and no bot token)."""
    states = SQLAlchemyOAuthStateStore(
        expiration_seconds=STATE_TTL_SECONDS, engine=engine, logger=log
    )
    return OAuthSettings(
        client_id=cfg.client_id,
        client_secret=cfg.client_secret,
        scopes=list(BOT_SCOPES),
        redirect_uri=cfg.redirect_uri,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        installation_store=installation_store(engine, cfg),
        state_store=SignedStateStore(states, cfg.state_secret),
        state_expiration_seconds=STATE_TTL_SECONDS,
        token_rotation_expiration_minutes=REFRESH_MARGIN_MINUTES,
    )


# --------------------------------------------------------------------------- uninstalling


def forget_workspace(
    engine: Engine,
    store: SQLAlchemyInstallationStore,
    *,
    team_id: str,
    enterprise_id: str | None,
    reason: str,
) -> int:
    """Delete the workspace's installation and bot, pause its subscriptions; returns how many
    subscriptions were paused. Other workspaces are untouched."""
    store.delete_all(enterprise_id=enterprise_id, team_id=team_id)
    paused = subscriptions.pause_team(engine, team_id=team_id, reason=reason)
    log.info(
        "workspace %s: installation removed (%s), %d subscription(s) paused",
        team_id,
        reason,
        paused,
    )
    return paused


def register_uninstall_listeners(app: App, engine: Engine, cfg: OAuthConfig) -> None:
    """``app_uninstalled`` and ``tokens_revoked`` (when bot tokens are revoked)."""
    store = installation_store(engine, cfg)

    @app.event("app_uninstalled")
    def on_app_uninstalled(body: dict[str, Any]) -> None:
        forget_workspace(
            engine,
            store,
            team_id=str(body.get("team_id")),
            enterprise_id=body.get("enterprise_id"),
            reason="app_uninstalled",
        )

    @app.event("tokens_revoked")
    def on_tokens_revoked(body: dict[str, Any], event: dict[str, Any]) -> None:
        tokens = event.get("tokens") or {}
        team_id, enterprise_id = str(body.get("team_id")), body.get("enterprise_id")
        if tokens.get("bot"):
            forget_workspace(
                engine,
                store,
                team_id=team_id,
                enterprise_id=enterprise_id,
                reason="tokens_revoked",
            )
        for user_id in tokens.get("oauth") or []:
            store.delete_installation(
                enterprise_id=enterprise_id, team_id=team_id, user_id=str(user_id)
            )


# --------------------------------------------------------------------------- tokens


# One refresh at a time: a thread lock in this process, and on PostgreSQL an advisory lock
# per workspace across processes (a refresh token must not be spent twice). Whoever waits
# re-reads the installation and finds the token already fresh.
_refresh_lock = threading.Lock()


@contextmanager
def _workspace_lock(engine: Engine, team_id: str) -> Iterator[None]:
    with _refresh_lock:
        if engine.dialect.name != "postgresql":
            yield  # SQLite: one host; the thread lock is the lock
            return
        digest = hashlib.sha256(f"chainbot-token:{team_id}".encode()).digest()
        key = int.from_bytes(digest[:8], "big", signed=True)
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                conn.commit()


class TokenSource:
    """The bot token for a workspace, outside a Slack request.

    Single-workspace mode: always ``bot_token``. OAuth mode: the workspace's installed bot
    token, refreshed first when token rotation is on and it expires soon (the refreshed token
    is saved, so every process sees it)."""

    def __init__(
        self,
        engine: Engine,
        cfg: OAuthConfig | None,
        *,
        bot_token: str | None = None,
        api_url: str | None = None,
    ) -> None:
        if cfg is None and not bot_token:
            raise ConfigError("a bot token or the OAuth settings are needed")
        self._bot_token = bot_token
        self._engine = engine
        self._store = installation_store(engine, cfg) if cfg else None
        client = WebClient(base_url=api_url) if api_url else WebClient()
        self._rotator = (
            TokenRotator(client_id=cfg.client_id, client_secret=cfg.client_secret, client=client)
            if cfg
            else None
        )

    def for_team(self, team_id: str, enterprise_id: str | None = None) -> str | None:
        """The token to post into ``team_id`` with; None when the workspace is not installed
        (uninstalled) or its token could not be refreshed."""
        if self._store is None or self._rotator is None:
            return self._bot_token
        with _workspace_lock(self._engine, team_id):
            installation = self._store.find_installation(
                enterprise_id=enterprise_id, team_id=team_id
            )
            if installation is None or not installation.bot_token:
                return None
            try:
                rotated = self._rotator.perform_token_rotation(
                    installation=installation,
                    minutes_before_expiration=REFRESH_MARGIN_MINUTES,
                )
            except SlackApiError as exc:
                error = exc.response.get("error") if exc.response is not None else None
                log.warning("workspace %s: token refresh refused (%s)", team_id, error)
                return None
            if rotated is not None:
                self._store.save(rotated)
                log.info("workspace %s: bot token refreshed", team_id)
                return rotated.bot_token
            return installation.bot_token


def token_source_from_env(engine: Engine | None = None) -> TokenSource:
    """OAuth when configured, else ``SLACK_BOT_TOKEN``; the Web API at ``SLACK_API_URL``."""
    from bot.config import API_URL_ENV, BOT_TOKEN_ENV, DEFAULT_API_URL

    api_url = os.environ.get(API_URL_ENV, "").strip() or DEFAULT_API_URL
    if not api_url.endswith("/"):
        api_url += "/"
    return TokenSource(
        engine or db.get_engine(),
        load(),
        bot_token=os.environ.get(BOT_TOKEN_ENV, "").strip() or None,
        api_url=api_url,
    )


def token_for_team(team_id: str, enterprise_id: str | None = None) -> str | None:
    """The token to post into ``team_id`` with, from the environment's configuration (for the
    digest clock: call it right before posting, so a rotating token is fresh)."""
    return token_source_from_env().for_team(team_id, enterprise_id)


def clock_client_factory(engine: Engine, api_url: str) -> Callable[[str], WebClient]:
    """``bot.clock``'s ``ClientFactory`` for OAuth mode: every call looks the workspace's token
    up (refreshing a rotating one) right before the post. An uninstalled workspace gets a
    client without a token, which Slack answers with ``not_authed``."""
    from bot.delivery import delivery_client

    cfg = load()
    if cfg is None:
        raise ConfigError("OAuth is not configured (SLACK_CLIENT_ID, ...)")
    source = TokenSource(engine, cfg, api_url=api_url)
    return lambda team_id: delivery_client(source.for_team(team_id) or "", api_url)
