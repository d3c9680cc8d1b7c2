"""The Slack app's own rows on SQLite and PostgreSQL: event receipts, autolink settings and
claims, recent queries. Claims are decided by the database under concurrency, and one
workspace never reads or changes another's rows."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

from sqlalchemy import Engine, func, select, update

from bot import autolink, home
from bot.app import RECEIPT_TTL, claim_event, prune_receipts
from store import Store, db
from store.models import EventReceipt, RecentQuery

RACERS = 8


def _race(claim: Callable[[], bool]) -> list[bool]:
    """Run ``claim`` in RACERS threads released together."""
    gate = threading.Barrier(RACERS)
    results: list[bool] = []
    lock = threading.Lock()

    def run() -> None:
        gate.wait()
        won = claim()
        with lock:
            results.append(won)

    threads = [threading.Thread(target=run) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _engine(database_url: str) -> Engine:
    return Store.open(database_url, build_if_empty=False).engine


def test_event_receipt_is_claimed_once_under_concurrency(database_url: str) -> None:
    engine = _engine(database_url)
    assert sorted(_race(lambda: claim_event(engine, "Ev1", "T1"))) == [False] * 7 + [True]
    assert claim_event(engine, "Ev2", "T1")


def test_old_receipts_are_pruned(database_url: str) -> None:
    engine = _engine(database_url)
    claim_event(engine, "EvOld", "T1")
    claim_event(engine, "EvNew", "T1")
    long_ago = dt.datetime.now(dt.UTC) - RECEIPT_TTL - dt.timedelta(hours=1)
    with db.session_scope(engine) as session:
        session.execute(
            update(EventReceipt)
            .where(EventReceipt.event_id == "EvOld")
            .values(received_at=long_ago)
        )
    assert prune_receipts(engine) == 1
    assert claim_event(engine, "EvOld", "T1")  # forgotten, so claimable again
    assert not claim_event(engine, "EvNew", "T1")


def test_autolink_claim_is_once_under_concurrency(database_url: str) -> None:
    engine, day = _engine(database_url), dt.date(2026, 3, 2)
    won = _race(lambda: autolink.claim(engine, "T1", "C1", "company:x", day))
    assert won.count(True) == 1


def test_autolink_settings_are_per_team_and_survive_racing_toggles(database_url: str) -> None:
    engine = _engine(database_url)
    _race(lambda: autolink.set_enabled(engine, "T1", "C1", True, "U1") or True)
    assert autolink.is_enabled(engine, "T1", "C1")
    assert not autolink.is_enabled(engine, "T2", "C1")  # workspace B sees nothing of A
    autolink.set_enabled(engine, "T2", "C1", False, "U2")
    assert autolink.is_enabled(engine, "T1", "C1")  # and cannot turn A's off


def test_recent_queries_are_per_team_user_newest_first_and_trimmed(seed_database_url: str) -> None:
    engine = _engine(seed_database_url)
    home.record_queries(
        engine,
        [("T1", "U1", "city:qingdao"), ("T1", "U1", "city:shanghai"), ("T2", "U1", "city:qingdao")],
    )
    home.record_query(engine, "T1", "U1", "city:qingdao")
    names = [e.name for e in home.recent_entities(engine, "T1", "U1")]
    assert names == ["Qingdao", "Shanghai"]
    assert [e.name for e in home.recent_entities(engine, "T2", "U1")] == ["Qingdao"]
    home.record_queries(engine, [("T1", "U1", "city:qingdao")] * (home.RECENT_KEPT + 5))
    with db.session_scope(engine) as session:
        kept = session.scalar(
            select(func.count()).select_from(RecentQuery).where(RecentQuery.team_id == "T1")
        )
    assert kept == home.RECENT_KEPT
