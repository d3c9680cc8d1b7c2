"""App Home data: recently asked entities (table ``recent_queries``), the store's counts and
the workspace's digest subscriptions, gathered for ``bot.render.home``."""

from __future__ import annotations

import importlib
import logging
import os
import threading
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, delete, func, select

from bot.cache import CachedStore
from bot.render.home import HomeData, HomeSubscription, render_home
from store import Store, db
from store.answers import EntityRef
from store.models import Entity, RecentQuery

RECENT_SHOWN = 10
# Rows kept per user; older ones are trimmed when a new one is recorded.
RECENT_KEPT = 50
SUBSCRIPTIONS_MODULE = "store.subscriptions"
RECORD_INTERVAL = 0.25

log = logging.getLogger("chainbot.home")


def record_queries(engine: Engine, asked: Sequence[tuple[str, str, str]]) -> None:
    """Remember lookups ``(team_id, user_id, slug)`` in one transaction, and trim each
    user's history to the newest ``RECENT_KEPT``."""
    if not asked:
        return
    with db.session_scope(engine) as session:
        session.add_all(
            RecentQuery(team_id=team, user_id=user, entity_slug=slug) for team, user, slug in asked
        )
        session.flush()
        for team_id, user_id in {(team, user) for team, user, _ in asked}:
            keep = (
                select(RecentQuery.id)
                .where(RecentQuery.team_id == team_id, RecentQuery.user_id == user_id)
                .order_by(RecentQuery.asked_at.desc(), RecentQuery.id.desc())
                .limit(RECENT_KEPT)
            )
            session.execute(
                delete(RecentQuery).where(
                    RecentQuery.team_id == team_id,
                    RecentQuery.user_id == user_id,
                    RecentQuery.id.not_in(keep.scalar_subquery()),
                )
            )


def record_query(engine: Engine, team_id: str, user_id: str, slug: str) -> None:
    record_queries(engine, [(team_id, user_id, slug)])


class QueryRecorder:
    """Records lookups off the request path: ``add`` queues, a background thread writes
    what has queued every ``interval`` seconds in one transaction. A lookup's answer never
    waits for a database write (nor for another worker's write lock); "recently asked" is
    at most ``interval`` behind, and a crash loses at most that much of it.

    The thread starts on first use, so a recorder created before ``fork`` is safe."""

    def __init__(self, engine: Engine, interval: float = RECORD_INTERVAL) -> None:
        self._engine = engine
        self._interval = interval
        self._pending: list[tuple[str, str, str]] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def add(self, team_id: str, user_id: str, slug: str) -> None:
        with self._lock:
            self._pending.append((team_id, user_id, slug))
            if self._thread is None or self._pid != os.getpid():
                self._pid = os.getpid()
                self._thread = threading.Thread(
                    target=self._run, name="recent-queries", daemon=True
                )
                self._thread.start()

    def flush(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
        try:
            record_queries(self._engine, batch)
        except Exception:  # a lost "recently asked" entry is not worth a crash
            log.exception("could not record %d recent queries", len(batch))

    def _run(self) -> None:
        while True:
            time.sleep(self._interval)
            self.flush()


def recent_entities(
    engine: Engine, team_id: str, user_id: str, limit: int = RECENT_SHOWN
) -> list[EntityRef]:
    """The entities this user asked about, most recent first, each once; slugs a rebuild no
    longer knows are left out."""
    with db.session_scope(engine) as session:
        rows = session.execute(
            select(RecentQuery.entity_slug, func.max(RecentQuery.asked_at).label("last"))
            .where(RecentQuery.team_id == team_id, RecentQuery.user_id == user_id)
            .group_by(RecentQuery.entity_slug)
            .order_by(func.max(RecentQuery.asked_at).desc())
            .limit(limit)
        ).all()
        slugs = [row[0] for row in rows]
        found = {
            e.slug: EntityRef(slug=e.slug, name=e.name, kind=e.kind)
            for e in session.scalars(select(Entity).where(Entity.slug.in_(slugs)))
        }
    return [found[slug] for slug in slugs if slug in found]


def team_subscriptions(engine: Engine, team_id: str) -> list[HomeSubscription] | None:
    """The team's digest subscriptions, or None while the weekly digest is not installed."""
    try:
        subscriptions: Any = importlib.import_module(SUBSCRIPTIONS_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != SUBSCRIPTIONS_MODULE:
            raise
        return None
    return [
        HomeSubscription(
            channel_id=s.channel_id,
            weekday=s.weekday,
            hour=s.hour,
            minute=s.minute,
            tz=s.tz,
            status=s.status,
            paused_reason=s.paused_reason,
        )
        for s in subscriptions.list_for_team(engine, team_id=team_id)
    ]


def home_view(store: Store | CachedStore, team_id: str, user_id: str) -> dict[str, Any]:
    stats = store.stats()
    data = HomeData(
        documents=stats.documents,
        facts=stats.facts,
        entities_by_kind=dict(stats.entities_by_kind),
        recent=recent_entities(store.engine, team_id, user_id),
        subscriptions=team_subscriptions(store.engine, team_id),
    )
    return render_home(data)
