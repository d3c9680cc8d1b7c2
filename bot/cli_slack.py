"""``chainbot serve``: run the Slack app, over HTTP behind gunicorn or over Socket Mode."""

from __future__ import annotations

import importlib
import logging
import signal
import threading
from typing import Any

import click
from slack_sdk.errors import SlackApiError, SlackRequestError

from bot import config as slack_config
from bot.cli import main
from store import Store
from store.errors import ConfigError, StoreError

log = logging.getLogger("chainbot.serve")

CLOCK_MODULE = "bot.clock"


def check_token(cfg: slack_config.SlackConfig) -> None:
    """Ask Slack (auth.test) whether the bot token works, once, before serving: a revoked or
    mistyped token is a configuration error, not a crash in every worker."""
    from bot.slack_client import make_client

    try:
        make_client(cfg.bot_token, cfg.api_url).auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error", "error") if exc.response is not None else "error"
        raise ConfigError(f"{slack_config.BOT_TOKEN_ENV} was refused by Slack ({error})") from None
    except (SlackRequestError, OSError) as exc:
        raise StoreError(
            f"cannot reach the Slack Web API at {slack_config.API_URL_ENV} ({type(exc).__name__})"
        ) from None


def start_clock(cfg: slack_config.SlackConfig) -> Any:
    """Start the digest clock in background threads of this process
    (``bot.clock.start_background(cfg)``, from the weekly digest)."""
    try:
        clock = importlib.import_module(CLOCK_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != CLOCK_MODULE:
            raise
        raise ConfigError(
            "--with-clock needs the weekly digest (bot.clock), which is not installed"
        ) from None
    return clock.start_background(cfg)


def open_store(cfg: slack_config.SlackConfig) -> Store:
    """Open the store once; the first run builds it (with progress on stderr)."""

    def progress(stage: str, done: int, total: int) -> None:
        if total and done in (0, total):
            click.echo(f"building the fact store: {stage} {done}/{total}", err=True)

    return Store.open(cfg.database_url, build_if_empty=True, progress=progress)


@main.command()
@click.option("--socket", "socket_mode", is_flag=True, help="Socket Mode (SLACK_APP_TOKEN).")
@click.option("--with-clock", is_flag=True, help="Also run the weekly digest clock here.")
@click.option(
    "--host", default="0.0.0.0", show_default=True, help="HTTP mode: address to listen on."
)
@click.option("--workers", type=click.IntRange(1, 64), help="HTTP mode: gunicorn workers.")
def serve(socket_mode: bool, with_clock: bool, host: str, workers: int | None) -> None:
    """Run the Slack app: HTTP on $PORT (POST /slack/events, GET /healthz) or Socket Mode."""
    cfg = slack_config.load("socket" if socket_mode else "http")
    store = open_store(cfg)
    if cfg.oauth is None:
        check_token(cfg)
    if socket_mode:
        if with_clock:
            start_clock(cfg)
        _serve_socket(cfg, store)
    else:
        _serve_http(cfg, store, host=host, workers=workers, with_clock=with_clock)


def _serve_http(
    cfg: slack_config.SlackConfig,
    store: Store,
    *,
    host: str,
    workers: int | None,
    with_clock: bool,
) -> None:
    from bot import server
    from bot.app import create_app

    # The workers fork from this process: give them no pooled connection to share.
    store.engine.dispose()

    def on_starting() -> None:
        # In the gunicorn master, which never serves requests: the clock's threads stay
        # there and are not duplicated into each worker.
        if with_clock:
            start_clock(cfg)

    def factory() -> server.WsgiApp:
        worker_store = Store.open(cfg.database_url, build_if_empty=False)
        worker_store.engine.dispose(close=False)
        return server.wsgi_app(create_app(cfg, worker_store), worker_store)

    click.echo(f"chainbot: serving HTTP on {host}:{cfg.port} (/slack/events, /healthz)", err=True)
    server.run(factory, host=host, port=cfg.port, workers=workers, on_starting=on_starting)


def _serve_socket(cfg: slack_config.SlackConfig, store: Store) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.app import create_app

    app = create_app(cfg, store)
    click.echo("chainbot: connecting to Slack in Socket Mode", err=True)
    handler = SocketModeHandler(app, app_token=cfg.app_token)
    try:
        handler.connect()
    except SlackApiError as exc:
        error = exc.response.get("error", "error") if exc.response is not None else "error"
        raise ConfigError(f"{slack_config.APP_TOKEN_ENV} was refused by Slack ({error})") from None
    except (SlackRequestError, OSError) as exc:
        raise StoreError(f"cannot reach Slack for Socket Mode ({type(exc).__name__})") from None
    click.echo("chainbot: connected in Socket Mode", err=True)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    handler.close()
