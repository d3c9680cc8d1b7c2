"""A per-process memo in front of the store, for the web workers.

The store's answers depend only on its build (``Store.generation()``): between two builds the
same query always gets the same answer. A card takes the store several milliseconds to
assemble (profiles join facts, mentions, links and sources); from memory it is free. So each
worker keeps answers, profiles, lists and mentions in bounded LRU caches, and drops them all
when the generation changes.

The generation is re-read at most every ``check_every`` seconds, so after ``chainbot build``
(or an ingest) a worker may answer from the previous build for up to that long. App tables
(autolink, subscriptions, recent queries) are never cached: they go to ``store.engine``.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from store import Store
from store.answers import Answer, EntityRef, Profile
from store.api import Stats

CHECK_EVERY_SECONDS = 2.0
ANSWERS = 4096
PROFILES = 4096
MENTIONS = 2048
LISTS = 512


class CachedStore:
    """The subset of ``Store`` the Slack app reads, memoised per store generation."""

    def __init__(
        self,
        store: Store,
        *,
        check_every: float = CHECK_EVERY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        enabled: bool = True,
    ) -> None:
        self.store = store
        # Off only to measure what the memo saves (bench.http): every call goes through.
        self.enabled = enabled
        self._check_every = check_every
        self._clock = clock
        self._lock = threading.Lock()
        self._checked_at = float("-inf")
        self._generation: str | None = None
        self._reset()

    @property
    def engine(self) -> Engine:
        return self.store.engine

    def _reset(self) -> None:
        store = self.store
        if not self.enabled:
            self._answer, self._profile, self._stats = store.answer, store.profile, store.stats
            self._mentions, self._featured = store.mentions, store.featured
            self._list = lambda kind, offset, limit: store.list_entities(
                kind, offset=offset, limit=limit
            )
            return
        self._answer = functools.lru_cache(ANSWERS)(store.answer)
        self._profile = functools.lru_cache(PROFILES)(store.profile)
        self._mentions = functools.lru_cache(MENTIONS)(lambda text: tuple(store.mentions(text)))
        self._list = functools.lru_cache(LISTS)(
            lambda kind, offset, limit: store.list_entities(kind, offset=offset, limit=limit)
        )
        self._stats = functools.lru_cache(1)(store.stats)
        self._featured = functools.lru_cache(1)(store.featured)

    def _fresh(self) -> None:
        """Drop everything if the store was rebuilt (checked at most every few seconds)."""
        now = self._clock()
        if not self.enabled or now - self._checked_at < self._check_every:
            return
        with self._lock:
            if now - self._checked_at < self._check_every:
                return
            generation = self.store.generation()
            if generation != self._generation:
                self._generation = generation
                self._reset()
            self._checked_at = now

    def generation(self) -> str | None:
        if not self.enabled:
            return self.store.generation()
        self._fresh()
        return self._generation

    def answer(self, query: str) -> Answer:
        self._fresh()
        return self._answer(query)

    def profile(self, slug: str) -> Profile:
        self._fresh()
        return self._profile(slug)

    def mentions(self, text: str) -> list[EntityRef]:
        self._fresh()
        return list(self._mentions(text))

    def list_entities(
        self, kind: str, *, offset: int = 0, limit: int = 10
    ) -> tuple[list[EntityRef], int]:
        self._fresh()
        entities, total = self._list(kind, offset, limit)
        return list(entities), total

    def stats(self) -> Stats:
        self._fresh()
        return self._stats()

    def featured(self) -> list[EntityRef]:
        self._fresh()
        return list(self._featured())

    def __getattr__(self, name: str) -> Any:
        # Anything not memoised (build, resolve, ...) goes straight to the store.
        return getattr(self.store, name)
