"""Benchmark: the weekly digest fanned out to many subscribed channels by several racing clock
processes, against the fake Slack Web API enforcing Slack's posting limits.

    python bench/digest.py                  # 1,000 channels, 2 clocks (about 3 minutes)
    python bench/digest.py --quick          # 60 channels, a tighter workspace window
    python bench/digest.py --database-url postgresql+psycopg://...   # the same on PostgreSQL

Two runs, same code, same database, measured in this process:

* **baseline**: the fake answers every post at once (no limits). What the clock costs itself
  (claims, composition, HTTP), still pacing each channel at one message a second.
* **Slack limits**: the fake refuses with HTTP 429 + ``Retry-After`` any post over 1 message a
  second to one channel, or over the workspace budget: ``--workspace-count`` posts per rolling
  ``--workspace-seconds`` (default 400 per 30 s: a burst of 400, then 800 a minute, in line with
  Slack's "several hundred per minute"). Its lower bound is the time those limits allow at best:
  the larger of the per-channel bound ((messages per channel - 1) s) and the workspace bound
  (floor((messages - 1) / count) x seconds).

Every digest is the real one (the week of 2019-12-16, from the seed store: a top-level post and
its thread), posted by ``--clocks`` separate processes started together, all competing for the
same deliveries. The table shows total time against the bound, messages posted, the 429s seen,
duplicates (a channel given a digest or a thread reply twice) and losses (a channel missing a
digest or part of its thread); both must be 0, and the exit code is 1 otherwise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# bench/ holds http.py, which would shadow the standard library's http package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


from fakeslack import FakeSlack  # noqa: E402
from sqlalchemy import Engine, delete, select  # noqa: E402

from bot.render.digest import digest_messages  # noqa: E402
from store import Store, db  # noqa: E402
from store import subscriptions as subs  # noqa: E402
from store.digest import compose_digest  # noqa: E402
from store.models import Delivery, Subscription  # noqa: E402

TOKEN = "xoxb-bench-token"
ZONES = ("America/New_York", "Europe/London", "Asia/Shanghai", "Australia/Sydney", "UTC")
SUBSCRIBED = dt.datetime(2019, 12, 1, tzinfo=dt.UTC)
# Monday 2019-12-23 09:00 has passed in every zone above: each channel is due once, for the
# week of 2019-12-16.
NOW = dt.datetime(2019, 12, 23, 23, 0, tzinfo=dt.UTC)
WEEK = dt.date(2019, 12, 16)

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


def subscribe_channels(engine: Engine, team: str, channels: int) -> list[str]:
    """``channels`` subscriptions for ``team`` (any earlier bench rows removed first)."""
    with db.session_scope(engine) as session:
        ids = session.scalars(select(Subscription.id).where(Subscription.team_id == team)).all()
        if ids:
            session.execute(delete(Delivery).where(Delivery.subscription_id.in_(ids)))
            session.execute(delete(Subscription).where(Subscription.team_id == team))
    names = [f"C{team[-4:]}{i:05d}" for i in range(channels)]
    for i, channel in enumerate(names):
        spec = subs.ScheduleSpec(weekday=0, hour=9, minute=0, tz=ZONES[i % len(ZONES)])
        subs.subscribe(
            engine, team_id=team, channel_id=channel, user_id="UBENCH", spec=spec, now=SUBSCRIBED
        )
    return names


def run_clocks(url: str, api_url: str, clocks: int, workers: int) -> list[dict]:
    """Start ``clocks`` processes, release them together, collect their summaries."""
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
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.close()
            proc.stdin = None
        summaries = []
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


def measure(
    name: str,
    store: Store,
    url: str,
    slack: FakeSlack,
    *,
    team: str,
    channels: int,
    per_message: int,
    clocks: int,
    workers: int,
    workspace: tuple[int, float] | None,
) -> Result:
    slack.reset()
    if workspace is not None:
        slack.enforce_rates(per_channel=1.0, workspace=workspace)
    names = subscribe_channels(store.engine, team, channels)
    db.get_engine(url).dispose()  # the children open their own connections
    started = time.monotonic()
    summaries = run_clocks(url, slack.api_url, clocks, workers)
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a new SQLite file in a temp folder")
    parser.add_argument("--quick", action="store_true", help="60 channels, 30 posts per 3 s")
    parser.add_argument("--channels", type=int, help="subscribed channels (default 1000)")
    parser.add_argument("--clocks", type=int, default=2, help="racing clock processes")
    parser.add_argument("--workers", type=int, default=32, help="deliveries at once per clock")
    parser.add_argument("--workspace-count", type=int, help="posts per window (default 400)")
    parser.add_argument("--workspace-seconds", type=float, help="window length (default 30)")
    args = parser.parse_args()

    channels = args.channels or (60 if args.quick else 1000)
    workspace = (
        args.workspace_count or (30 if args.quick else 400),
        args.workspace_seconds or (3.0 if args.quick else 30.0),
    )
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
    with FakeSlack() as slack:
        results = [
            measure(
                "baseline (no limits)",
                store,
                url,
                slack,
                team="TBENCHBASE",
                channels=channels,
                per_message=per_message,
                clocks=args.clocks,
                workers=args.workers,
                workspace=None,
            ),
            measure(
                "Slack limits",
                store,
                url,
                slack,
                team="TBENCHLIMS",
                channels=channels,
                per_message=per_message,
                clocks=args.clocks,
                workers=args.workers,
                workspace=workspace,
            ),
        ]
    print_table(results)
    tmp.cleanup()
    bad = any(r.duplicates or r.losses for r in results)
    print("duplicates and losses: " + ("FOUND" if bad else "none"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
