"""Benchmark: signed ``/chain`` requests against ``chainbot serve``, beside a baseline.

All runs use the same gunicorn server, worker count, Bolt app and signature checks, against
the same database; the baseline's ``/chain`` handler acks at once with no work (the app
factory's ``noop_commands``). The difference is the cost of answering: parsing, the store
lookup and rendering the card. A third row, for information, is the same ``/chain`` with the
per-build answer memo (``bot.cache``) turned off: every request asks the database and
renders, which is what each worker's first request for a name costs.

    python -m bench.http                 # 20 concurrent clients, 40 requests each
    python -m bench.http --quick         # a short run (used by the test suite)
    python -m bench.http --database-url postgresql+psycopg://...   # another database

Prints p50/p99 latency and requests per second for each, the /chain : no-op ratio, and the
targets (p99 under 100 ms; at least 70% of the baseline's throughput).
"""

from __future__ import annotations

import argparse
import http.client
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from fakeslack import FakeSlack
from processes import stop
from slack_signing import FORM, command_body, signed_headers

from bench.serve import QUERIES, start_server

TOKEN = "xoxb-bench-0000-notarealtoken"
SECRET = "benchsecret0123456789abcdef0123"
P99_TARGET_MS = 100.0
THROUGHPUT_TARGET = 0.70


@dataclass(frozen=True)
class Result:
    label: str
    latencies_ms: list[float]
    seconds: float
    errors: int

    @property
    def count(self) -> int:
        return len(self.latencies_ms)

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
        return ordered[index]

    @property
    def rps(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0


def run_load(label: str, port: int, response_url: str, clients: int, per_client: int) -> Result:
    """``clients`` threads, each with its own keep-alive connection, each sending
    ``per_client`` freshly signed slash commands back to back."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    start_gate = threading.Barrier(clients + 1)

    def client(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        start_gate.wait()
        for i in range(per_client):
            text = QUERIES[(index + i) % len(QUERIES)]
            body = command_body(text, response_url=response_url, user_id=f"U0BENCH{index}")
            headers = signed_headers(SECRET, body, content_type=FORM)
            began = time.perf_counter()
            try:
                conn.request("POST", "/slack/events", body=body.encode(), headers=headers)
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except OSError:
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine.append((time.perf_counter() - began) * 1000)
            if not ok:
                with lock:
                    errors[0] += 1
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    start_gate.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return Result(label, latencies, time.perf_counter() - began, errors[0])


def _row(cells: list[str], widths: list[int]) -> str:
    return (
        "| "
        + " | ".join(
            c.rjust(w) if i else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )
        + " |"
    )


def print_table(results: list[Result], clients: int, database: str) -> None:
    head = ["server", "requests", "clients", "errors", "p50 ms", "p99 ms", "req/s"]
    rows = [
        [
            r.label,
            str(r.count),
            str(clients),
            str(r.errors),
            f"{r.percentile(50):.1f}",
            f"{r.percentile(99):.1f}",
            f"{r.rps:.0f}",
        ]
        for r in results
    ]
    widths = [max(len(x) for x in col) for col in zip(head, *rows, strict=True)]
    print(f"database: {database}")
    print(_row(head, widths))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print(_row(row, widths))
    chain, noop = results[0], results[-1]
    ratio = chain.rps / noop.rps if noop.rps else float("nan")
    p99 = chain.percentile(99)
    print(f"/chain throughput / no-op throughput: {ratio:.0%}")
    p99_met = "met" if p99 < P99_TARGET_MS else "MISSED"
    ratio_met = "met" if ratio >= THROUGHPUT_TARGET else "MISSED"
    print(
        f"targets: /chain p99 < {P99_TARGET_MS:.0f} ms: {p99_met} ({p99:.1f} ms); "
        f"throughput >= {THROUGHPUT_TARGET:.0%} of no-op: {ratio_met} ({ratio:.0%})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=40, help="per client (default 40)")
    parser.add_argument("--database-url", help="default: a fresh SQLite store in a temp dir")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: chainbot's)")
    parser.add_argument("--quick", action="store_true", help="a short run: 5 clients x 6")
    args = parser.parse_args()
    clients, per_client = (5, 6) if args.quick else (args.clients, args.requests)

    with tempfile.TemporaryDirectory() as tmp, FakeSlack() as fake:
        database = args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("SLACK_")},
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.api_url,
            "DATABASE_URL": database,
        }
        results = []
        variants = (("/chain", "chain"), ("/chain, no memo", "uncached"), ("no-op", "noop"))
        for label, variant in variants:
            process, port = start_server(variant, env, args.workers)
            try:
                # Warm up: every worker's first request runs Bolt's auth.test.
                run_load("warm-up", port, fake.response_url(), clients, 2)
                results.append(run_load(label, port, fake.response_url(), clients, per_client))
            finally:
                stop(process)
        shown = database.split("@")[-1] if "@" in database else database
        print_table(results, clients, shown)


if __name__ == "__main__":
    main()
