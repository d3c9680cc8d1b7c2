"""Delivering one digest: claim, post (first message, then the thread), mark; Slack errors,
429s, pacing, stale claims and the log line. Against the fake Slack Web API on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
import logging
import threading
import urllib.error
from collections.abc import Callable, Iterator

import pytest
from fakeslack import FakeSlack
from sqlalchemy import Engine

from bot.delivery import (
    METADATA_EVENT,
    ComposedDigest,
    Deliverer,
    DigestRequest,
    Pacer,
    compose_with_store,
    delivery_client,
)
from bot.render.blocks import Message
from store import subscriptions as subs
from store.db import get_engine
from store.schema import ensure_schema

UTC = dt.UTC
TOKEN = "xoxb-digest-secret-token-4242"
# Monday 2019-12-23 09:00 in New York: the digest covers the week of 2019-12-16 (seed 004).
SEND = dt.datetime(2019, 12, 23, 14, 0, tzinfo=UTC)
WEEK = dt.date(2019, 12, 16)


class StubComposer:
    """A digest of ``parts`` messages (or nothing new), recording what it was asked."""

    def __init__(self, parts: int = 2, has_news: bool = True) -> None:
        self.parts = parts
        self.has_news = has_news
        self.calls: list[dict[str, object]] = []
        self._lock = threading.Lock()

    def __call__(self, engine: Engine, request: DigestRequest) -> ComposedDigest:
        with self._lock:
            self.calls.append(dataclasses.asdict(request))
        week_start, late = request.week_start, request.late_note
        messages = [
            Message(
                text=f"Digest {week_start} part {i}" + (f" ({late})" if late and i == 1 else ""),
                blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": f"part {i}"}}],
            )
            for i in range(1, self.parts + 1)
        ]
        return ComposedDigest(messages=messages, item_count=3 * self.parts, has_news=self.has_news)


class Now:
    """A clock the test moves by hand."""

    def __init__(self, start: dt.datetime) -> None:
        self.value = start

    def __call__(self) -> dt.datetime:
        return self.value


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def engine(database_url: str) -> Engine:
    eng = get_engine(database_url)
    ensure_schema(eng)
    return eng


def factory(slack: FakeSlack) -> Callable[[str], object]:
    client = delivery_client(TOKEN, slack.api_url)
    return lambda _team: client


def deliverer(
    engine: Engine,
    slack: FakeSlack,
    *,
    composer: object | None = None,
    owner: str = "host-a:1",
    now: Callable[[], dt.datetime] | None = None,
    interval: float = 1.0,
) -> Deliverer:
    return Deliverer(
        engine,
        factory(slack),
        composer=composer or StubComposer(),
        pacer=Pacer(interval),
        now=now or Now(SEND + dt.timedelta(seconds=5)),
        owner=owner,
    )


def subscribe(
    engine: Engine,
    channel: str,
    text: str = "monday 09:00 America/New_York",
    team: str = "T1",
    user: str = "U1",
    at: dt.datetime = SEND - dt.timedelta(days=30),
) -> subs.SubscriptionView:
    spec = subs.resolve_spec(subs.parse_schedule(text), None)
    view, _ = subs.subscribe(
        engine, team_id=team, channel_id=channel, user_id=user, spec=spec, now=at
    )
    return view


def top_posts(slack: FakeSlack, channel: str | None = None) -> list:
    return [
        c
        for c in slack.ok_calls("chat.postMessage")
        if "thread_ts" not in c.params and (channel is None or c.channel == channel)
    ]


# --------------------------------------------------------------------------- happy path


def test_posts_top_message_then_thread_with_metadata_and_marks_sent(
    engine: Engine, slack: FakeSlack
) -> None:
    sub = subscribe(engine, "C1")
    outcome = deliverer(engine, slack, composer=StubComposer(parts=3)).deliver(sub, SEND)
    assert (outcome.outcome, outcome.messages, outcome.late) == ("sent", 3, False)
    posts = slack.ok_calls("chat.postMessage")
    assert [p.params["text"] for p in posts] == [f"Digest {WEEK} part {i}" for i in (1, 2, 3)]
    top, *replies = posts
    assert "thread_ts" not in top.params
    assert {r.params["thread_ts"] for r in replies} == {outcome.message_ts}
    assert top.params["metadata"] == {
        "event_type": METADATA_EVENT,
        "event_payload": {"subscription_id": sub.id, "week_start": WEEK.isoformat()},
    }
    row = subs.get_delivery(engine, sub.id, WEEK)
    assert (row.status, row.message_ts, row.claimed_by, row.item_count) == (
        "sent",
        outcome.message_ts,
        "host-a:1",
        9,
    )
    # Replies to one channel are paced at one message per second.
    gaps = [b.at - a.at for a, b in itertools.pairwise(posts)]
    assert all(gap >= 0.95 for gap in gaps)


def test_new_since_is_the_previous_digest_claim(engine: Engine, slack: FakeSlack) -> None:
    sub = subscribe(engine, "C1")
    composer = StubComposer(parts=1)
    first_now = Now(SEND)
    deliverer(engine, slack, composer=composer, now=first_now).deliver(sub, SEND)
    later = Now(SEND + dt.timedelta(days=7))
    deliverer(engine, slack, composer=composer, now=later).deliver(sub, SEND + dt.timedelta(days=7))
    assert composer.calls[0]["new_since"] is None
    assert composer.calls[1]["new_since"] == SEND
    assert composer.calls[1]["week_start"] == WEEK + dt.timedelta(days=7)


def test_skip_empty_weeks_posts_nothing_and_always_asks_for_the_archive(
    engine: Engine, slack: FakeSlack
) -> None:
    skipping = subscribe(engine, "C1")
    always = subscribe(engine, "C2", "monday 09:00 America/New_York always")
    composer = StubComposer(parts=1, has_news=False)
    d = deliverer(engine, slack, composer=composer)
    assert d.deliver(skipping, SEND).outcome == "skipped"
    assert d.deliver(always, SEND).outcome == "sent"
    assert [c["archive_if_empty"] for c in composer.calls] == [False, True]
    assert [p.channel for p in top_posts(slack)] == ["C2"]
    assert subs.get_delivery(engine, skipping.id, WEEK).status == "skipped"


def test_late_delivery_says_so(engine: Engine, slack: FakeSlack) -> None:
    sub = subscribe(engine, "C1")
    composer = StubComposer(parts=1)
    outcome = deliverer(
        engine, slack, composer=composer, now=Now(SEND + dt.timedelta(hours=5))
    ).deliver(sub, SEND)
    assert outcome.late
    note = composer.calls[0]["late_note"]
    assert "late" in note and "Monday 2019-12-23 09:00 America/New_York (14:00 UTC)" in note
    assert note in top_posts(slack)[0].params["text"]
    assert subs.get_delivery(engine, sub.id, WEEK).late


def test_real_composer_posts_the_week_of_004_in_a_thread(
    seed_database_url: str, slack: FakeSlack
) -> None:
    engine = get_engine(seed_database_url)
    sub = subscribe(engine, "C1")
    outcome = deliverer(engine, slack, composer=compose_with_store).deliver(sub, SEND)
    assert outcome.outcome == "sent"
    posts = slack.ok_calls("chat.postMessage")
    assert len(posts) == outcome.messages >= 1
    assert "Industry Blockchain Weekly News" in posts[0].params["text"]
    assert all(p.params["text"] and p.params["blocks"] for p in posts)
    assert subs.get_delivery(engine, sub.id, WEEK).item_count > 5


# --------------------------------------------------------------------------- exactly once


def test_a_second_clock_finds_the_claim_and_posts_nothing(engine: Engine, slack: FakeSlack) -> None:
    sub = subscribe(engine, "C1")
    assert deliverer(engine, slack, owner="a:1").deliver(sub, SEND).outcome == "sent"
    assert deliverer(engine, slack, owner="b:2").deliver(sub, SEND).outcome == "not_ours"
    assert len(top_posts(slack)) == 1


def test_threads_racing_for_one_claim_post_once(engine: Engine, slack: FakeSlack) -> None:
    sub = subscribe(engine, "C1")
    racers = 6
    barrier = threading.Barrier(racers)
    outcomes: list[str] = []

    def race(n: int) -> None:
        d = deliverer(engine, slack, owner=f"racer:{n}", composer=StubComposer(parts=1))
        barrier.wait()
        outcomes.append(d.deliver(sub, SEND).outcome)

    threads = [threading.Thread(target=race, args=(n,)) for n in range(racers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["not_ours"] * (racers - 1) + ["sent"]
    assert len(top_posts(slack)) == 1


# --------------------------------------------------------------------------- Slack trouble


def test_a_429_burst_delays_but_loses_nothing(engine: Engine, slack: FakeSlack) -> None:
    sub = subscribe(engine, "C1")
    slack.rate_limit("chat.postMessage", times=2, retry_after=1)
    d = deliverer(engine, slack, composer=StubComposer(parts=2))
    outcome = d.deliver(sub, SEND)
    assert outcome.outcome == "sent" and d.counters.ratelimited == 2
    calls = slack.calls("chat.postMessage")
    assert [c.status for c in calls] == [429, 429, 200, 200]
    assert calls[1].at - calls[0].at >= 0.95 and calls[2].at - calls[1].at >= 0.95
    assert len(slack.ok_calls("chat.postMessage")) == 2


@pytest.mark.parametrize(
    "error", ["is_archived", "not_in_channel", "channel_not_found", "account_inactive"]
)
def test_unpostable_channel_is_paused_subscriber_told_others_served(
    engine: Engine, slack: FakeSlack, error: str
) -> None:
    subs_ = [subscribe(engine, f"C{i}", user=f"U{i}") for i in (1, 2, 3)]
    slack.fail("chat.postMessage", error, channel="C2")
    d = deliverer(engine, slack, composer=StubComposer(parts=1))
    outcomes = d.deliver_many([(s, SEND) for s in subs_], workers=3)
    by_channel = {o.channel_id: o.outcome for o in outcomes}
    assert by_channel == {"C1": "sent", "C2": "paused", "C3": "sent"}
    paused = subs.get_for_channel(engine, team_id="T1", channel_id="C2")
    assert (paused.status, paused.paused_reason) == ("paused", error)
    dm = [c for c in slack.ok_calls("chat.postMessage") if c.channel == "U2"]
    assert len(dm) == 1 and error in dm[0].params["text"] and "<#C2>" in dm[0].params["text"]
    assert subs.get_delivery(engine, subs_[1].id, WEEK).error == error
    assert [s.channel_id for s in subs.list_active(engine)] == ["C1", "C3"]


def test_revoked_token_pauses_without_crashing_when_the_dm_fails_too(
    engine: Engine, slack: FakeSlack
) -> None:
    sub = subscribe(engine, "C1")
    slack.fail("chat.postMessage", "token_revoked")
    outcome = deliverer(engine, slack).deliver(sub, SEND)
    assert (outcome.outcome, outcome.error) == ("paused", "token_revoked")
    assert [c.channel for c in slack.calls("chat.postMessage")] == ["C1", "U1"]


def test_a_500_fails_then_a_later_retry_checks_the_channel_before_posting(
    engine: Engine, slack: FakeSlack
) -> None:
    sub = subscribe(engine, "C1")
    slack.server_error("chat.postMessage", times=1, status=500)
    now = Now(SEND)
    assert deliverer(engine, slack, now=now).deliver(sub, SEND).outcome == "failed"
    row = subs.get_delivery(engine, sub.id, WEEK)
    assert (row.status, row.error) == ("failed", "maybe posted: fatal_error")
    # Too soon for a retry.
    assert deliverer(engine, slack, now=now).deliver(sub, SEND).outcome == "not_ours"
    # Later: Slack's history shows the message did arrive, so nothing is posted again.
    slack.set_response(
        "conversations.history",
        {
            "messages": [
                {
                    "ts": "1577109600.000100",
                    "metadata": {
                        "event_type": METADATA_EVENT,
                        "event_payload": {"subscription_id": sub.id, "week_start": str(WEEK)},
                    },
                }
            ]
        },
    )
    now.value = SEND + dt.timedelta(minutes=10)
    outcome = deliverer(engine, slack, now=now).deliver(sub, SEND)
    assert (outcome.outcome, outcome.message_ts) == ("sent", "1577109600.000100")
    assert top_posts(slack) == []
    history = slack.calls("conversations.history")[0].params
    assert history["channel"] == "C1" and history["include_all_metadata"] in (True, "true", "1")


def test_a_failed_retry_posts_when_history_shows_nothing(engine: Engine, slack: FakeSlack) -> None:
    sub = subscribe(engine, "C1")
    slack.server_error("chat.postMessage", times=1, status=503)
    now = Now(SEND)
    deliverer(engine, slack, now=now).deliver(sub, SEND)
    slack.set_response("conversations.history", {"messages": []})
    now.value = SEND + dt.timedelta(minutes=10)
    outcome = deliverer(engine, slack, now=now).deliver(sub, SEND)
    assert (outcome.outcome, outcome.late) == ("sent", True)
    assert len(top_posts(slack)) == 1


def test_a_definite_slack_error_is_retried_without_looking(
    engine: Engine, slack: FakeSlack
) -> None:
    sub = subscribe(engine, "C1")
    slack.fail("chat.postMessage", "msg_blocks_too_long", times=1)
    now = Now(SEND)
    assert deliverer(engine, slack, now=now).deliver(sub, SEND).outcome == "failed"
    now.value = SEND + dt.timedelta(minutes=10)
    assert deliverer(engine, slack, now=now).deliver(sub, SEND).outcome == "sent"
    assert slack.calls("conversations.history") == []


def _stale_claim(engine: Engine, sub: subs.SubscriptionView) -> None:
    subs.claim_delivery(
        engine, sub, WEEK, scheduled_for=SEND, late=False, claimed_by="dead:9", now=SEND
    )


def test_a_stale_claim_already_posted_is_marked_sent_not_reposted(
    engine: Engine, slack: FakeSlack
) -> None:
    sub = subscribe(engine, "C1")
    _stale_claim(engine, sub)
    slack.set_response(
        "conversations.history",
        {
            "messages": [
                {"ts": "1.1", "metadata": {"event_type": "other"}},
                {
                    "ts": "1577109600.000200",
                    "metadata": {
                        "event_type": METADATA_EVENT,
                        "event_payload": {"subscription_id": sub.id, "week_start": str(WEEK)},
                    },
                },
            ]
        },
    )
    # Not stale yet: left alone.
    fresh = deliverer(engine, slack, now=Now(SEND + dt.timedelta(minutes=5)))
    assert fresh.deliver(sub, SEND).outcome == "not_ours"
    outcome = deliverer(engine, slack, now=Now(SEND + dt.timedelta(hours=1))).deliver(sub, SEND)
    assert (outcome.outcome, outcome.message_ts) == ("sent", "1577109600.000200")
    assert top_posts(slack) == []


def test_a_stale_claim_that_cannot_be_checked_is_left_for_a_human(
    engine: Engine, slack: FakeSlack
) -> None:
    sub = subscribe(engine, "C1")
    _stale_claim(engine, sub)
    slack.fail("conversations.history", "missing_scope")
    outcome = deliverer(engine, slack, now=Now(SEND + dt.timedelta(hours=1))).deliver(sub, SEND)
    assert outcome.outcome == "unknown"
    row = subs.get_delivery(engine, sub.id, WEEK)
    assert (row.status, row.error) == ("unknown", "unverifiable: missing_scope")
    assert top_posts(slack) == []


def test_a_stale_claim_never_posted_is_delivered_late(engine: Engine, slack: FakeSlack) -> None:
    sub = subscribe(engine, "C1")
    _stale_claim(engine, sub)
    slack.set_response("conversations.history", {"messages": []})
    outcome = deliverer(engine, slack, now=Now(SEND + dt.timedelta(hours=1))).deliver(sub, SEND)
    assert (outcome.outcome, outcome.late) == ("sent", True)
    assert len(top_posts(slack)) == 1


# --------------------------------------------------------------------------- pacing, logs


def test_pacer_one_per_second_per_channel_and_team_wide_back_off() -> None:
    clock = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(round(seconds, 3))
        clock[0] += seconds

    pacer = Pacer(1.0, clock=lambda: clock[0], sleep=sleep)
    pacer.wait_turn("T1", "C1")
    pacer.wait_turn("T1", "C2")
    assert slept == []
    pacer.wait_turn("T1", "C1")
    assert slept == [1.0]
    pacer.back_off("T1", 5)
    pacer.wait_turn("T1", "C3")  # a fresh channel still waits for the team's Retry-After
    assert slept == [1.0, 5.0]
    pacer.wait_turn("T2", "C1")  # another workspace is not held up
    assert slept == [1.0, 5.0]
    # After a 429 the team's posts go one at a time, a (growing) gap apart.
    pacer.wait_turn("T1", "C4")
    assert slept == [1.0, 5.0, pytest.approx(Pacer.MIN_GAP)]
    pacer.back_off("T1", 0)
    assert pacer.gap("T1") == pytest.approx(2 * Pacer.MIN_GAP)
    for _ in range(200):
        pacer.succeeded("T1")
    assert pacer.gap("T1") == 0.0


def test_one_structured_log_line_per_delivery_without_the_token(
    engine: Engine, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    ok = subscribe(engine, "C1")
    gone = subscribe(engine, "C2")
    slack.fail("chat.postMessage", "channel_not_found", channel="C2")
    caplog.set_level(logging.DEBUG)
    d = deliverer(engine, slack, composer=StubComposer(parts=1))
    d.deliver(ok, SEND)
    d.deliver(gone, SEND)
    lines = [r.getMessage() for r in caplog.records if r.name == "chainbot.delivery"]
    records = [json.loads(line.split(" ", 1)[1]) for line in lines if line.startswith("digest ")]
    assert [(r["channel"], r["outcome"]) for r in records] == [("C1", "sent"), ("C2", "paused")]
    for record in records:
        assert {"team", "channel", "week", "outcome", "latency_ms", "late"} <= record.keys()
        assert record["week"] == "2019-12-16" and record["team"] == "T1"
    everything = caplog.text + repr([r.__dict__ for r in caplog.records])
    assert TOKEN not in everything and TOKEN[5:] not in everything


class FlakyClient:
    """A WebClient whose n-th posts (counting from 1) fail at the connection level."""

    def __init__(self, real: object, failures: dict[int, BaseException]) -> None:
        self.real = real
        self.failures = failures
        self.count = 0

    def chat_postMessage(self, **kwargs: object) -> object:
        self.count += 1
        if self.count in self.failures:
            raise self.failures[self.count]
        return self.real.chat_postMessage(**kwargs)


def _flaky(engine: Engine, slack: FakeSlack, failures: dict[int, BaseException]) -> Deliverer:
    client = FlakyClient(delivery_client(TOKEN, slack.api_url), failures)
    return Deliverer(
        engine,
        lambda _team: client,
        composer=StubComposer(parts=2),
        pacer=Pacer(1.0),
        now=Now(SEND),
        owner="flaky:1",
    )


def test_a_refused_connection_is_retried_at_once(engine: Engine, slack: FakeSlack) -> None:
    sub = subscribe(engine, "C1")
    refused = urllib.error.URLError(ConnectionRefusedError(111, "Connection refused"))
    outcome = _flaky(engine, slack, {1: refused}).deliver(sub, SEND)
    assert (outcome.outcome, outcome.error) == ("sent", None)
    assert len(slack.ok_calls("chat.postMessage")) == 2


def test_a_reset_top_post_is_never_resent_blindly(engine: Engine, slack: FakeSlack) -> None:
    sub = subscribe(engine, "C1")
    outcome = _flaky(engine, slack, {1: ConnectionResetError(104, "reset")}).deliver(sub, SEND)
    assert (outcome.outcome, outcome.error) == ("failed", "maybe posted: ConnectionResetError")
    assert slack.calls("chat.postMessage") == []


def test_a_reset_thread_reply_is_retried(engine: Engine, slack: FakeSlack) -> None:
    sub = subscribe(engine, "C1")
    outcome = _flaky(engine, slack, {2: ConnectionResetError(104, "reset")}).deliver(sub, SEND)
    assert (outcome.outcome, outcome.error) == ("sent", None)
    posts = slack.ok_calls("chat.postMessage")
    assert [bool(c.params.get("thread_ts")) for c in posts] == [False, True]
