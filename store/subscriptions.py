"""Weekly digest subscriptions: one per channel, keyed by team, with their schedule.

Nothing here knows Slack. Every function takes the ``team_id`` of the caller and only ever
reads or writes that team's rows, so one workspace can never see or change another's.

Schedule grammar (what follows ``/chain subscribe``), every part optional, in any order::

    [weekday] [HH:MM] [time zone] [always | --no-skip | skip]

* weekday: ``monday`` .. ``sunday`` or a prefix of at least three letters (``tue``, ``thurs``).
* time: 24-hour ``H:MM`` or ``HH:MM``.
* time zone: an IANA name such as ``Asia/Shanghai`` or ``UTC`` (any letter case).
* ``always`` / ``--no-skip``: post even in weeks with nothing new (an "archive" edition);
  ``skip`` / ``--skip``: skip those weeks (the default).

Defaults: Monday 09:00 in the subscriber's own Slack time zone, else UTC.

Send times are computed in the subscription's zone, so a Monday 09:00 America/New_York
subscription is at 09:00 local on both sides of a daylight-saving change. A wall time that does
not exist on a given day (02:30 on a spring-forward Sunday) is taken with the offset in force
before the change, and an ambiguous one (01:30 on a fall-back Sunday) is its first occurrence;
both match what the clock's APScheduler cron trigger does.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from store import db
from store.errors import StoreError
from store.models import Delivery, Subscription, utcnow

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEFAULT_WEEKDAY = 0
DEFAULT_HOUR = 9
DEFAULT_MINUTE = 0
DEFAULT_TZ = "UTC"

_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_ALWAYS = {"always", "--no-skip", "--always", "no-skip", "noskip"}
_SKIP = {"skip", "--skip", "skip-empty", "--skip-empty"}


class ScheduleError(StoreError):
    """The schedule text could not be understood; the message says how to fix it."""


@dataclass(frozen=True)
class ScheduleSpec:
    """What the person typed; ``None`` means "use the default"."""

    weekday: int | None = None
    hour: int | None = None
    minute: int | None = None
    tz: str | None = None
    skip_empty: bool = True


@dataclass(frozen=True)
class SubscriptionView:
    """A subscription as callers see it (detached from any session)."""

    id: int
    team_id: str
    channel_id: str
    weekday: int
    hour: int
    minute: int
    tz: str
    skip_empty: bool
    status: str
    paused_reason: str | None
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @property
    def weekday_name(self) -> str:
        return WEEKDAYS[self.weekday].capitalize()

    @property
    def schedule_text(self) -> str:
        """E.g. ``Monday 09:00 America/New_York``."""
        return f"{self.weekday_name} {self.hour:02d}:{self.minute:02d} {self.tz}"


def _view(row: Subscription) -> SubscriptionView:
    return SubscriptionView(
        id=row.id,
        team_id=row.team_id,
        channel_id=row.channel_id,
        weekday=row.weekday,
        hour=row.hour,
        minute=row.minute,
        tz=row.tz,
        skip_empty=row.skip_empty,
        status=row.status,
        paused_reason=row.paused_reason,
        created_by=row.created_by,
        created_at=_aware(row.created_at),
        updated_at=_aware(row.updated_at),
    )


def _aware(value: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes even for timezone=True columns; we only store UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


# --------------------------------------------------------------------------- parsing


@functools.cache
def _zones_by_folded_name() -> dict[str, str]:
    return {name.casefold(): name for name in available_timezones()}


def canonical_tz(name: str) -> str | None:
    """The IANA spelling of ``name`` (case-insensitive), or None if it is not a zone."""
    text = name.strip()
    if not text:
        return None
    if text.casefold() in {"utc", "gmt", "z"}:
        return "UTC"
    found = _zones_by_folded_name().get(text.casefold())
    if found is None:
        return None
    try:
        ZoneInfo(found)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return found


def _weekday(token: str) -> int | None:
    word = token.casefold().rstrip(".,")
    if len(word) < 3:
        return None
    matches = [i for i, name in enumerate(WEEKDAYS) if name.startswith(word)]
    return matches[0] if len(matches) == 1 else None


def parse_schedule(text: str) -> ScheduleSpec:
    """Parse ``[weekday] [HH:MM] [time zone] [always|skip]``; raise ScheduleError with a
    message fit for the person who typed it."""
    weekday: int | None = None
    hour: int | None = None
    minute: int | None = None
    tz: str | None = None
    skip_empty = True
    for token in text.split():
        folded = token.casefold()
        if folded in _ALWAYS:
            skip_empty = False
            continue
        if folded in _SKIP:
            skip_empty = True
            continue
        day = _weekday(token)
        if day is not None:
            if weekday is not None and weekday != day:
                raise ScheduleError("give one weekday only, e.g. `monday`")
            weekday = day
            continue
        time_match = _TIME.match(token)
        if time_match:
            h, m = int(time_match.group(1)), int(time_match.group(2))
            if h > 23 or m > 59:
                raise ScheduleError(
                    f"`{token}` is not a time of day: use 24-hour HH:MM, e.g. `17:30`"
                )
            if hour is not None:
                raise ScheduleError("give one time only, e.g. `09:00`")
            hour, minute = h, m
            continue
        zone = canonical_tz(token)
        if zone is not None:
            if tz is not None:
                raise ScheduleError("give one time zone only, e.g. `Asia/Shanghai`")
            tz = zone
            continue
        raise ScheduleError(_unknown_token_message(token))
    return ScheduleSpec(weekday=weekday, hour=hour, minute=minute, tz=tz, skip_empty=skip_empty)


def _unknown_token_message(token: str) -> str:
    if re.match(r"^\d", token):
        return f"`{token}` is not a time: use 24-hour HH:MM, e.g. `09:00` or `17:30`"
    if "/" in token:
        return f"`{token}` is not a time zone I know: use an IANA name, e.g. `America/New_York`"
    return (
        f"I don't understand `{token}`. Try e.g. `tue 08:30 Asia/Shanghai`, `friday 17:00`, "
        "`UTC`, or add `always` to post even in weeks with nothing new."
    )


def resolve_spec(spec: ScheduleSpec, user_tz: str | None) -> ScheduleSpec:
    """Fill the defaults: Monday 09:00 in the user's own zone (if valid), else UTC."""
    tz = spec.tz or (canonical_tz(user_tz) if user_tz else None) or DEFAULT_TZ
    return ScheduleSpec(
        weekday=DEFAULT_WEEKDAY if spec.weekday is None else spec.weekday,
        hour=DEFAULT_HOUR if spec.hour is None else spec.hour,
        minute=DEFAULT_MINUTE if spec.minute is None else spec.minute,
        tz=tz,
        skip_empty=spec.skip_empty,
    )


# --------------------------------------------------------------------------- send times


def _local_send(day: dt.date, hour: int, minute: int, zone: ZoneInfo) -> dt.datetime:
    # fold=0: a gap time takes the offset before the change, an ambiguous time its first
    # occurrence (the same instants APScheduler's CronTrigger picks).
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone, fold=0)


def next_send_time(sub: SubscriptionView, after: dt.datetime) -> dt.datetime:
    """The first send time strictly after ``after``, in the subscription's zone."""
    zone = sub.zone
    start = after.astimezone(zone).date()
    for offset in range(8):
        day = start + dt.timedelta(days=offset)
        if day.weekday() != sub.weekday:
            continue
        candidate = _local_send(day, sub.hour, sub.minute, zone)
        if candidate.astimezone(dt.UTC) > after.astimezone(dt.UTC):
            return candidate
    raise AssertionError("a weekday recurs within 8 days")  # pragma: no cover


def previous_send_time(sub: SubscriptionView, now: dt.datetime) -> dt.datetime:
    """The most recent send time at or before ``now``, in the subscription's zone."""
    zone = sub.zone
    start = now.astimezone(zone).date()
    for offset in range(8):
        day = start - dt.timedelta(days=offset)
        if day.weekday() != sub.weekday:
            continue
        candidate = _local_send(day, sub.hour, sub.minute, zone)
        if candidate.astimezone(dt.UTC) <= now.astimezone(dt.UTC):
            return candidate
    raise AssertionError("a weekday recurs within 8 days")  # pragma: no cover


def digest_week(send_time: dt.datetime) -> dt.date:
    """The Monday of the week a digest sent at ``send_time`` covers: the calendar week
    (Monday to Sunday, in the subscription's zone) before the one it is sent in. This is also
    the delivery's key: one digest per subscription per covered week."""
    local_day = send_time.date()
    return local_day - dt.timedelta(days=local_day.weekday() + 7)


# --------------------------------------------------------------------------- storage


def subscribe(
    engine: Engine,
    *,
    team_id: str,
    channel_id: str,
    user_id: str,
    spec: ScheduleSpec,
    now: dt.datetime | None = None,
) -> tuple[SubscriptionView, bool]:
    """Create or update the channel's subscription (and resume it if paused).

    ``spec`` must be resolved (see ``resolve_spec``). Returns the subscription and whether it
    was created. The unique (team, channel) constraint arbitrates concurrent subscribes: the
    loser of an insert race retries as an update.
    """
    if spec.weekday is None or spec.hour is None or spec.minute is None or spec.tz is None:
        raise ValueError("resolve_spec() the schedule before subscribing")
    stamp = now or utcnow()
    for _attempt in range(2):
        try:
            with db.session_scope(engine) as session:
                row = session.scalar(
                    select(Subscription).where(
                        Subscription.team_id == team_id, Subscription.channel_id == channel_id
                    )
                )
                created = row is None
                if row is None:
                    row = Subscription(
                        team_id=team_id,
                        channel_id=channel_id,
                        created_by=user_id,
                        created_at=stamp,
                    )
                    session.add(row)
                row.weekday = spec.weekday
                row.hour = spec.hour
                row.minute = spec.minute
                row.tz = spec.tz
                row.skip_empty = spec.skip_empty
                row.status = "active"
                row.paused_reason = None
                row.updated_at = stamp
                session.flush()
                return _view(row), created
        except IntegrityError:
            continue  # another request inserted the same channel first: update it instead
    raise StoreError("could not save the subscription; please try again")


def unsubscribe(engine: Engine, *, team_id: str, channel_id: str) -> bool:
    """Remove the channel's subscription (and its delivery history). True if there was one."""
    with db.session_scope(engine) as session:
        row = session.scalar(
            select(Subscription).where(
                Subscription.team_id == team_id, Subscription.channel_id == channel_id
            )
        )
        if row is None:
            return False
        session.execute(delete(Delivery).where(Delivery.subscription_id == row.id))
        session.delete(row)
        return True


def get_for_channel(engine: Engine, *, team_id: str, channel_id: str) -> SubscriptionView | None:
    with db.session_scope(engine) as session:
        row = session.scalar(
            select(Subscription).where(
                Subscription.team_id == team_id, Subscription.channel_id == channel_id
            )
        )
        return _view(row) if row else None


def list_for_team(engine: Engine, *, team_id: str) -> list[SubscriptionView]:
    """The team's subscriptions by channel (for the App Home)."""
    with db.session_scope(engine) as session:
        rows = session.scalars(
            select(Subscription)
            .where(Subscription.team_id == team_id)
            .order_by(Subscription.channel_id)
        )
        return [_view(r) for r in rows]


def get_by_id(engine: Engine, subscription_id: int) -> SubscriptionView | None:
    """For the clock only (it serves every team); request handlers use the team-keyed calls."""
    with db.session_scope(engine) as session:
        row = session.get(Subscription, subscription_id)
        return _view(row) if row else None


def list_active(engine: Engine) -> list[SubscriptionView]:
    """Every active subscription of every team: for the clock only."""
    with db.session_scope(engine) as session:
        rows = session.scalars(
            select(Subscription).where(Subscription.status == "active").order_by(Subscription.id)
        )
        return [_view(r) for r in rows]


def pause(
    engine: Engine, *, team_id: str, channel_id: str, reason: str, now: dt.datetime | None = None
) -> bool:
    """Stop sending to a channel (e.g. the bot was removed), keeping why. True if changed."""
    with db.session_scope(engine) as session:
        row = session.scalar(
            select(Subscription).where(
                Subscription.team_id == team_id, Subscription.channel_id == channel_id
            )
        )
        if row is None or row.status == "paused":
            return False
        row.status = "paused"
        row.paused_reason = reason[:64]
        row.updated_at = now or utcnow()
        return True


def resume(
    engine: Engine, *, team_id: str, channel_id: str, now: dt.datetime | None = None
) -> bool:
    """Send again to a paused channel. True if it was paused."""
    with db.session_scope(engine) as session:
        row = session.scalar(
            select(Subscription).where(
                Subscription.team_id == team_id, Subscription.channel_id == channel_id
            )
        )
        if row is None or row.status != "paused":
            return False
        row.status = "active"
        row.paused_reason = None
        row.updated_at = now or utcnow()
        return True


def pause_team(engine: Engine, *, team_id: str, reason: str, now: dt.datetime | None = None) -> int:
    """Pause every active subscription of a team (e.g. the app was uninstalled)."""
    with db.session_scope(engine) as session:
        rows = session.scalars(
            select(Subscription).where(
                Subscription.team_id == team_id, Subscription.status == "active"
            )
        ).all()
        for row in rows:
            row.status = "paused"
            row.paused_reason = reason[:64]
            row.updated_at = now or utcnow()
        return len(rows)


# --------------------------------------------------------------------------- deliveries
#
# The exactly-once claim: a clock inserts the (subscription, week) row before posting and the
# unique constraint lets exactly one insert succeed. State changes after that are
# compare-and-set UPDATEs (``WHERE status = ...``), so two processes can never both win.


@dataclass(frozen=True)
class DeliveryView:
    id: int
    subscription_id: int
    team_id: str
    channel_id: str
    week_start: dt.date
    status: str
    claimed_by: str
    claimed_at: dt.datetime
    finished_at: dt.datetime | None
    scheduled_for: dt.datetime | None
    late: bool
    message_ts: str | None
    error: str | None
    item_count: int


def _delivery_view(row: Delivery) -> DeliveryView:
    return DeliveryView(
        id=row.id,
        subscription_id=row.subscription_id,
        team_id=row.team_id,
        channel_id=row.channel_id,
        week_start=row.week_start,
        status=row.status,
        claimed_by=row.claimed_by,
        claimed_at=_aware(row.claimed_at),
        finished_at=_aware(row.finished_at) if row.finished_at else None,
        scheduled_for=_aware(row.scheduled_for) if row.scheduled_for else None,
        late=row.late,
        message_ts=row.message_ts,
        error=row.error,
        item_count=row.item_count,
    )


@dataclass(frozen=True)
class Claim:
    """A won claim. ``retried_error`` is the error of the failed attempt it takes over."""

    delivery_id: int
    retried_error: str | None = None


def claim_delivery(
    engine: Engine,
    sub: SubscriptionView,
    week_start: dt.date,
    *,
    scheduled_for: dt.datetime,
    late: bool,
    claimed_by: str,
    now: dt.datetime,
    retry_failed_before: dt.datetime | None = None,
) -> Claim | None:
    """Claim the right to post ``sub``'s digest for ``week_start``; the claim, or None
    when another clock holds it (or it is done, or the subscription is gone).

    A row that ``failed`` earlier than ``retry_failed_before`` is taken over instead (a
    transient Slack error is retried on a later sync)."""
    try:
        with db.session_scope(engine) as session:
            row = Delivery(
                subscription_id=sub.id,
                team_id=sub.team_id,
                channel_id=sub.channel_id,
                week_start=week_start,
                status="claimed",
                claimed_by=claimed_by[:64],
                claimed_at=now,
                scheduled_for=scheduled_for,
                late=late,
            )
            session.add(row)
            session.flush()
            return Claim(row.id)
    except IntegrityError:
        pass  # the row exists (or the subscription was deleted meanwhile)
    if retry_failed_before is None:
        return None
    with db.session_scope(engine) as session:
        existing = session.execute(
            select(Delivery.id, Delivery.error).where(
                Delivery.subscription_id == sub.id, Delivery.week_start == week_start
            )
        ).first()
        if existing is None:
            return None
        result = session.execute(
            update(Delivery)
            .where(
                Delivery.id == existing.id,
                Delivery.status == "failed",
                Delivery.finished_at < retry_failed_before,
            )
            .values(
                status="claimed",
                claimed_by=claimed_by[:64],
                claimed_at=now,
                late=late,
                error=None,
                finished_at=None,
            )
        )
        return Claim(existing.id, existing.error) if result.rowcount == 1 else None


def take_over_stale(
    engine: Engine, delivery: DeliveryView, *, claimed_by: str, now: dt.datetime
) -> bool:
    """Take a ``claimed`` row whose owner went quiet, if nobody else did first."""
    with db.session_scope(engine) as session:
        result = session.execute(
            update(Delivery)
            .where(
                Delivery.id == delivery.id,
                Delivery.status == "claimed",
                Delivery.claimed_by == delivery.claimed_by,
                Delivery.claimed_at == delivery.claimed_at,
            )
            .values(claimed_by=claimed_by[:64], claimed_at=now)
        )
        return result.rowcount == 1


def still_owner(engine: Engine, delivery_id: int, claimed_by: str) -> bool:
    """Whether this clock still holds the claim (a last check just before posting)."""
    with db.session_scope(engine) as session:
        row = session.get(Delivery, delivery_id)
        return row is not None and row.status == "claimed" and row.claimed_by == claimed_by[:64]


def finish_delivery(
    engine: Engine,
    delivery_id: int,
    status: str,
    *,
    now: dt.datetime,
    message_ts: str | None = None,
    error: str | None = None,
    item_count: int | None = None,
) -> None:
    """Record the outcome: ``sent``, ``skipped``, ``failed`` or ``unknown`` (needs a human)."""
    values: dict[str, object] = {"status": status, "finished_at": now, "error": error}
    if message_ts is not None:
        values["message_ts"] = message_ts
    if item_count is not None:
        values["item_count"] = item_count
    with db.session_scope(engine) as session:
        session.execute(update(Delivery).where(Delivery.id == delivery_id).values(**values))


def note_delivery_error(engine: Engine, delivery_id: int, error: str) -> None:
    """Keep an error on a row without changing its status (e.g. a thread reply failed)."""
    with db.session_scope(engine) as session:
        session.execute(
            update(Delivery).where(Delivery.id == delivery_id).values(error=error[:200])
        )


def get_delivery(engine: Engine, subscription_id: int, week_start: dt.date) -> DeliveryView | None:
    with db.session_scope(engine) as session:
        row = session.scalar(
            select(Delivery).where(
                Delivery.subscription_id == subscription_id, Delivery.week_start == week_start
            )
        )
        return _delivery_view(row) if row else None


def deliveries_for_team(engine: Engine, *, team_id: str) -> list[DeliveryView]:
    """The team's delivery history, newest week first."""
    with db.session_scope(engine) as session:
        rows = session.scalars(
            select(Delivery)
            .where(Delivery.team_id == team_id)
            .order_by(Delivery.week_start.desc(), Delivery.channel_id)
        )
        return [_delivery_view(r) for r in rows]


def last_sent_at(
    engine: Engine, subscription_id: int, *, before_week: dt.date
) -> dt.datetime | None:
    """When the channel's previous digest was claimed (its "new since" cut-off): the claim
    time, not the finish time, so an article ingested while a digest was being composed is
    never lost (at worst it shows twice)."""
    with db.session_scope(engine) as session:
        value = session.scalar(
            select(func.max(Delivery.claimed_at)).where(
                Delivery.subscription_id == subscription_id,
                Delivery.status.in_(("sent", "skipped")),
                Delivery.week_start < before_week,
            )
        )
        return _aware(value) if value else None
