"""Entities to cited answers: an entity's profile, lists of entities by kind, store counts.

A profile is read with a fixed handful of queries whatever the entity's size (entity and
parent, aliases, its facts, the other entities those facts name, its links, the facts behind
links): no query per fact or per related entity.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, bindparam, func, or_, select
from sqlalchemy.orm import Session, aliased

from store import db
from store.answers import (
    KIND_LABELS,
    EntityRef,
    FactDate,
    FactView,
    Number,
    Profile,
    RelatedItem,
    SourceRef,
)
from store.errors import StoreError
from store.models import Alias, Document, Entity, Fact, Link, Mention, StoreMeta
from store.textnorm import compact_key, fold

KEY_FIGURES_MAX = 8
RELATED_MAX = 30
# How much a typed link counts, against one co-mention, when ranking related entities: a
# link is a firmer tie than one shared sentence, but ten shared sentences beat it.
LINK_WEIGHT = 3

# What `list <kind>` accepts, singular or plural, and the entity kinds each covers.
_KIND_GROUPS: dict[str, tuple[str, ...]] = {
    "city": ("city",),
    "province": ("province", "region"),
    "policy": ("policy",),
    "project": ("project",),
    "company": ("company",),
    "institution": ("institution",),
    "person": ("person",),
    "district": ("district",),
    "event": ("event",),
    "region": ("region",),
}
_PLURALS = {
    "cities": "city",
    "provinces": "province",
    "policies": "policy",
    "projects": "project",
    "companies": "company",
    "institutions": "institution",
    "people": "person",
    "persons": "person",
    "districts": "district",
    "events": "event",
    "regions": "region",
}
LIST_KINDS = tuple(_KIND_GROUPS)

_SECTION_KINDS = {
    "policy": "policies",
    "project": "projects",
    "event": "projects",
    "company": "companies",
    "institution": "companies",
    "person": "people",
}


class EntityNotFound(StoreError):
    """No entity has this slug (e.g. a button from before a rebuild that dropped it)."""


def normalise_kind(text: str) -> str | None:
    """``Cities`` -> ``city``; None when ``text`` names no listable kind."""
    key = fold(text).strip()
    key = _PLURALS.get(key, key)
    return key if key in _KIND_GROUPS else None


# --------------------------------------------------------------------------- queries
# Built once and parameterised: SQLAlchemy caches their compiled form, so a profile costs
# the round trips only. Columns, not ORM objects: nothing here is written back.

_Parent = aliased(Entity)
_Other = aliased(Entity)
_ENTITY = (
    select(
        Entity.id,
        Entity.slug,
        Entity.name,
        Entity.kind,
        Entity.name_zh,
        Entity.summary,
        Entity.attrs,
        _Parent.slug.label("parent_slug"),
        _Parent.name.label("parent_name"),
        _Parent.kind.label("parent_kind"),
    )
    .outerjoin(_Parent, Entity.parent_id == _Parent.id)
    .where(Entity.slug == bindparam("slug"))
)
_ALIASES = (
    select(Alias.alias, Alias.kind, Alias.key)
    .where(Alias.entity_id == bindparam("id"))
    .order_by(Alias.id)
)
_FACT_COLUMNS = (
    Fact.id,
    Fact.document_id,
    Fact.start,
    Fact.text,
    Fact.quote,
    Fact.date,
    Fact.date_precision,
    Fact.kind,
    Fact.numbers,
)
_OWN_FACTS = (
    select(*_FACT_COLUMNS, Mention.literal, Mention.role)
    .join(Mention, Mention.fact_id == Fact.id)
    .where(Mention.entity_id == bindparam("id"))
)
_LINKS = (
    select(Link.fact_id, _Other.id, _Other.slug, _Other.name, _Other.kind)
    .join(
        _Other,
        or_(
            (Link.source_id == bindparam("id")) & (_Other.id == Link.target_id),
            (Link.target_id == bindparam("id")) & (_Other.id == Link.source_id),
        ),
    )
    .order_by(Link.id)
)
_FACTS_BY_ID = select(*_FACT_COLUMNS).where(Fact.id.in_(bindparam("ids", expanding=True)))
_NAMED = (
    select(Mention.fact_id, Entity.id, Entity.slug, Entity.name, Entity.kind)
    .join(Entity, Entity.id == Mention.entity_id)
    .where(Mention.fact_id.in_(bindparam("ids", expanding=True)))
    .order_by(Mention.fact_id, Mention.id)
)
_SOURCES = select(
    Document.id,
    Document.slug,
    Document.short_title,
    Document.source,
    Document.published,
    Document.published_precision,
).where(Document.id.in_(bindparam("ids", expanding=True)))


@dataclass
class _FactRow:
    id: int
    document_id: int
    start: int
    view: FactView
    role: str | None  # this entity's role in the fact; None for a fact reached by a link


@dataclass(frozen=True)
class _EntityRow:
    id: int
    ref: EntityRef
    name_zh: str | None
    summary: str | None
    attrs: dict[str, Any]
    parent: EntityRef | None


def _ref(entity: Entity) -> EntityRef:
    return EntityRef(slug=entity.slug, name=entity.name, kind=entity.kind)


def _precision(value: str | None) -> Any:
    return value if value in ("year", "month", "day") else "day"


def _numbers(raw: Iterable[Any]) -> tuple[Number, ...]:
    numbers = []
    for item in raw or ():
        if isinstance(item, dict) and "value" in item:
            numbers.append(
                Number(
                    value=float(item["value"]),
                    unit=str(item.get("unit", "")),
                    text=str(item.get("text", item["value"])),
                )
            )
    return tuple(numbers)


def _fact_view(
    row: Any, source: SourceRef, literal: str | None, entities: tuple[EntityRef, ...]
) -> FactView:
    date = FactDate(row.date, _precision(row.date_precision)) if row.date is not None else None
    return FactView(
        text=row.text,
        quote=row.quote,
        source=source,
        date=date,
        kind=row.kind,
        numbers=_numbers(row.numbers),
        literal=literal,
        entities=entities,
    )


def _literal_if_different(literal: str | None, names: set[str]) -> str | None:
    """The article's wording when it is not one of the entity's ordinary names."""
    if not literal:
        return None
    return None if compact_key(literal) in names else literal


def _load_entity(session: Session, slug: str) -> _EntityRow:
    row = session.execute(_ENTITY, {"slug": slug}).first()
    if row is None:
        raise EntityNotFound(f"no entity {slug!r} in the store")
    parent = None
    if row.parent_slug is not None:
        parent = EntityRef(row.parent_slug, row.parent_name, row.parent_kind)
    return _EntityRow(
        id=row.id,
        ref=EntityRef(row.slug, row.name, row.kind),
        name_zh=row.name_zh,
        summary=row.summary,
        attrs=row.attrs or {},
        parent=parent,
    )


def _aliases(session: Session, entity: _EntityRow) -> tuple[list[str], set[str]]:
    """Names worth showing (no garbles, no spelling variants of a shown name), and the keys
    of every ordinary (non-garble) name, to recognise a literal that is just a spelling."""
    ordinary = {compact_key(entity.ref.name)}
    shown: list[str] = []
    seen = set(ordinary)
    for alias, kind, key in session.execute(_ALIASES, {"id": entity.id}):
        if kind == "garble":
            continue
        ordinary.add(key)
        if key not in seen:
            seen.add(key)
            shown.append(alias)
    return shown, ordinary


def _sources(session: Session, document_ids: Iterable[int]) -> dict[int, SourceRef]:
    """The citation of each document (without loading its text)."""
    ids = sorted(set(document_ids))
    if not ids:
        return {}
    return {
        row.id: SourceRef(
            document=row.slug,
            title=row.short_title,
            publisher=row.source,
            published=FactDate(row.published, _precision(row.published_precision)),
        )
        for row in session.execute(_SOURCES, {"ids": ids})
    }


# --------------------------------------------------------------------------- the profile


def get_profile(engine: Engine, slug: str) -> Profile:
    """Everything the store knows about one entity, every fact cited."""
    with db.session_scope(engine) as session:
        entity = _load_entity(session, slug)
        aliases, ordinary = _aliases(session, entity)
        own = session.execute(_OWN_FACTS, {"id": entity.id}).all()
        links = session.execute(_LINKS, {"id": entity.id}).all()

        own_ids = {row.id for row in own}
        link_fact_ids = sorted(
            {link.fact_id for link in links if link.fact_id and link.fact_id not in own_ids}
        )
        linked = (
            session.execute(_FACTS_BY_ID, {"ids": link_fact_ids}).all() if link_fact_ids else []
        )
        sources = _sources(session, [r.document_id for r in (*own, *linked)])

        # Every entity named in any of those facts (co-mentions).
        named: dict[int, list[tuple[int, EntityRef]]] = {}
        fact_ids = sorted(own_ids | set(link_fact_ids))
        if fact_ids:
            for fact_id, other_id, other_slug, name, kind in session.execute(
                _NAMED, {"ids": fact_ids}
            ):
                named.setdefault(fact_id, []).append((other_id, EntityRef(other_slug, name, kind)))

    def refs(fact_id: int) -> tuple[EntityRef, ...]:
        return tuple(ref for _, ref in named.get(fact_id, ()))

    rows = {
        r.id: _FactRow(
            r.id,
            r.document_id,
            r.start,
            _fact_view(
                r, sources[r.document_id], _literal_if_different(r.literal, ordinary), refs(r.id)
            ),
            r.role,
        )
        for r in own
    }
    link_rows = {
        r.id: _FactRow(
            r.id,
            r.document_id,
            r.start,
            _fact_view(r, sources[r.document_id], None, refs(r.id)),
            None,
        )
        for r in linked
    }
    return _assemble(entity, aliases, rows, link_rows, links, named)


def _doc_order(row: _FactRow, published: dict[int, dt.date]) -> tuple[dt.date, int, int]:
    return (published.get(row.document_id, dt.date.min), row.document_id, row.start)


def _assemble(
    entity: _EntityRow,
    aliases: list[str],
    rows: dict[int, _FactRow],
    link_rows: dict[int, _FactRow],
    links: Sequence[Any],
    named: dict[int, list[tuple[int, EntityRef]]],
) -> Profile:
    published = {
        r.document_id: r.view.source.published.value for r in (*rows.values(), *link_rows.values())
    }
    ordered = sorted(rows.values(), key=lambda r: _doc_order(r, published))
    facts = tuple(r.view for r in ordered)

    # Key figures: facts with numbers, those about the entity first.
    with_numbers = [r for r in ordered if r.view.numbers]
    with_numbers.sort(key=lambda r: r.role != "subject")  # stable: document order within
    key_figures = tuple(r.view for r in with_numbers[:KEY_FIGURES_MAX])

    def by_date(row: _FactRow) -> tuple[dt.date, dt.date, int, int]:
        date = row.view.date.value if row.view.date else dt.date.min
        return (date, *_doc_order(row, published))

    timeline = tuple(r.view for r in sorted((r for r in ordered if r.view.date), key=by_date))

    # Related entities, ranked by ties (links and shared facts); each with the link's fact or
    # else the first fact, in document order, naming both.
    related_fact: dict[int, FactView | None] = {}
    related_entity: dict[int, EntityRef] = {}
    weight: Counter[int] = Counter()
    for link in links:
        other_id = link.id
        if other_id == entity.id:
            continue
        related_entity.setdefault(other_id, EntityRef(link.slug, link.name, link.kind))
        row = (rows.get(link.fact_id) or link_rows.get(link.fact_id)) if link.fact_id else None
        if related_fact.get(other_id) is None:
            related_fact[other_id] = row.view if row else None
        weight[other_id] += LINK_WEIGHT
    for row in ordered:
        for other_id, ref in named.get(row.id, ()):
            if other_id == entity.id:
                continue
            related_entity.setdefault(other_id, ref)
            if related_fact.get(other_id) is None:
                related_fact[other_id] = row.view
            weight[other_id] += 1

    order = sorted(related_entity, key=lambda i: (-weight[i], related_entity[i].name.casefold()))
    sections: dict[str, list[RelatedItem]] = {
        "policies": [],
        "projects": [],
        "companies": [],
        "people": [],
    }
    for other_id in order:
        ref = related_entity[other_id]
        section = _SECTION_KINDS.get(ref.kind)
        if section is not None:
            sections[section].append(RelatedItem(ref, related_fact.get(other_id)))
    for items in sections.values():
        items.sort(key=_item_order)

    sources: dict[str, SourceRef] = {}
    for row in ordered:
        sources.setdefault(row.view.source.document, row.view.source)
    source_list = sorted(sources.values(), key=lambda s: (s.published.value, s.title))

    return Profile(
        entity=entity.ref,
        summary=_summary(entity, source_list),
        aliases=tuple(aliases),
        name_zh=entity.name_zh,
        parent=entity.parent,
        key_figures=key_figures,
        policies=tuple(sections["policies"]),
        projects=tuple(sections["projects"]),
        companies=tuple(sections["companies"]),
        people=tuple(sections["people"]),
        timeline=timeline,
        facts=facts,
        related=tuple(related_entity[i] for i in order[:RELATED_MAX]),
        sources=tuple(source_list),
    )


def _item_order(item: RelatedItem) -> tuple[int, dt.date, str]:
    """Items with a dated fact first, oldest first (a city's policies by year); then the rest
    by name."""
    if item.fact is not None and item.fact.date is not None:
        return (0, item.fact.date.value, item.entity.name.casefold())
    return (1, dt.date.min, item.entity.name.casefold())


@functools.cache
def _gazetteer_descriptions() -> dict[str, str]:
    from store.gazetteer import load_places

    return {place.slug: place.description for place in load_places()}


def _summary(entity: _EntityRow, sources: Sequence[SourceRef]) -> str:
    """The curated summary when there is one; otherwise a factual line composed from data
    ("Company in Qingdao named in 2 articles (2019–2020)"); for a place with no facts, what
    the gazetteer says it is."""
    kind = KIND_LABELS.get(entity.ref.kind, entity.ref.kind.capitalize())
    where = f" in {entity.parent.name}" if entity.parent is not None else ""
    if entity.summary and sources:
        return entity.summary[0].upper() + entity.summary[1:]
    if entity.summary:
        return entity.summary
    if not sources:
        description = entity.attrs.get("description") or _gazetteer_descriptions().get(
            entity.ref.slug
        )
        return str(description) if description else f"{kind}{where}"
    years = sorted({s.published.value.year for s in sources})
    span = str(years[0]) if len(years) == 1 else f"{years[0]}–{years[-1]}"
    count = len(sources)
    return f"{kind}{where} named in {count} article{'s' if count != 1 else ''} ({span})"


# --------------------------------------------------------------------------- lists, stats


def _with_facts():  # type: ignore[no-untyped-def]
    return select(Mention.entity_id).distinct()


def list_entities(
    engine: Engine, kind: str, *, offset: int = 0, limit: int = 10
) -> tuple[list[EntityRef], int]:
    """Entities of one kind (singular or plural, see ``LIST_KINDS``) that have facts, by
    name, one page; and how many there are in all. Unknown kinds raise ``ValueError``."""
    normal = normalise_kind(kind)
    if normal is None:
        raise ValueError(f"unknown kind {kind!r}")
    kinds = _KIND_GROUPS[normal]
    offset = max(0, offset)
    limit = max(1, min(limit, 100))
    where = (Entity.kind.in_(kinds), Entity.id.in_(_with_facts()))
    with db.session_scope(engine) as session:
        total = session.scalar(select(func.count()).select_from(Entity).where(*where)) or 0
        rows = session.scalars(
            select(Entity)
            .where(*where)
            .order_by(func.lower(Entity.name), Entity.slug)
            .offset(offset)
            .limit(limit)
        ).all()
        return [_ref(e) for e in rows], total


def stats(engine: Engine) -> Any:  # -> store.api.Stats
    """Counts for ``chainbot stats`` and the App Home."""
    from store.api import Stats

    with db.session_scope(engine) as session:
        by_kind = dict(
            session.execute(
                select(Entity.kind, func.count())
                .where(Entity.id.in_(_with_facts()))
                .group_by(Entity.kind)
                .order_by(Entity.kind)
            ).all()
        )
        meta = dict(session.execute(select(StoreMeta.key, StoreMeta.value)).all())
        return Stats(
            documents=session.scalar(select(func.count()).select_from(Document)) or 0,
            facts=session.scalar(select(func.count()).select_from(Fact)) or 0,
            entities_by_kind=by_kind,
            places_in_gazetteer=session.scalar(
                select(func.count()).select_from(Entity).where(Entity.origin == "gazetteer")
            )
            or 0,
            aliases=session.scalar(select(func.count()).select_from(Alias)) or 0,
            generation=meta.get("generation"),
            built_at=meta.get("built_at"),
        )


def featured(
    engine: Engine, kinds: Sequence[str] = ("city", "company", "policy", "project")
) -> list[EntityRef]:
    """The most-cited entity of each kind, for live usage examples (one query)."""
    counts = (
        select(Mention.entity_id, func.count().label("n")).group_by(Mention.entity_id).subquery()
    )
    with db.session_scope(engine) as session:
        rows = session.execute(
            select(Entity, counts.c.n)
            .join(counts, counts.c.entity_id == Entity.id)
            .where(Entity.kind.in_(kinds))
            .order_by(counts.c.n.desc(), Entity.slug)
        ).all()
        best: dict[str, EntityRef] = {}
        for entity, _n in rows:
            best.setdefault(entity.kind, _ref(entity))
        return [best[kind] for kind in kinds if kind in best]
