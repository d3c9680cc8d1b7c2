"""The exactly-once delivery claim across real processes, on SQLite and PostgreSQL: several
clocks racing over the same subscriptions and week win each (subscription, week) once."""

from __future__ import annotations

import datetime as dt
import sys

from pg import run_together
from sqlalchemy import func, select

from store import db, schema
from store.models import Delivery, Subscription

PROCESSES = 5
SUBSCRIPTIONS = 40
WEEK = dt.date(2026, 11, 16)

CLOCK = """
import datetime as dt, random, sys
from store import db, subscriptions as subs
engine = db.get_engine(sys.argv[1])
me = sys.argv[2]
views = subs.list_active(engine)
random.Random(me).shuffle(views)  # each clock walks the subscriptions in its own order
now = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
print("ready", flush=True)
sys.stdin.read()  # start together
won = [
    v.id
    for v in views
    if subs.claim_delivery(
        engine, v, dt.date(2026, 11, 16), scheduled_for=now, late=False, claimed_by=me, now=now
    )
]
print(" ".join(map(str, won)))
"""


def _subscribe_channels(url: str) -> None:
    engine = db.get_engine(url)
    schema.ensure_schema(engine)
    with db.session_scope(engine) as session:
        session.add_all(
            Subscription(
                team_id=f"T{i % 3}",
                channel_id=f"C{i:04d}",
                weekday=0,
                hour=9,
                minute=0,
                tz="UTC",
                created_by="U1",
            )
            for i in range(SUBSCRIPTIONS)
        )


def test_racing_clocks_claim_each_delivery_exactly_once(database_url: str) -> None:
    _subscribe_channels(database_url)
    results = run_together(
        [[sys.executable, "-c", CLOCK, database_url, f"clock-{n}"] for n in range(PROCESSES)]
    )
    assert [code for code, _, _ in results] == [0] * PROCESSES, [err for _, _, err in results]

    won = [int(x) for _, out, _ in results for x in out.split()]
    assert len(won) == SUBSCRIPTIONS, "every subscription claimed once in total"
    assert len(set(won)) == SUBSCRIPTIONS, "no subscription claimed twice"
    with db.session_scope(db.get_engine(database_url)) as session:
        rows = session.scalar(select(func.count()).select_from(Delivery))
        owners = session.scalars(select(Delivery.claimed_by).distinct()).all()
    assert rows == SUBSCRIPTIONS
    # The race was real: more than one clock won something.
    assert len(owners) > 1
