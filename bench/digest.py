"""Benchmark: the weekly digest fanned out to many subscribed channels by several racing clock
processes, beside web replicas, all on one database, against the fake Slack Web API enforcing
Slack's posting limits: the deployment topology of a scaled-out Chain Bot.

    python -m bench.digest                  # 1,000 channels, 2 clocks, 2 web replicas (~3 min)
    python -m bench.digest --quick          # 60 channels, a tighter workspace window
    python -m bench.digest --database-url postgresql+psycopg://... --clocks 3 --web-replicas 2

Two runs, same code, same database, measured in this process:

* **baseline**: the fake answers every post at once (no limits). What the clock costs itself
  (claims, composition, HTTP), still pacing each channel at one message a second.
* **Slack limits**: the fake refuses with HTTP 429 + ``Retry-After`` any post over 1 message a
  second to one channel, or over the workspace budget: ``--workspace-count`` posts per rolling
  ``--workspace-seconds`` (default 400 per 30 s: a burst of 400, then 800 a minute, in line with
  Slack's "several hundred per minute"). Its lower bound is the time those limits allow at best:
  the larger of the per-channel bound ((messages per channel - 1) s) and the workspace bound
  (floor((messages - 1) / count) x seconds).

**Web replicas** (``--web-replicas``, default 2, on SQLite as on PostgreSQL): real ``chainbot
serve`` processes (HTTP, one gunicorn worker each, so that replicas and clocks fit two cores)
on their own 127.0.0.1 ports. Every channel subscribes through them: a signed ``/chain
subscribe monday 09:00 <zone>`` per channel, round-robin over the replicas, 8 at a time; each
answer must say "Subscribed" and the database must then hold exactly one subscription per
channel. While the clocks fan out, the replicas also answer a bounded, paced stream of signed
``/chain <name>`` lookups. Any failed request (or a missing or doubled subscription) is an
error and fails the run. The replicas write the subscriptions at today's date; the bench then
dates them back to 2019-12-01 (``created_at``/``updated_at`` only) because the clocks replay
2019-12-23 (below). ``--web-replicas 0`` writes the subscriptions directly instead.

A ``--database-url`` is used as it is: the seed store is built there if it is empty, and the
bench removes only its own two teams' subscriptions and deliveries before each run.

Every digest is the real one (the week of 2019-12-16, from the seed store: a top-level post and
its thread), posted by ``--clocks`` separate processes started together, all competing for the
same deliveries. The table shows total time against the bound, messages posted, the 429s seen,
duplicates (a channel given a digest or a thread reply twice) and losses (a channel missing a
digest or part of its thread); both must be 0, and the exit code is 1 otherwise. A line per run
gives the web replicas' requests, errors and p99 latencies.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import secrets
import statistics
import string
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from fakeslack import FakeSlack
from processes import stop
from slack_signing import FORM, command_body, signed_headers
from sqlalchemy import Engine, delete, func, select, update

from bench import ROOT
from bench.serve import QUERIES, start_server
from bot.render.digest import digest_messages
from store import Store, db
from store import subscriptions as subs
from store.digest import compose_digest
from store.models import Delivery, Subscription

# Well formed (Bolt checks the prefix), and not a real token.
TOKEN = "xoxb-0000000000-0000000000-benchdigestnotarealtoken"
ZONES = ("America/New_York", "Europe/London", "Asia/Shanghai", "Australia/Sydney", "UTC")
SUBSCRIBED = dt.datetime(2019, 12, 1, tzinfo=dt.UTC)
# Monday 2019-12-23 09:00 has passed in every zone above: each channel is due once, for the
# week of 2019-12-16.
NOW = dt.datetime(2019, 12, 23, 23, 0, tzinfo=dt.UTC)
WEEK = dt.date(2019, 12, 16)
# One gunicorn worker per replica: two replicas and the clocks share a two-core machine.
WEB_CONCURRENCY = 1
SUBSCRIBE_AT_ONCE = 8
LOOKUP_CLIENTS_PER_REPLICA = 2
LOOKUPS_PER_SECOND = 20.0
# Lookups come from a channel of their own, so nothing they cause counts as a digest post.
LOOKUP_CHANNEL = "CBENCHLOOKUP"
REQUEST_TIMEOUT = 30.0

CHILD = """
import datetime as dt, json, sys
from bot.clock import Clock, single_workspace_factory
from store import db
url, api_url, now_text, workers, token = sys.argv[1:6]
now = dt.datetime.fromisoformat(now_text)
engine = db.get_engine(url)
clock = Clock(engine, single_workspace_factory(token, api_url), now=lambda: now,
              workers=int(workers))
print("ready", flush=True)
sys.stdin.read()
outcomes = clock.catch_up()
counts = {}
for o in outcomes:
    counts[o.outcome] = counts.get(o.outcome, 0) + 1
print(json.dumps({"outcomes": counts, "ratelimited": clock.deliverer.counters.ratelimited}))
"""


@dataclass
class WebFigures:
    """What the web replicas did during one run."""

    subscribe_ms: list[float] = field(default_factory=list)
    lookup_ms: list[float] = field(default_factory=list)
    errors: int = 0
    subscriptions_in_db: int = 0

    @staticmethod
    def p99(values: list[float]) -> str:
        if len(values) < 2:
            return f"{values[0]:.1f}" if values else "-"
        return f"{statistics.quantiles(values, n=100, method='inclusive')[98]:.1f}"


@dataclass(frozen=True)
class Result:
    name: str
    channels: int
    expected_messages: int
    seconds: float
    bound: float
    posted: int
    ratelimited: int
    duplicates: int
    losses: int
    outcomes: dict[str, int]
    web: WebFigures | None


class Replicas:
    """Running ``chainbot serve`` processes and signed ``/chain`` requests to them."""

    def __init__(self, ports: list[int], secret: str, response_url: str) -> None:
        self.ports = ports
        self.secret = secret
        self.response_url = response_url

    def command(self, index: int, text: str, **ids: str) -> tuple[bool, float, str]:
        """One signed slash command to replica ``index % len``: (ok, ms, the answer's text)."""
        port = self.ports[index % len(self.ports)]
        body = command_body(text, response_url=self.response_url, **ids)
        headers = signed_headers(self.secret, body, content_type=FORM)
        began = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
        try:
            conn.request("POST", "/slack/events", body=body.encode(), headers=headers)
            response = conn.getresponse()
            raw = response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            return False, (time.perf_counter() - began) * 1000, ""
        finally:
            conn.close()
        ms = (time.perf_counter() - began) * 1000
        try:
            answer = json.loads(raw)
        except ValueError:
            return False, ms, ""
        shown = str(answer.get("text", "")) if isinstance(answer, dict) else ""
        return status == 200 and bool(shown), ms, shown


@contextmanager
def web_replicas(count: int, url: str, api_url: str, response_url: str) -> Iterator[Replicas]:
    """``count`` real ``chainbot serve`` processes, each healthy before this yields, all
    stopped (SIGINT, then kill after 20 s) however the block ends."""
    secret = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SLACK_")},
        "DATABASE_URL": url,
        "SLACK_API_URL": api_url,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": secret,
        "WEB_CONCURRENCY": str(WEB_CONCURRENCY),
    }
    processes: list[subprocess.Popen[bytes]] = []
    try:
        ports = []
        for _ in range(count):
            process, port = start_server("chain", env, WEB_CONCURRENCY)
            processes.append(process)
            ports.append(port)
        yield Replicas(ports, secret, response_url)
    finally:
        for process in processes:
            if process.poll() is None:
                stop(process)


def reset_team(engine: Engine, team: str) -> None:
    """Remove any earlier rows of this bench team (subscriptions and their deliveries)."""
    with db.session_scope(engine) as session:
        ids = session.scalars(select(Subscription.id).where(Subscription.team_id == team)).all()
        if ids:
            session.execute(delete(Delivery).where(Delivery.subscription_id.in_(ids)))
            session.execute(delete(Subscription).where(Subscription.team_id == team))


def channel_names(team: str, channels: int) -> list[str]:
    return [f"C{team[-4:]}{i:05d}" for i in range(channels)]


def subscribe_directly(engine: Engine, team: str, names: list[str]) -> None:
    """``--web-replicas 0``: the subscriptions written straight into the database."""
    for i, channel in enumerate(names):
        spec = subs.ScheduleSpec(weekday=0, hour=9, minute=0, tz=ZONES[i % len(ZONES)])
        subs.subscribe(
            engine, team_id=team, channel_id=channel, user_id="UBENCH", spec=spec, now=SUBSCRIBED
        )


def subscribe_through_web(
    engine: Engine, replicas: Replicas, team: str, names: list[str], web: WebFigures
) -> None:
    """A signed ``/chain subscribe`` per channel (its own user), round-robin over the replicas,
    ``SUBSCRIBE_AT_ONCE`` in flight; then the database check and the back-dating."""

    def one(i: int) -> tuple[bool, float]:
        ok, ms, shown = replicas.command(
            i,
            f"subscribe monday 09:00 {ZONES[i % len(ZONES)]}",
            team_id=team,
            channel_id=names[i],
            user_id=f"U{team[-4:]}{i:05d}",
        )
        return ok and shown.startswith("Subscribed:"), ms

    pool = ThreadPoolExecutor(max_workers=SUBSCRIBE_AT_ONCE)
    try:
        for ok, ms in pool.map(one, range(len(names))):
            web.subscribe_ms.append(ms)
            web.errors += not ok
    finally:
        pool.shutdown(cancel_futures=True)  # on Ctrl-C, drop the requests not yet sent
    with db.session_scope(engine) as session:
        per_channel = dict(
            session.execute(
                select(Subscription.channel_id, func.count())
                .where(Subscription.team_id == team)
                .group_by(Subscription.channel_id)
            ).all()
        )
        session.execute(
            update(Subscription)
            .where(Subscription.team_id == team)
            .values(created_at=SUBSCRIBED, updated_at=SUBSCRIBED)
        )
    web.subscriptions_in_db = sum(per_channel.values())
    if per_channel != dict.fromkeys(names, 1):
        web.errors += 1  # a channel without its one subscription (or with one too many)


class LookupStream:
    """Signed ``/chain <name>`` lookups (bench.serve's mix) from two clients per replica,
    paced to ``LOOKUPS_PER_SECOND`` in all, from entering the block until it is left or
    ``limit`` requests have been sent."""

    def __init__(self, replicas: Replicas, team: str, limit: int, web: WebFigures) -> None:
        self.replicas = replicas
        self.team = team
        self.web = web
        self._budget = iter(range(limit))
        self._lock = threading.Lock()
        self._done = threading.Event()
        clients = LOOKUP_CLIENTS_PER_REPLICA * len(replicas.ports)
        self._gap = clients / LOOKUPS_PER_SECOND
        self._threads = [threading.Thread(target=self._client, args=(n,)) for n in range(clients)]

    def __enter__(self) -> LookupStream:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        for thread in self._threads:
            thread.join(timeout=2 * REQUEST_TIMEOUT)

    def _client(self, client: int) -> None:
        queries = QUERIES
        while not self._done.is_set():
            with self._lock:
                n = next(self._budget, None)
            if n is None:
                return
            ok, ms, _shown = self.replicas.command(
                client,
                queries[n % len(queries)],
                team_id=self.team,
                channel_id=LOOKUP_CHANNEL,
                user_id=f"ULOOKUP{client}",
            )
            with self._lock:
                self.web.lookup_ms.append(ms)
                self.web.errors += not ok
            self._done.wait(max(0.0, self._gap - ms / 1000))


def run_clocks(
    url: str,
    api_url: str,
    clocks: int,
    workers: int,
    alongside: AbstractContextManager[object] | None = None,
) -> list[dict]:
    """Start ``clocks`` processes, release them together, collect their summaries;
    ``alongside`` is entered as they are released and left once they have all finished."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-c", CHILD, url, api_url, NOW.isoformat(), str(workers), TOKEN]
    procs = [
        subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT
        )
        for _ in range(clocks)
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != "ready":
                raise SystemExit("a clock process failed to start")
        summaries = []
        with alongside or nullcontext():
            for proc in procs:
                assert proc.stdin is not None
                proc.stdin.close()
                proc.stdin = None
            for proc in procs:
                out, _ = proc.communicate(timeout=1800)
                if proc.returncode != 0:
                    raise SystemExit(f"a clock process exited with {proc.returncode}")
                summaries.append(json.loads(out.strip().splitlines()[-1]))
        return summaries
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)


def measure(
    name: str,
    store: Store,
    url: str,
    slack: FakeSlack,
    replicas: Replicas | None,
    *,
    team: str,
    channels: int,
    per_message: int,
    clocks: int,
    workers: int,
    workspace: tuple[int, float] | None,
    lookups: int,
) -> Result:
    slack.reset()
    if workspace is not None:
        slack.enforce_rates(per_channel=1.0, workspace=workspace)
    reset_team(store.engine, team)
    names = channel_names(team, channels)
    web = WebFigures()
    if replicas is None:
        subscribe_directly(store.engine, team, names)
    else:
        subscribe_through_web(store.engine, replicas, team, names, web)
    db.get_engine(url).dispose()  # the children open their own connections
    started = time.monotonic()
    stream = None if replicas is None else LookupStream(replicas, team, lookups, web)
    summaries = run_clocks(url, slack.api_url, clocks, workers, alongside=stream)
    seconds = time.monotonic() - started

    posts = [c for c in slack.ok_calls("chat.postMessage") if c.channel in set(names)]
    tops = Counter(c.channel for c in posts if "thread_ts" not in c.params)
    replies = Counter(c.channel for c in posts if "thread_ts" in c.params)
    duplicates = sum(n - 1 for n in tops.values() if n > 1) + sum(
        n - (per_message - 1) for n in replies.values() if n > per_message - 1
    )
    losses = sum(1 for ch in names if tops[ch] == 0) + sum(
        (per_message - 1) - replies[ch] for ch in names if replies[ch] < per_message - 1
    )
    outcomes: Counter[str] = Counter()
    for summary in summaries:
        outcomes.update(summary["outcomes"])
    total = channels * per_message
    per_channel_bound = float(per_message - 1)
    bound = per_channel_bound
    if workspace is not None:
        count, window = workspace
        bound = max(bound, ((total - 1) // count) * window)
    return Result(
        name=name,
        channels=channels,
        expected_messages=total,
        seconds=seconds,
        bound=bound,
        posted=len(posts),
        ratelimited=sum(1 for c in slack.calls("chat.postMessage") if c.status == 429),
        duplicates=duplicates,
        losses=losses,
        outcomes=dict(outcomes),
        web=web if replicas is not None else None,
    )


def print_table(results: list[Result]) -> None:
    head = (
        f"{'run':<22}{'channels':>9}{'messages':>10}{'time s':>9}{'bound s':>9}"
        f"{'time/bound':>11}{'429s':>7}{'dups':>6}{'lost':>6}  outcomes"
    )
    print(head)
    print("-" * len(head))
    for r in results:
        ratio = f"{r.seconds / r.bound:.2f}" if r.bound > 0 else "-"
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(r.outcomes.items()))
        print(
            f"{r.name:<22}{r.channels:>9}{r.posted:>10}{r.seconds:>9.1f}{r.bound:>9.1f}"
            f"{ratio:>11}{r.ratelimited:>7}{r.duplicates:>6}{r.losses:>6}  {outcomes}"
        )
    for r in results:
        if r.web is None:
            continue
        w = r.web
        print(
            f"web replicas, {r.name}: {len(w.subscribe_ms)} subscribe requests "
            f"(p99 {w.p99(w.subscribe_ms)} ms), {len(w.lookup_ms)} lookup requests during the "
            f"fan-out (p99 {w.p99(w.lookup_ms)} ms), errors {w.errors}; "
            f"{w.subscriptions_in_db} subscriptions in the database for {r.channels} channels"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a new SQLite file in a temp folder")
    parser.add_argument("--quick", action="store_true", help="60 channels, 30 posts per 3 s")
    parser.add_argument("--channels", type=int, help="subscribed channels (default 1000)")
    parser.add_argument("--clocks", type=int, default=2, help="racing clock processes")
    parser.add_argument("--workers", type=int, default=32, help="deliveries at once per clock")
    parser.add_argument("--workspace-count", type=int, help="posts per window (default 400)")
    parser.add_argument("--workspace-seconds", type=float, help="window length (default 30)")
    parser.add_argument(
        "--web-replicas",
        type=int,
        default=2,
        help="chainbot serve processes the channels subscribe through (0: straight to the db)",
    )
    parser.add_argument(
        "--lookups", type=int, help="most /chain lookups per run during the fan-out (default 400)"
    )
    args = parser.parse_args()
    if args.web_replicas < 0:
        parser.error("--web-replicas must be 0 or more")

    channels = args.channels or (60 if args.quick else 1000)
    workspace = (
        args.workspace_count or (30 if args.quick else 400),
        args.workspace_seconds or (3.0 if args.quick else 30.0),
    )
    lookups = args.lookups if args.lookups is not None else (40 if args.quick else 400)
    tmp = tempfile.TemporaryDirectory(prefix="chainbot-bench-")
    url = args.database_url or f"sqlite:///{Path(tmp.name) / 'bench.sqlite3'}"
    store = Store.open(url)  # builds the seed store on first use
    per_message = len(digest_messages(compose_digest(store.engine, WEEK, now=NOW)))
    backend = db.get_engine(url).dialect.name
    print(
        f"digest fan-out: {channels} channels, {args.clocks} clock processes x {args.workers} "
        f"workers, {backend}; week of {WEEK} = {per_message} message(s) per channel "
        f"(top-level + thread)"
    )
    print(
        f"fake Slack limits: 1 message/s per channel; workspace {workspace[0]} per rolling "
        f"{workspace[1]:g} s ({workspace[0] * 60 / workspace[1]:.0f}/min) with 429 + Retry-After"
    )
    if args.web_replicas:
        print(
            f"web: {args.web_replicas} x chainbot serve ({WEB_CONCURRENCY} worker each); "
            f"subscriptions through them, {SUBSCRIBE_AT_ONCE} at a time; up to {lookups} "
            f"lookups per run at {LOOKUPS_PER_SECOND:g}/s while the clocks fan out"
        )
    else:
        print("web: none (subscriptions written straight into the database)")
    runs = (("baseline (no limits)", "TBENCHBASE", None), ("Slack limits", "TBENCHLIMS", workspace))
    with FakeSlack() as slack:
        db.get_engine(url).dispose()  # the replicas open their own connections
        with web_replicas(
            args.web_replicas, url, slack.api_url, slack.response_url("bench")
        ) as replicas:
            results = [
                measure(
                    name,
                    store,
                    url,
                    slack,
                    replicas if args.web_replicas else None,
                    team=team,
                    channels=channels,
                    per_message=per_message,
                    clocks=args.clocks,
                    workers=args.workers,
                    workspace=limits,
                    lookups=lookups,
                )
                for name, team, limits in runs
            ]
    print_table(results)
    tmp.cleanup()
    bad = any(r.duplicates or r.losses for r in results)
    web_bad = any(r.web is not None and r.web.errors for r in results)
    print("duplicates and losses: " + ("FOUND" if bad else "none"))
    if args.web_replicas:
        print("web replica errors: " + ("FOUND" if web_bad else "none"))
    return 1 if bad or web_bad else 0


if __name__ == "__main__":
    sys.exit(main())
