"""The production HTTP runtime: the Bolt app behind gunicorn.

Why gunicorn (and not Bolt's development server or waitress): it is already a dependency, it
is the WSGI server Bolt documents for production, and its pre-fork model uses both cores of a
small machine (waitress is one process, so one core under the GIL). Each worker runs the
``gthread`` worker class, so a slow Slack call in one request does not hold up the others.

The store is opened (and built if empty) once in the master before forking, so the workers
never race to build it; each worker then opens its own connections (SQLAlchemy engines must
not share pooled connections across ``fork``).

Endpoints: ``POST /slack/events`` (slash commands, events and interactivity; OAuth paths when
an OAuth flow is configured) and ``GET /healthz``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from typing import Any

from gunicorn.app.base import BaseApplication
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from store import Store

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def wsgi_app(bolt_app: App, store: Store) -> WsgiApp:
    """``/healthz`` answered here (it checks the database), everything else by Bolt."""
    slack = SlackRequestHandler(bolt_app, path=EVENTS_PATH)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH and environ.get("REQUEST_METHOD") == "GET":
            try:
                body = {"ok": True, "store_generation": store.generation()}
                status = "200 OK"
            except Exception:  # a health check reports, it never raises
                body, status = (
                    {"ok": False, "error": "database unavailable"},
                    "503 Service Unavailable",
                )
            data = json.dumps(body).encode()
            start_response(
                status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
            )
            return [data]
        return slack(environ, start_response)

    return application


def default_workers() -> int:
    """``WEB_CONCURRENCY`` (the convention gunicorn and Heroku share), else one per core, at
    least two."""
    raw = os.environ.get("WEB_CONCURRENCY", "").strip()
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    return max(2, os.cpu_count() or 1)


class ChainbotServer(BaseApplication):
    """gunicorn, configured in code; ``load`` runs in each worker and builds the app there."""

    def __init__(self, factory: Callable[[], WsgiApp], options: dict[str, Any]) -> None:
        self._factory = factory
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> WsgiApp:
        return self._factory()


def run(
    factory: Callable[[], WsgiApp],
    *,
    host: str,
    port: int,
    workers: int | None = None,
    threads: int = 8,
    on_starting: Callable[[], None] | None = None,
) -> None:
    """Serve until SIGTERM/SIGINT (gunicorn handles both gracefully)."""
    options = {
        "bind": f"{host}:{port}",
        "workers": workers or default_workers(),
        "worker_class": "gthread",
        "threads": threads,
        "timeout": 30,
        "graceful_timeout": 10,
        "keepalive": 5,
        "accesslog": None,  # request lines would add noise, never needed secrets
        "errorlog": "-",
        "loglevel": "warning",
        "proc_name": "chainbot",
        "preload_app": False,
    }
    if on_starting is not None:
        options["when_ready"] = lambda _arbiter: on_starting()
    ChainbotServer(factory, options).run()
