"""Starting real ``chainbot serve`` processes for the benchmarks (the process helpers are the
test suite's, ``tests/processes.py``), and the bench-only variants of the same server
(``python -m bench.serve noop|uncached``)."""

from __future__ import annotations

import subprocess
import sys

from processes import chainbot_command, free_port, wait_healthy

from bench import ROOT

# Names the seed store knows (cards of different sizes), a typo and a miss.
QUERIES = (
    "Qingdao",
    "Shanghai",
    "Chongqing",
    "Shandong",
    "Bubi",
    "Lingang",
    "Qingdoa",
    "Atlantis",
    "help",
    "list companies",
)


def start_server(
    variant: str, env: dict[str, str], workers: int | None
) -> tuple[subprocess.Popen[bytes], int]:
    """``chain``: the real ``chainbot serve``; ``noop``/``uncached``: this script's own
    bench-only variants of the same server."""
    port = free_port()
    if variant == "chain":
        args = [*chainbot_command(), "serve"]
        args += ["--host", "127.0.0.1"]
    else:
        args = [sys.executable, "-m", "bench.serve", variant]
    if workers:
        args += ["--workers", str(workers)]
    process = subprocess.Popen(
        args, env={**env, "PORT": str(port)}, cwd=ROOT, stdout=subprocess.DEVNULL
    )
    wait_healthy(port, process, timeout=120)
    return process, port


def serve_variant(variant: str) -> None:
    """A bench-only server (``python -m bench.serve VARIANT``): ``noop`` acks ``/chain`` at
    once; ``uncached`` answers without the per-build memo."""
    from bot import config as slack_config
    from bot import server
    from bot.app import create_app
    from store import Store

    workers = None
    if "--workers" in sys.argv:
        workers = int(sys.argv[sys.argv.index("--workers") + 1])
    cfg = slack_config.load("http")
    Store.open(cfg.database_url).engine.dispose()

    def factory() -> server.WsgiApp:
        store = Store.open(cfg.database_url, build_if_empty=False)
        store.engine.dispose(close=False)
        app = create_app(cfg, store, noop_commands=variant == "noop", cache=variant != "uncached")
        return server.wsgi_app(app, store)

    server.run(factory, host="127.0.0.1", port=cfg.port, workers=workers)


if __name__ == "__main__":
    serve_variant(sys.argv[1])
