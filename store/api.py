"""The store's public face: everything the CLI and the Slack app ask of the fact store.

``Store`` holds an engine and delegates to one small module per job:
``store.build`` (seeds in), ``store.ingest`` (articles in), ``store.lookup`` (names to
entities), ``store.profile`` (entities to cited answers). It knows nothing of Slack.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, select

from store import db
from store.answers import Answer, EntityRef, Profile, Resolution
from store.models import StoreMeta
from store.progress import ProgressFn, no_progress
from store.schema import ensure_schema

if TYPE_CHECKING:  # imported where used: building is not on every command's start-up path
    from store.build import BuildReport
    from store.ingest import IngestReport


@dataclass(frozen=True)
class Stats:
    documents: int
    facts: int
    entities_by_kind: dict[str, int]  # entities with at least one fact
    places_in_gazetteer: int
    aliases: int
    generation: str | None
    built_at: str | None


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(
        cls,
        url: str | None = None,
        *,
        build_if_empty: bool = True,
        progress: ProgressFn = no_progress,
    ) -> Store:
        """Open the database at ``url`` (default: ``DATABASE_URL`` or the per-user SQLite
        file), create missing tables, and build the fact store on first use."""
        store = cls(db.get_engine(url))
        ensure_schema(store.engine)
        if build_if_empty and store.generation() is None:
            store.build(progress=progress)
        return store

    # ------------------------------------------------------------------ building
    def build(self, progress: ProgressFn = no_progress) -> BuildReport:
        from store.build import build_store

        return build_store(self.engine, progress=progress)

    def ingest(self, paths: Sequence[Path], progress: ProgressFn = no_progress) -> IngestReport:
        """Add articles (``store.ingest``): validated first, then recorded and rebuilt in one
        transaction."""
        from store.ingest import ingest_files

        return ingest_files(self.engine, paths, progress)

    def generation(self) -> str | None:
        """The current build's id; None before the first build."""
        with db.session_scope(self.engine) as session:
            return session.scalar(select(StoreMeta.value).where(StoreMeta.key == "generation"))

    # ------------------------------------------------------------------ answering
    def resolve(self, query: str) -> Resolution:
        from store import lookup

        return lookup.resolve(self.engine, query)

    def profile(self, slug: str) -> Profile:
        from store import profile

        return profile.get_profile(self.engine, slug)

    def answer(self, query: str) -> Answer:
        """Resolve ``query`` and, when it names one entity, attach its profile."""
        resolution = self.resolve(query)
        if resolution.status == "found" and resolution.entity is not None:
            return Answer(resolution=resolution, profile=self.profile(resolution.entity.slug))
        return Answer(resolution=resolution)

    def mentions(self, text: str) -> list[EntityRef]:
        """Every known entity named in free text (companies first), for mid-conversation
        lookups and autolinking."""
        from store import lookup

        return lookup.find_mentions(self.engine, text)

    def list_entities(
        self, kind: str, *, offset: int = 0, limit: int = 10
    ) -> tuple[list[EntityRef], int]:
        """Entities of one kind that have facts, by name; and how many there are."""
        from store import profile

        return profile.list_entities(self.engine, kind, offset=offset, limit=limit)

    def featured(self) -> list[EntityRef]:
        """The most-cited city, company, policy and project: live examples for help."""
        from store import profile

        return profile.featured(self.engine)

    def stats(self) -> Stats:
        from store import profile

        return profile.stats(self.engine)
