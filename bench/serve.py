"""Starting and stopping real ``chainbot serve`` processes for the benchmarks, and the
bench-only variants of the same server (``python -m bench.serve noop|uncached``)."""

from __future__ import annotations

import http.client
import signal
import socket
import subprocess
import sys
import time

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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit("the server did not become healthy")


def start_server(
    variant: str, env: dict[str, str], workers: int | None
) -> tuple[subprocess.Popen[bytes], int]:
    """``chain``: the real ``chainbot serve``; ``noop``/``uncached``: this script's own
    bench-only variants of the same server."""
    port = _free_port()
    if variant == "chain":
        args = [sys.executable, "-c", "from bot.cli import main; main()", "serve"]
        args += ["--host", "127.0.0.1"]
    else:
        args = [sys.executable, "-m", "bench.serve", variant]
    if workers:
        args += ["--workers", str(workers)]
    process = subprocess.Popen(
        args, env={**env, "PORT": str(port)}, cwd=ROOT, stdout=subprocess.DEVNULL
    )
    _wait_healthy(port, process)
    return process, port


def stop(process: subprocess.Popen[bytes]) -> None:
    # SIGINT is gunicorn's quick shutdown; nothing is in flight once the load has finished.
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


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
