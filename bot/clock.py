"""The digest clock: APScheduler 3.x with one cron job per active subscription, in the
subscription's own time zone, kept in step with the database while it runs.

* ``Clock.sync()`` (at start and every ``sync_seconds``) diffs the active subscriptions against
  the scheduled jobs (add, reschedule, remove), so a ``/chain subscribe`` handled by any web
  replica reaches a running clock without a restart. The same pass delivers whatever is due
  and not yet delivered: a send time missed while the clock was down (once, said to be late),
  a failed delivery (after ``RETRY_FAILED_AFTER``), or a claim whose owner died.
* Cron jobs are ``coalesce=True`` with a generous ``misfire_grace_time``: a clock that was
  busy or suspended runs a job once, late, rather than dropping it or running it many times.
* Every delivery goes through ``bot.delivery.Deliverer``, whose database claim makes it
  exactly once however many clocks run and however the two paths above overlap.

Time is injected (``now``), so tests drive a clock to any instant without sleeping.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine, select

from bot.config import SlackConfig
from bot.delivery import (
    RETRY_FAILED_AFTER,
    STALE_AFTER,
    CachedComposer,
    ClientFactory,
    Deliverer,
    Outcome,
    delivery_client,
    utcnow,
)
from store import db
from store import subscriptions as subs
from store.errors import ConfigError
from store.models import Delivery
from store.progress import ProgressFn, no_progress

logger = logging.getLogger("chainbot.clock")

JOB_PREFIX = "digest:"
SYNC_JOB_ID = "chainbot:sync"
MISFIRE_GRACE_SECONDS = 6 * 3600
DEFAULT_SYNC_SECONDS = 30
# The regular sync leaves a just-passed send time to its cron job for this long.
CRON_HEAD_START = dt.timedelta(seconds=90)
_CRON_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def cron_trigger(sub: subs.SubscriptionView) -> CronTrigger:
    """The subscription's weekly send time as an APScheduler trigger in its own zone."""
    return CronTrigger(
        day_of_week=_CRON_DAYS[sub.weekday],
        hour=sub.hour,
        minute=sub.minute,
        timezone=ZoneInfo(sub.tz),
    )


def _signature(sub: subs.SubscriptionView) -> tuple[int, int, int, str]:
    return (sub.weekday, sub.hour, sub.minute, sub.tz)


def make_scheduler(*, blocking: bool, workers: int = 8) -> BaseScheduler:
    cls = BlockingScheduler if blocking else BackgroundScheduler
    return cls(
        timezone=dt.UTC,
        executors={"default": ThreadPoolExecutor(max_workers=workers)},
        job_defaults={
            "coalesce": True,
            "misfire_grace_time": MISFIRE_GRACE_SECONDS,
            "max_instances": 1,
        },
    )


@dataclass(frozen=True)
class SyncReport:
    added: int
    rescheduled: int
    removed: int
    outcomes: tuple[Outcome, ...]


class Clock:
    """Owns a scheduler and keeps it equal to the subscriptions table."""

    def __init__(
        self,
        engine: Engine,
        client_factory: ClientFactory,
        *,
        scheduler: BaseScheduler | None = None,
        deliverer: Deliverer | None = None,
        now: Callable[[], dt.datetime] = utcnow,
        sync_seconds: float = DEFAULT_SYNC_SECONDS,
        workers: int = 8,
    ) -> None:
        self.engine = engine
        self.now = now
        self.deliverer = deliverer or Deliverer(
            engine, client_factory, composer=CachedComposer(), now=now
        )
        self.scheduler = scheduler or make_scheduler(blocking=False, workers=workers)
        self.sync_seconds = sync_seconds
        self.workers = workers
        self._signatures: dict[int, tuple[int, int, int, str]] = {}
        self._sync_lock = threading.Lock()

    # ------------------------------------------------------------------ jobs
    def reconcile_jobs(self) -> tuple[int, int, int]:
        """Make the cron jobs match the active subscriptions: (added, rescheduled, removed)."""
        active = {sub.id: sub for sub in subs.list_active(self.engine)}
        added = rescheduled = removed = 0
        for sub_id in list(self._signatures):
            if sub_id not in active:
                self._remove_job(sub_id)
                removed += 1
        for sub_id, sub in active.items():
            known = self._signatures.get(sub_id)
            if known == _signature(sub):
                continue
            self.scheduler.add_job(
                self.fire,
                cron_trigger(sub),
                args=[sub_id],
                id=f"{JOB_PREFIX}{sub_id}",
                name=f"digest {sub.team_id}/{sub.channel_id} {sub.schedule_text}",
                replace_existing=True,
            )
            self._signatures[sub_id] = _signature(sub)
            if known is None:
                added += 1
            else:
                rescheduled += 1
        return added, rescheduled, removed

    def _remove_job(self, sub_id: int) -> None:
        job = self.scheduler.get_job(f"{JOB_PREFIX}{sub_id}")
        if job is not None:
            job.remove()
        self._signatures.pop(sub_id, None)

    def scheduled_ids(self) -> set[int]:
        return set(self._signatures)

    # ------------------------------------------------------------------ firing
    def fire(self, subscription_id: int) -> Outcome | None:
        """The cron job: deliver this subscription's digest for its latest send time."""
        sub = subs.get_by_id(self.engine, subscription_id)
        if sub is None or sub.status != "active":
            return None
        send_time = subs.previous_send_time(sub, self.now())
        if send_time < sub.updated_at:
            return None  # the schedule was set after this send time; its first one is next
        return self.deliverer.deliver(sub, send_time)

    def due(
        self, *, min_age: dt.timedelta = dt.timedelta(0)
    ) -> list[tuple[subs.SubscriptionView, dt.datetime]]:
        """Active subscriptions whose latest send time (at least ``min_age`` ago) has no
        finished delivery: never attempted, failed a while ago, or claimed by a dead clock."""
        now = self.now()
        candidates: list[tuple[subs.SubscriptionView, dt.datetime, dt.date]] = []
        for sub in subs.list_active(self.engine):
            send_time = subs.previous_send_time(sub, now)
            if send_time < sub.updated_at or now - send_time < min_age:
                continue
            candidates.append((sub, send_time, subs.digest_week(send_time)))
        if not candidates:
            return []
        oldest = min(week for _, _, week in candidates)
        with db.session_scope(self.engine) as session:
            rows = session.execute(
                select(
                    Delivery.subscription_id,
                    Delivery.week_start,
                    Delivery.status,
                    Delivery.claimed_at,
                    Delivery.finished_at,
                ).where(Delivery.week_start >= oldest)
            ).all()
        state = {(r[0], r[1]): (r[2], _aware(r[3]), _aware(r[4])) for r in rows}
        result = []
        for sub, send_time, week in candidates:
            found = state.get((sub.id, week))
            if found is None:
                result.append((sub, send_time))
                continue
            status, claimed_at, finished_at = found
            if (status == "failed" and finished_at and now - finished_at >= RETRY_FAILED_AFTER) or (
                status == "claimed" and claimed_at and now - claimed_at >= STALE_AFTER
            ):
                result.append((sub, send_time))
        return result

    def catch_up(
        self, *, min_age: dt.timedelta = dt.timedelta(0), progress: ProgressFn = no_progress
    ) -> list[Outcome]:
        """Deliver everything due (see ``due``), concurrently within Slack's limits."""
        return self.deliverer.deliver_many(
            self.due(min_age=min_age), workers=self.workers, progress=progress
        )

    def sync(self) -> SyncReport:
        """One pass of the periodic job: reconcile the cron jobs, then deliver what is due."""
        with self._sync_lock:
            added, rescheduled, removed = self.reconcile_jobs()
            outcomes = self.catch_up(min_age=CRON_HEAD_START)
        if added or rescheduled or removed or outcomes:
            logger.info(
                "sync: %d added, %d rescheduled, %d removed, %d delivered",
                added,
                rescheduled,
                removed,
                len(outcomes),
            )
        return SyncReport(added, rescheduled, removed, tuple(outcomes))

    # ------------------------------------------------------------------ running
    def prepare(self, progress: ProgressFn = no_progress) -> list[Outcome]:
        """Start-up: load the jobs and deliver, once and marked late, what downtime missed."""
        with self._sync_lock:
            self.reconcile_jobs()
            outcomes = self.catch_up(progress=progress)
        self._ensure_sync_job()
        return outcomes

    def _ensure_sync_job(self) -> None:
        self.scheduler.add_job(
            self.sync,
            IntervalTrigger(seconds=self.sync_seconds),
            id=SYNC_JOB_ID,
            name="subscriptions sync",
            replace_existing=True,
            misfire_grace_time=max(1, int(self.sync_seconds)),
        )

    def run(self, progress: ProgressFn = no_progress) -> None:
        """Catch up, then block running the scheduler (``chainbot clock``)."""
        self.prepare(progress)
        self.scheduler.start()

    def start_background(self, progress: ProgressFn = no_progress) -> BaseScheduler:
        """Run the scheduler in background threads (``serve --with-clock``); the start-up
        catch-up runs in a thread too, so a long one never delays the web app."""

        def begin() -> None:
            try:
                self.prepare(progress)
            finally:
                # Even if the catch-up failed (the database briefly away, say), the periodic
                # sync keeps the clock going and retries it.
                self._ensure_sync_job()

        self.scheduler.start()
        threading.Thread(target=begin, name="clock-catch-up", daemon=True).start()
        return self.scheduler

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def single_workspace_factory(token: str, api_url: str) -> ClientFactory:
    """One bot token for every team (the simple ``SLACK_BOT_TOKEN`` set-up)."""
    client = delivery_client(token, api_url)
    return lambda _team_id: client


def client_factory(cfg: SlackConfig, engine: Engine) -> ClientFactory:
    """Each workspace's own token in OAuth mode (looked up, and refreshed when rotation is
    on, right before each post); otherwise the one ``SLACK_BOT_TOKEN``."""
    if cfg.oauth is not None:
        from bot import oauth

        return oauth.clock_client_factory(engine, cfg.api_url)
    if cfg.bot_token is None:
        raise ConfigError("SLACK_BOT_TOKEN is not set")
    return single_workspace_factory(cfg.bot_token, cfg.api_url)


def start_background(cfg: SlackConfig, *, sync_seconds: float = DEFAULT_SYNC_SECONDS) -> Clock:
    """For ``chainbot serve --with-clock``: the clock in background threads of the web
    process, with the app's own configuration (database, tokens, Web API URL)."""
    engine = db.get_engine(cfg.database_url)
    clock = Clock(
        engine,
        client_factory(cfg, engine),
        scheduler=make_scheduler(blocking=False),
        sync_seconds=sync_seconds,
    )
    clock.start_background()
    return clock


def summarize(outcomes: Sequence[Outcome]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.outcome] = counts.get(outcome.outcome, 0) + 1
    return counts
