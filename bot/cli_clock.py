"""``chainbot clock``: the weekly digest clock (``Procfile``: ``clock: chainbot clock``)."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import signal

import click

from bot import config as slack_config
from bot.cli import main
from store import Store
from store import subscriptions as subs


def _parse_now(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter("use an ISO 8601 instant, e.g. 2019-12-23T14:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _progress(stage: str, done: int, total: int) -> None:
    # A line every 10% keeps a 1,000-channel fan-out readable.
    step = max(1, total // 10)
    if total and (done == total or done % step == 0):
        click.echo(f"{stage}: {done}/{total}", err=True)


def _status(store: Store, now: dt.datetime) -> None:
    """Every active subscription's next send, and deliveries that need a person."""
    active = subs.list_active(store.engine)
    click.echo(f"{len(active)} active subscription(s)")
    for sub in active:
        nxt = subs.next_send_time(sub, now)
        utc = nxt.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        click.echo(
            f"  {sub.team_id}/{sub.channel_id}  {sub.schedule_text}  "
            f"next {nxt:%Y-%m-%d %H:%M} local ({utc})"
        )
    teams = sorted({sub.team_id for sub in active})
    attention = [
        d
        for team in teams
        for d in subs.deliveries_for_team(store.engine, team_id=team)
        if d.status in ("unknown", "failed", "claimed")
    ]
    if attention:
        click.echo("deliveries needing attention:")
        for d in attention:
            click.echo(
                f"  {d.team_id}/{d.channel_id} week {d.week_start}  {d.status}  {d.error or ''}"
            )


@main.command()
@click.option("--once", is_flag=True, help="Deliver whatever is due now (a catch-up), then exit.")
@click.option("--status", is_flag=True, help="Show next send times and deliveries to check.")
@click.option(
    "--now",
    "now_text",
    metavar="ISO",
    help="With --once or --status: act as if it were this instant (dry runs, tests).",
)
@click.option(
    "--sync-seconds",
    type=click.FloatRange(1, 3600),
    default=30,
    show_default=True,
    help="How often subscription changes are picked up.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=8,
    show_default=True,
    help="Concurrent deliveries (each channel still gets at most one message a second).",
)
def clock(
    once: bool, status: bool, now_text: str | None, sync_seconds: float, workers: int
) -> None:
    """Post weekly digests on time, exactly once: one cron job per subscription in its own
    time zone; missed send times are caught up at start (marked late)."""
    from bot.clock import Clock, client_factory, make_scheduler, summarize

    fixed = _parse_now(now_text) if now_text else None
    if fixed is not None and not (once or status):
        raise click.UsageError("--now only goes with --once or --status")

    def now() -> dt.datetime:
        return fixed or dt.datetime.now(dt.UTC)

    store = Store.open(build_if_empty=True)
    if status:
        _status(store, now())
        return
    cfg = slack_config.load("clock")
    if logging.getLogger().level > logging.INFO:
        # One structured line per delivery is the clock's log; show it by default.
        logging.getLogger("chainbot").setLevel(logging.INFO)
        logging.getLogger().setLevel(logging.INFO)
    the_clock = Clock(
        store.engine,
        client_factory(cfg, store.engine),
        scheduler=make_scheduler(blocking=not once, workers=workers),
        now=now,
        sync_seconds=sync_seconds,
        workers=workers,
    )
    if once:
        outcomes = the_clock.catch_up(progress=_progress)
        counts = summarize(outcomes)
        summary = ", ".join(f"{n} {name}" for name, n in sorted(counts.items())) or "nothing due"
        click.echo(f"delivered: {summary}")
        return

    def stop(_signum: int, _frame: object) -> None:
        # SIGTERM (a platform stopping the dyno): finish the running deliveries, then exit.
        the_clock.shutdown()

    signal.signal(signal.SIGTERM, stop)
    click.echo("chainbot clock: running (Ctrl-C to stop)", err=True)
    with contextlib.suppress(KeyboardInterrupt):
        the_clock.run(progress=_progress)
