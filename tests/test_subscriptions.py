"""Subscriptions: parsing, storage keyed by team, send times across DST, survival of a
rebuild, and the delivery claim's database guarantees."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from store import Store
from store import subscriptions as subs
from store.db import get_engine
from store.schema import ensure_schema

UTC = dt.UTC
NY = ZoneInfo("America/New_York")


@pytest.fixture
def engine(tmp_path) -> Engine:
    eng = get_engine(f"sqlite:///{tmp_path / 'subs.sqlite3'}")
    ensure_schema(eng)
    return eng


def _subscribe(engine: Engine, team: str, channel: str, text: str = "", user_tz: str | None = None):
    spec = subs.resolve_spec(subs.parse_schedule(text), user_tz)
    return subs.subscribe(engine, team_id=team, channel_id=channel, user_id="U1", spec=spec)


# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tue 8:30 Asia/Shanghai", (1, 8, 30, "Asia/Shanghai", True)),
        ("friday 17:00", (4, 17, 0, None, True)),
        ("UTC", (None, None, None, "UTC", True)),
        ("", (None, None, None, None, True)),
        ("america/new_york Thurs 23:59 always", (3, 23, 59, "America/New_York", False)),
        ("--no-skip", (None, None, None, None, False)),
        ("sun 00:00 skip", (6, 0, 0, None, True)),
    ],
)
def test_parse_schedule_accepts(text: str, expected: tuple) -> None:
    spec = subs.parse_schedule(text)
    assert (spec.weekday, spec.hour, spec.minute, spec.tz, spec.skip_empty) == expected


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("25:00", "not a time of day"),
        ("9:75", "not a time of day"),
        ("Mars/Olympus", "not a time zone"),
        ("monday tuesday", "one weekday"),
        ("9:00 10:00", "one time"),
        ("UTC Asia/Tokyo", "one time zone"),
        ("tomorrow", "I don't understand `tomorrow`"),
        ("9am", "not a time"),
        ("t", "I don't understand"),
    ],
)
def test_parse_schedule_rejects_with_a_friendly_message(text: str, hint: str) -> None:
    with pytest.raises(subs.ScheduleError, match=hint):
        subs.parse_schedule(text)


def test_defaults_monday_nine_in_user_zone_else_utc() -> None:
    empty = subs.parse_schedule("")
    mine = subs.resolve_spec(empty, "Europe/Berlin")
    assert (mine.weekday, mine.hour, mine.minute, mine.tz) == (0, 9, 0, "Europe/Berlin")
    assert subs.resolve_spec(empty, None).tz == "UTC"
    assert subs.resolve_spec(empty, "Not/AZone").tz == "UTC"
    # An explicit zone wins over the user's.
    assert subs.resolve_spec(subs.parse_schedule("Asia/Tokyo"), "Europe/Berlin").tz == "Asia/Tokyo"


# --------------------------------------------------------------------------- send times


def _view(weekday: int, hour: int, minute: int, tz: str) -> subs.SubscriptionView:
    stamp = dt.datetime(2020, 1, 1, tzinfo=UTC)
    return subs.SubscriptionView(
        1, "T1", "C1", weekday, hour, minute, tz, True, "active", None, "U1", stamp, stamp
    )


def test_monday_nine_new_york_is_nine_local_on_both_sides_of_dst() -> None:
    sub = _view(0, 9, 0, "America/New_York")
    # Spring forward: Sunday 2026-03-08. Fall back: Sunday 2026-11-01.
    before_spring = subs.next_send_time(sub, dt.datetime(2026, 3, 1, tzinfo=UTC))
    after_spring = subs.next_send_time(sub, before_spring)
    before_fall = subs.next_send_time(sub, dt.datetime(2026, 10, 20, tzinfo=UTC))
    after_fall = subs.next_send_time(sub, before_fall)
    for moment in (before_spring, after_spring, before_fall, after_fall):
        local = moment.astimezone(NY)
        assert (local.weekday(), local.hour, local.minute) == (0, 9, 0)
    assert before_spring.astimezone(UTC).hour == 14  # EST
    assert after_spring.astimezone(UTC).hour == 13  # EDT
    assert before_fall.astimezone(UTC).hour == 13
    assert after_fall.astimezone(UTC).hour == 14
    assert after_spring.astimezone(UTC) - before_spring.astimezone(UTC) == dt.timedelta(hours=167)


def test_next_and_previous_send_times_bracket_now() -> None:
    sub = _view(4, 17, 0, "Asia/Shanghai")  # Friday 17:00 = 09:00 UTC
    now = dt.datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # exactly the send time
    assert subs.previous_send_time(sub, now) == now
    assert subs.next_send_time(sub, now) == now + dt.timedelta(days=7)
    just_before = now - dt.timedelta(seconds=1)
    assert subs.next_send_time(sub, just_before) == now
    assert subs.previous_send_time(sub, just_before) == now - dt.timedelta(days=7)


def test_digest_week_is_the_calendar_week_before_the_send() -> None:
    monday = dt.datetime(2019, 12, 23, 9, 0, tzinfo=NY)
    friday = dt.datetime(2019, 12, 27, 17, 0, tzinfo=NY)
    assert subs.digest_week(monday) == dt.date(2019, 12, 16)
    assert subs.digest_week(friday) == dt.date(2019, 12, 16)


# --------------------------------------------------------------------------- storage


def test_subscribe_upserts_one_row_per_channel_and_keeps_who_and_when(engine: Engine) -> None:
    first, created = _subscribe(engine, "T1", "C1", "tue 8:30 Asia/Shanghai")
    assert (
        created
        and first.created_by == "U1"
        and first.schedule_text == "Tuesday 08:30 Asia/Shanghai"
    )
    again, created = _subscribe(engine, "T1", "C1", "friday 17:00 UTC always")
    assert not created and again.id == first.id
    assert (again.weekday, again.hour, again.tz, again.skip_empty) == (4, 17, "UTC", False)
    assert again.created_at == first.created_at and again.updated_at >= first.updated_at
    assert len(subs.list_for_team(engine, team_id="T1")) == 1


def test_teams_never_see_or_change_each_others_subscriptions(engine: Engine) -> None:
    mine, _ = _subscribe(engine, "TA", "C1", "monday 09:00 UTC")
    theirs, _ = _subscribe(engine, "TB", "C1", "friday 17:00 UTC")  # same channel id
    assert mine.id != theirs.id
    assert [s.team_id for s in subs.list_for_team(engine, team_id="TA")] == ["TA"]
    assert subs.get_for_channel(engine, team_id="TA", channel_id="C1").weekday == 0
    # Team B's commands on "C1" only ever touch team B's row.
    assert subs.pause(engine, team_id="TB", channel_id="C1", reason="is_archived")
    assert subs.get_for_channel(engine, team_id="TA", channel_id="C1").status == "active"
    assert subs.unsubscribe(engine, team_id="TB", channel_id="C1")
    assert subs.get_for_channel(engine, team_id="TA", channel_id="C1") is not None
    assert not subs.unsubscribe(engine, team_id="TB", channel_id="C2")
    assert subs.pause_team(engine, team_id="TB", reason="app_uninstalled") == 0
    assert subs.get_for_channel(engine, team_id="TA", channel_id="C1").status == "active"


def test_pause_resume_and_resubscribe(engine: Engine) -> None:
    _subscribe(engine, "T1", "C1")
    assert subs.pause(engine, team_id="T1", channel_id="C1", reason="not_in_channel")
    paused = subs.get_for_channel(engine, team_id="T1", channel_id="C1")
    assert (paused.status, paused.paused_reason) == ("paused", "not_in_channel")
    assert subs.list_active(engine) == []
    assert subs.resume(engine, team_id="T1", channel_id="C1")
    assert not subs.resume(engine, team_id="T1", channel_id="C1")
    subs.pause(engine, team_id="T1", channel_id="C1", reason="is_archived")
    back, _ = _subscribe(engine, "T1", "C1")
    assert (back.status, back.paused_reason) == ("active", None)


def test_the_claim_is_a_unique_constraint_and_failed_rows_are_retried(engine: Engine) -> None:
    sub, _ = _subscribe(engine, "T1", "C1")
    week = dt.date(2019, 12, 16)
    now = dt.datetime(2019, 12, 23, 9, tzinfo=UTC)
    kwargs = {"scheduled_for": now, "late": False, "now": now}
    won = subs.claim_delivery(engine, sub, week, claimed_by="a:1", **kwargs)
    assert won is not None
    assert subs.claim_delivery(engine, sub, week, claimed_by="b:2", **kwargs) is None
    subs.finish_delivery(engine, won.delivery_id, "failed", now=now, error="fatal_error")
    # Not yet due for a retry, then due.
    assert (
        subs.claim_delivery(engine, sub, week, claimed_by="b:2", retry_failed_before=now, **kwargs)
        is None
    )
    later = now + dt.timedelta(minutes=10)
    retry = subs.claim_delivery(
        engine, sub, week, claimed_by="b:2", retry_failed_before=later, **kwargs
    )
    assert retry == subs.Claim(won.delivery_id, "fatal_error")
    assert subs.get_delivery(engine, sub.id, week).claimed_by == "b:2"
    # A sent row is never claimed again.
    subs.finish_delivery(engine, won.delivery_id, "sent", now=later, message_ts="1.2")
    assert (
        subs.claim_delivery(
            engine,
            sub,
            week,
            claimed_by="c:3",
            retry_failed_before=later + dt.timedelta(days=1),
            **kwargs,
        )
        is None
    )
    assert subs.last_sent_at(engine, sub.id, before_week=week + dt.timedelta(days=7)) == now


def test_subscriptions_and_history_survive_a_rebuild(seed_db_url: str) -> None:
    store = Store.open(seed_db_url, build_if_empty=False)
    sub, _ = _subscribe(store.engine, "T1", "C1", "wednesday 10:00 Europe/Paris")
    now = dt.datetime(2019, 12, 25, 9, tzinfo=UTC)
    claim = subs.claim_delivery(
        store.engine,
        sub,
        dt.date(2019, 12, 16),
        scheduled_for=now,
        late=False,
        claimed_by="a:1",
        now=now,
    )
    subs.finish_delivery(store.engine, claim.delivery_id, "sent", now=now, message_ts="9.9")
    store.build()
    assert subs.list_for_team(store.engine, team_id="T1") == [sub]
    history = subs.deliveries_for_team(store.engine, team_id="T1")
    assert [(d.week_start, d.status, d.message_ts) for d in history] == [
        (dt.date(2019, 12, 16), "sent", "9.9")
    ]
