"""The clock: cron jobs per subscription in their own zones, kept in step with the database,
catching up after downtime, exactly once across clocks and restarts. Time is driven by hand
(an injected ``now``); cron jobs are fired at the instants their triggers name."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fakeslack import FakeSlack
from pg import run_together
from sqlalchemy import Engine
from test_delivery import TOKEN, Now, StubComposer, factory, subscribe, top_posts

from bot.clock import JOB_PREFIX, SYNC_JOB_ID, Clock, cron_trigger, make_scheduler
from bot.delivery import Deliverer, Pacer
from store import subscriptions as subs
from store.db import get_engine
from store.schema import ensure_schema

UTC = dt.UTC
SUBSCRIBED = dt.datetime(2019, 12, 1, tzinfo=UTC)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    eng = get_engine(f"sqlite:///{tmp_path / 'clock.sqlite3'}")
    ensure_schema(eng)
    return eng


def make_clock(
    engine: Engine, slack: FakeSlack, now: Now, composer: object | None = None, owner: str = "c:1"
) -> Clock:
    deliverer = Deliverer(
        engine,
        factory(slack),
        composer=composer or StubComposer(parts=1),
        pacer=Pacer(1.0),
        now=now,
        owner=owner,
    )
    return Clock(
        engine,
        factory(slack),
        scheduler=make_scheduler(blocking=False),
        deliverer=deliverer,
        now=now,
    )


def fire_times(clock: Clock, start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, int]]:
    """When each scheduled cron job would fire in [start, end), from its real trigger."""
    events = []
    for sub_id in clock.scheduled_ids():
        trigger = clock.scheduler.get_job(f"{JOB_PREFIX}{sub_id}").trigger
        previous = None
        moment = trigger.get_next_fire_time(None, start)
        while moment is not None and moment < end:
            events.append((moment.astimezone(UTC), sub_id))
            previous = moment
            # Step in UTC: wall-clock arithmetic would drop the fold of an ambiguous time.
            after = previous.astimezone(UTC) + dt.timedelta(seconds=1)
            moment = trigger.get_next_fire_time(previous, after)
    return sorted(events)


def run_week(clock: Clock, now: Now, start: dt.datetime, end: dt.datetime) -> None:
    """Drive the clock from ``start`` to ``end``: cron jobs at their fire times and the
    periodic sync every 30 minutes, in time order, as a running scheduler would."""
    syncs = []
    moment = start
    while moment < end:
        syncs.append((moment, -1))
        moment += dt.timedelta(minutes=30)
    for moment, sub_id in sorted(fire_times(clock, start, end) + syncs):
        now.value = moment
        if sub_id < 0:
            clock.sync()
        else:
            clock.fire(sub_id)


# --------------------------------------------------------------------------- triggers


def test_cron_triggers_fire_at_the_computed_send_times_across_dst(engine: Engine) -> None:
    cases = [
        "monday 09:00 America/New_York",
        "sunday 02:30 America/New_York",  # a wall time the spring change skips
        "friday 17:00 Europe/London",
        "monday 09:00 Australia/Sydney",  # southern-hemisphere DST
        "tuesday 08:30 Asia/Shanghai",  # no DST
    ]
    for i, text in enumerate(cases):
        sub = subscribe(engine, f"C{i}", text, at=SUBSCRIBED)
        trigger = cron_trigger(sub)
        moment = dt.datetime(2026, 1, 1, tzinfo=UTC)
        fired = None
        for _week in range(60):
            fired = trigger.get_next_fire_time(fired, moment)
            assert fired == subs.next_send_time(sub, moment), (text, moment)
            moment = fired.astimezone(UTC) + dt.timedelta(seconds=1)
    ny = subs.get_for_channel(engine, team_id="T1", channel_id="C0")
    spring = subs.next_send_time(ny, dt.datetime(2026, 3, 1, tzinfo=UTC))  # before the change
    summer = subs.next_send_time(ny, spring)
    assert (spring.astimezone(UTC).hour, summer.astimezone(UTC).hour) == (14, 13)
    assert spring.hour == summer.hour == 9


def test_an_ambiguous_fall_back_time_still_posts_once(engine: Engine, slack: FakeSlack) -> None:
    """01:30 on the fall-back Sunday happens twice; APScheduler fires at both; one post."""
    sub = subscribe(engine, "C1", "sunday 01:30 America/New_York", at=SUBSCRIBED)
    now = Now(SUBSCRIBED)
    clock = make_clock(engine, slack, now)
    clock.reconcile_jobs()
    start = dt.datetime(2026, 10, 31, tzinfo=UTC)
    fires = fire_times(clock, start, start + dt.timedelta(days=2))
    assert len(fires) == 2 and fires[1][0] - fires[0][0] == dt.timedelta(hours=1)
    for moment, sub_id in fires:
        now.value = moment
        clock.fire(sub_id)
    assert len(top_posts(slack)) == 1
    assert subs.get_delivery(engine, sub.id, dt.date(2026, 10, 19)).status == "sent"


# --------------------------------------------------------------------------- on time


def test_three_channels_in_three_zones_each_get_one_digest_at_local_time(
    engine: Engine, slack: FakeSlack
) -> None:
    plan = {
        "CNY": ("monday 09:00 America/New_York", (0, 9, 0)),
        "CSH": ("monday 09:00 Asia/Shanghai", (0, 9, 0)),
        "CLO": ("tuesday 08:30 Europe/London", (1, 8, 30)),
    }
    friday = dt.datetime(2019, 12, 20, tzinfo=UTC)
    views = {ch: subscribe(engine, ch, text, at=friday) for ch, (text, _) in plan.items()}
    now = Now(friday + dt.timedelta(hours=1))
    clock = make_clock(engine, slack, now)
    assert clock.prepare() == []  # nothing was due at start
    run_week(clock, now, now.value, dt.datetime(2019, 12, 28, tzinfo=UTC))

    posts = Counter(p.channel for p in top_posts(slack))
    assert posts == {"CNY": 1, "CSH": 1, "CLO": 1}
    for channel, (_, (weekday, hour, minute)) in plan.items():
        sub = views[channel]
        row = subs.get_delivery(engine, sub.id, dt.date(2019, 12, 16))
        local = row.claimed_at.astimezone(ZoneInfo(sub.tz))
        assert (local.weekday(), local.hour, local.minute) == (weekday, hour, minute)
        assert (row.status, row.late) == ("sent", False)


def test_subscription_changes_reach_a_running_clock_without_restart(
    engine: Engine, slack: FakeSlack
) -> None:
    now = Now(dt.datetime(2019, 12, 20, tzinfo=UTC))
    clock = make_clock(engine, slack, now)
    clock.scheduler.start(paused=True)
    try:
        clock.prepare()
        assert clock.scheduler.get_job(SYNC_JOB_ID) is not None
        assert clock.scheduled_ids() == set()
        # A web replica writes the database; the clock's next sync picks it up.
        a = subscribe(engine, "CA", "monday 09:00 UTC", at=SUBSCRIBED)
        b = subscribe(engine, "CB", "friday 17:00 UTC", at=SUBSCRIBED)
        assert changes(clock) == (2, 0, 0)
        job = clock.scheduler.get_job(f"{JOB_PREFIX}{a.id}")
        assert job.next_run_time.astimezone(UTC).strftime("%a %H:%M") == "Mon 09:00"
        assert job.coalesce and job.misfire_grace_time >= 3600
        subscribe(engine, "CA", "wednesday 07:15 Asia/Tokyo", at=SUBSCRIBED)
        subs.unsubscribe(engine, team_id="T1", channel_id="CB")
        assert changes(clock) == (0, 1, 1)
        assert clock.scheduler.get_job(f"{JOB_PREFIX}{b.id}") is None
        moved = clock.scheduler.get_job(f"{JOB_PREFIX}{a.id}").trigger
        assert str(moved.timezone) == "Asia/Tokyo"
        subs.pause(engine, team_id="T1", channel_id="CA", reason="is_archived")
        assert changes(clock) == (0, 0, 1)
    finally:
        clock.shutdown()


def changes(clock: Clock) -> tuple[int, int, int]:
    report = clock.sync()
    return (report.added, report.rescheduled, report.removed)


# --------------------------------------------------------------------------- late


def test_downtime_over_the_send_time_gives_one_late_digest(
    engine: Engine, slack: FakeSlack
) -> None:
    sub = subscribe(engine, "C1", "monday 09:00 America/New_York", at=SUBSCRIBED)
    composer = StubComposer(parts=1)
    # Subscribed weeks ago; the clock was down over Monday's send time until Tuesday evening.
    now = Now(dt.datetime(2019, 12, 24, 23, 0, tzinfo=UTC))
    clock = make_clock(engine, slack, now, composer=composer)
    outcomes = clock.prepare()
    assert [(o.outcome, o.late) for o in outcomes] == [("sent", True)]
    (post,) = top_posts(slack)
    assert "This digest is late" in post.params["text"]
    assert "Monday 2019-12-23 09:00 America/New_York" in post.params["text"]
    # The cron job's own misfire run and later syncs find the week done.
    assert clock.fire(sub.id).outcome == "not_ours"
    now.value += dt.timedelta(minutes=5)
    assert clock.sync().outcomes == ()
    assert len(top_posts(slack)) == 1
    # Only the latest missed week is caught up, not every week of the outage.
    assert [d.week_start for d in subs.deliveries_for_team(engine, team_id="T1")] == [
        dt.date(2019, 12, 16)
    ]


def test_a_subscription_made_after_this_weeks_send_time_waits_for_next_week(
    engine: Engine, slack: FakeSlack
) -> None:
    subscribe(engine, "C1", "monday 09:00 UTC", at=dt.datetime(2019, 12, 23, 10, tzinfo=UTC))
    now = Now(dt.datetime(2019, 12, 23, 11, tzinfo=UTC))
    assert make_clock(engine, slack, now).prepare() == []
    assert top_posts(slack) == []


# --------------------------------------------------------------------------- exactly once


CLOCK_PROCESS = """
import datetime as dt, sys
from bot.clock import Clock, single_workspace_factory
from store import db
engine = db.get_engine(sys.argv[1])
now = dt.datetime.fromisoformat(sys.argv[3])
clock = Clock(engine, single_workspace_factory(sys.argv[4], sys.argv[2]), now=lambda: now)
print("ready", flush=True)
sys.stdin.read()
print(" ".join(f"{o.channel_id}:{o.outcome}" for o in clock.catch_up()))
"""


def test_two_clock_processes_at_once_post_each_digest_once(
    seed_db_url: str, slack: FakeSlack
) -> None:
    engine = get_engine(seed_db_url)
    channels = [f"C{i}" for i in range(8)]
    for channel in channels:
        subscribe(engine, channel, "monday 09:00 UTC", at=SUBSCRIBED)
    now = "2019-12-23T09:05:00+00:00"
    results = run_together(
        [[sys.executable, "-c", CLOCK_PROCESS, seed_db_url, slack.api_url, now, TOKEN]] * 2
    )
    assert [code for code, _, _ in results] == [0, 0], [err for _, _, err in results]
    outcomes = Counter(word.split(":")[1] for _, out, _ in results for word in out.split())
    # Each delivery is won once; the loser either lost the claim or (if the winner was done
    # before it looked) never saw the delivery as due.
    assert outcomes["sent"] == 8 and outcomes["not_ours"] <= 8 and len(outcomes) <= 2
    assert Counter(p.channel for p in top_posts(slack)) == dict.fromkeys(channels, 1)
    owners = {d.claimed_by for d in subs.deliveries_for_team(engine, team_id="T1")}
    assert len(owners) == 2, "both clocks won some deliveries: the race was real"


CHAINBOT = [sys.executable, "-c", "from bot.cli import main; main()"]


def _clock_cli(now: dt.datetime, *extra: str) -> list[str]:
    return [*CHAINBOT, "clock", "--once", "--now", now.isoformat(), *extra]


def _env(db_url: str, slack: FakeSlack) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": db_url,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_API_URL": slack.api_url,
        "PYTHONPATH": os.getcwd(),
    }


def test_a_clock_killed_mid_run_and_restarted_posts_each_digest_once(
    seed_db_url: str, slack: FakeSlack
) -> None:
    engine = get_engine(seed_db_url)
    channels = [f"C{i}" for i in range(5)]
    views = [subscribe(engine, c, "monday 09:00 UTC", at=SUBSCRIBED) for c in channels]
    send = dt.datetime(2019, 12, 23, 9, tzinfo=UTC)
    env = _env(seed_db_url, slack)
    first = subprocess.Popen(
        _clock_cli(send + dt.timedelta(minutes=1), "--workers", "1"),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        slack.wait_for("chat.postMessage", count=3, timeout=60)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(30)
    posted_before = Counter(p.channel for p in top_posts(slack))
    assert 1 <= sum(posted_before.values()) < len(channels)

    # The restarted clock, at once: finishes the rest, never re-posts what the first posted.
    restarted = subprocess.run(
        _clock_cli(send + dt.timedelta(minutes=2)),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert restarted.returncode == 0, restarted.stderr
    # Half an hour later a claim the killed clock left behind (if it died between claim and
    # mark) is checked against the channel's history, here the fake's record of real posts.
    slack.set_response(
        "conversations.history",
        {
            "messages": [
                {"ts": f"{i}.0", "metadata": p.params.get("metadata")}
                for i, p in enumerate(top_posts(slack))
            ]
        },
    )
    later = subprocess.run(
        _clock_cli(send + dt.timedelta(minutes=40)),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert later.returncode == 0, later.stderr
    assert Counter(p.channel for p in top_posts(slack)) == dict.fromkeys(channels, 1)
    rows = [subs.get_delivery(engine, v.id, dt.date(2019, 12, 16)) for v in views]
    assert {r.status for r in rows} == {"sent"}


def test_chainbot_clock_status_lists_next_sends(seed_db_url: str, slack: FakeSlack) -> None:
    engine = get_engine(seed_db_url)
    subscribe(engine, "C1", "tuesday 08:30 Asia/Shanghai", at=SUBSCRIBED)
    result = subprocess.run(
        [*CHAINBOT, "clock", "--status", "--now", "2019-12-20T00:00:00Z"],
        env=_env(seed_db_url, slack),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "T1/C1  Tuesday 08:30 Asia/Shanghai  next 2019-12-24 08:30 local" in result.stdout
    assert "(2019-12-24 00:30 UTC)" in result.stdout


def test_missing_token_is_one_clear_line(seed_db_url: str, slack: FakeSlack) -> None:
    env = _env(seed_db_url, slack)
    del env["SLACK_BOT_TOKEN"]
    result = subprocess.run(
        [*CHAINBOT, "clock", "--once"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "chainbot: SLACK_BOT_TOKEN is not set"


@pytest.mark.slow
def test_the_fan_out_benchmark_quick_run_has_no_duplicates_or_losses(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    database = f"sqlite:///{tmp_path / 'b.db'}"
    result = subprocess.run(
        [sys.executable, "-m", "bench.digest", "--quick", "--database-url", database],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=root,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith(("baseline", "Slack"))]
    assert len(rows) == 2
    for row in rows:
        channels, messages, _time, _bound, _ratio, _429s, dups, lost = row[22:].split()[:8]
        assert (dups, lost) == ("0", "0") and messages == str(2 * int(channels)), row
    assert "duplicates and losses: none" in result.stdout
    # The same topology as the full run: the channels subscribed through two web replicas,
    # which also answered lookups while the clocks fanned out, without a single error.
    web = [line for line in result.stdout.splitlines() if line.startswith("web replicas, ")]
    assert len(web) == 2
    for line in web:
        found = re.search(
            r": (\d+) subscribe requests .*, (\d+) lookup requests .*, errors (\d+); "
            r"(\d+) subscriptions in the database for (\d+) channels$",
            line,
        )
        assert found, line
        subscribes, lookups, errors, in_db, channels = map(int, found.groups())
        assert subscribes == in_db == channels == 60 and lookups > 0 and errors == 0, line
    assert "web replica errors: none" in result.stdout


def _always_subscription(engine: Engine, channel: str) -> subs.SubscriptionView:
    """Due now in real time: subscribed a month ago, posting every week (even empty ones)."""
    month_ago = dt.datetime.now(UTC) - dt.timedelta(days=30)
    return subscribe(engine, channel, "monday 09:00 UTC always", at=month_ago)


@pytest.mark.slow
def test_chainbot_clock_process_picks_up_new_subscriptions_and_stops_on_sigterm(
    seed_db_url: str, slack: FakeSlack
) -> None:
    engine = get_engine(seed_db_url)
    _always_subscription(engine, "C1")
    proc = subprocess.Popen(
        [*CHAINBOT, "clock", "--sync-seconds", "1"],
        env=_env(seed_db_url, slack),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        slack.wait_for("chat.postMessage", count=1, timeout=60)  # the start-up catch-up
        # Written by "another process" (a web replica) while the clock runs.
        _always_subscription(engine, "C2")
        deadline = time.monotonic() + 60
        while {p.channel for p in top_posts(slack)} != {"C1", "C2"}:
            assert time.monotonic() < deadline, "the running clock never picked up C2"
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert Counter(p.channel for p in top_posts(slack)) == {"C1": 1, "C2": 1}
    assert '"outcome": "sent"' in err and TOKEN not in err
    assert "This digest is late" in top_posts(slack)[0].params["text"]


def test_start_background_runs_the_clock_in_the_web_process(
    seed_db_url: str, slack: FakeSlack
) -> None:
    from bot.clock import start_background
    from bot.config import SlackConfig

    engine = get_engine(seed_db_url)
    _always_subscription(engine, "C1")
    cfg = SlackConfig(
        bot_token=TOKEN,
        signing_secret="s3cret",
        app_token=None,
        database_url=seed_db_url,
        api_url=slack.api_url,
    )
    clock = start_background(cfg, sync_seconds=1)
    try:
        assert clock.scheduler.running
        slack.wait_for("chat.postMessage", count=1, timeout=30)
        deadline = time.monotonic() + 30
        while clock.scheduler.get_job(SYNC_JOB_ID) is None:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert clock.scheduled_ids() == {
            subs.get_for_channel(engine, team_id="T1", channel_id="C1").id
        }
    finally:
        clock.shutdown()
    assert [p.channel for p in top_posts(slack)] == ["C1"]
