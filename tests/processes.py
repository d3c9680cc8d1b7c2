"""Real ``chainbot`` processes for end-to-end tests and the benchmarks: the command line, a
free loopback port, waiting until ``/healthz`` answers, and stopping however they are."""

from __future__ import annotations

import http.client
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable


def chainbot_command() -> list[str]:
    """The installed console script, or the same entry point through this interpreter."""
    script = shutil.which("chainbot")
    return [script] if script else [sys.executable, "-c", "from bot.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(
    port: int,
    process: subprocess.Popen[bytes],
    *,
    timeout: float = 60,
    output: Callable[[], str] = lambda: "",
) -> None:
    """Return once ``GET /healthz`` answers 200; RuntimeError (with the process's ``output``)
    if it exits or never becomes healthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chainbot serve exited with {process.returncode}: {output()}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"chainbot serve did not become healthy in {timeout:g} s")


def stop(
    process: subprocess.Popen[bytes], sig: signal.Signals = signal.SIGINT, timeout: float = 20
) -> None:
    """Ask the process to stop (SIGINT is gunicorn's quick shutdown), kill it if it will not."""
    process.send_signal(sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
