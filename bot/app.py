"""The Bolt app factory: one place that wires configuration, the store and the listeners.

``create_app`` is used by every runtime (gunicorn workers, Socket Mode, tests). Listeners are
grouped by kind under ``bot.listeners``; the ``/chain`` grammar lives in ``bot.dispatch``.
When ``bot.listeners.digest_commands`` exists (the weekly digest), it is imported so its
subcommands register themselves with the dispatcher, and its ``register(app, deps)`` is called
if it defines one.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient
from sqlalchemy import Engine, delete
from sqlalchemy.exc import IntegrityError

from bot.cache import CachedStore
from bot.config import SlackConfig
from bot.home import QueryRecorder
from bot.slack_client import make_client
from store import Store, db
from store.models import EventReceipt

log = logging.getLogger("chainbot.slack")

DIGEST_COMMANDS_MODULE = "bot.listeners.digest_commands"
# Retries arrive within minutes; a day of receipts is plenty and keeps the table small.
RECEIPT_TTL = dt.timedelta(days=1)
PRUNE_EVERY = 500


@dataclass
class Deps:
    """What listeners need besides Bolt's own arguments (the Web API client is Bolt's
    per-request ``client``: it holds the token of the workspace the request came from)."""

    store: CachedStore  # the fact store, memoised per build; app tables via store.engine
    config: SlackConfig
    recorder: QueryRecorder
    # Receipts claimed by this process; approximate under threads, it only paces pruning.
    claims: int = field(default=0, repr=False)


class RedactSecrets(logging.Filter):
    """Replaces any configured secret that reaches a log record with ``[redacted]``."""

    def __init__(self, secrets: tuple[str, ...]) -> None:
        super().__init__()
        self._secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(secret in message for secret in self._secrets):
            for secret in self._secrets:
                message = message.replace(secret, "[redacted]")
            record.msg, record.args = message, None
        if record.exc_info and record.exc_info[1] is not None:
            text = str(record.exc_info[1])
            if any(secret in text for secret in self._secrets):
                record.exc_info = None
                record.exc_text = None
        return True


class _QuietClientWarning(logging.Filter):
    """Bolt warns that ``SLACK_BOT_TOKEN`` is unused whenever a client is passed, and it
    always is (ours carries the retry policy and ``SLACK_API_URL``); the client holds that
    same token."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "token` will be unused" not in record.getMessage()


def install_redaction(config: SlackConfig) -> None:
    """Attach the redacting filter to every handler of the root logger (idempotent)."""
    redact = RedactSecrets(config.secrets())
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(
            level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s"
        )
    for handler in root.handlers:
        for old in [f for f in handler.filters if isinstance(f, RedactSecrets)]:
            handler.removeFilter(old)
        handler.addFilter(redact)


def claim_event(engine: Engine, event_id: str, team_id: str | None) -> bool:
    """Insert the event's receipt; False when another delivery (or process) got there first.
    The primary key decides, so this holds across processes and replicas."""
    try:
        with db.session_scope(engine) as session:
            session.add(EventReceipt(event_id=event_id, team_id=team_id))
    except IntegrityError:
        return False
    return True


def prune_receipts(engine: Engine, now: dt.datetime | None = None) -> int:
    """Forget receipts older than ``RECEIPT_TTL``; returns how many."""
    cutoff = (now or dt.datetime.now(dt.UTC)) - RECEIPT_TTL
    with db.session_scope(engine) as session:
        result = session.execute(delete(EventReceipt).where(EventReceipt.received_at < cutoff))
        return int(result.rowcount or 0)


def _dedupe_events(deps: Deps) -> Callable[[dict[str, Any], Any], BoltResponse | None]:
    """Global middleware: a redelivered event is acknowledged and goes no further."""

    def dedupe_events(body: dict[str, Any], next: Any) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id:
            if not claim_event(deps.store.engine, str(event_id), body.get("team_id")):
                log.info("event %s already handled; acknowledging the redelivery", event_id)
                return BoltResponse(status=200, body="")
            deps.claims += 1
            if deps.claims % PRUNE_EVERY == 0:
                prune_receipts(deps.store.engine)
        next()
        return None

    return dedupe_events


def _on_error(error: Exception, body: dict[str, Any]) -> None:
    # Bolt's default would log the whole request body; the type and the error are enough.
    log.error("unhandled %s in a listener: %s", body.get("type", "request"), error, exc_info=error)


def _bolt_logger() -> logging.Logger:
    logger = logging.getLogger("chainbot.bolt")
    if not any(isinstance(f, _QuietClientWarning) for f in logger.filters):
        logger.addFilter(_QuietClientWarning())
    return logger


def _bolt_app(config: SlackConfig, store: Store, client: WebClient | None) -> App:
    """One workspace (``SLACK_BOT_TOKEN``) or many (OAuth, ``bot.oauth``). Either way the
    listeners use Bolt's per-request client, which copies this base client's Web API URL and
    retry policy and carries the token of the workspace the request came from."""
    common: dict[str, Any] = {
        "signing_secret": config.signing_secret or "",
        "request_verification_enabled": config.mode == "http",
        "logger": _bolt_logger(),
    }
    if config.oauth is None:
        return App(
            client=client or make_client(config.bot_token, config.api_url),
            # The CLI checks the token once before starting; workers learn the bot's user id
            # from Bolt's lazy auth.test on their first request.
            token_verification_enabled=False,
            **common,
        )
    from bot import oauth

    if config.bot_token:
        log.warning("OAuth mode: SLACK_BOT_TOKEN is not used (each workspace has its own token)")
    app = App(
        client=client or make_client(None, config.api_url),
        oauth_settings=oauth.oauth_settings(config.oauth, store.engine),
        **common,
    )
    oauth.register_uninstall_listeners(app, store.engine, config.oauth)
    return app


def create_app(
    config: SlackConfig,
    store: Store,
    *,
    client: WebClient | None = None,
    noop_commands: bool = False,
    cache: bool = True,
) -> App:
    """The Bolt app. ``noop_commands`` makes ``/chain`` ack at once with an empty body: the
    baseline of ``bench.http`` (same server, same signature checks, no work); ``cache=False``
    turns off the per-build answer memo (``bot.cache``), for the same benchmark."""
    install_redaction(config)
    app = _bolt_app(config, store, client)
    deps = Deps(
        store=CachedStore(store, enabled=cache),
        config=config,
        recorder=QueryRecorder(store.engine),
    )
    app.error(_on_error)
    app.middleware(_dedupe_events(deps))

    from bot.listeners import register_all

    if noop_commands:
        from bot.listeners.commands import register_noop

        register_noop(app)
        return app
    try:
        digest = importlib.import_module(DIGEST_COMMANDS_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != DIGEST_COMMANDS_MODULE:
            raise
        digest = None
    register_all(app, deps)
    if digest is not None and hasattr(digest, "register"):
        digest.register(app, deps)
    return app
