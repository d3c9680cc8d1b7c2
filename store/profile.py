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

from sqlalchemy import Engine, func, or_, select
from sqlalchemy.orm import Session, aliased

from store import db
from store.answers import (
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

_KIND_WORDS = {
    "city": "City",
    "province": "Province",
    "district": "District",
    "region": "Region",
    "policy": "Policy",
    "project": "Project",
    "event": "Event",
    "company": "Company",
    "institution": "Institution",
    "person": "Person",
}


class EntityNotFound(StoreError):
    """No entity has this slug (e.g. a button from before a rebuild that dropped it)."""


def normalise_kind(text: str) -> str | None:
    """``Cities`` -> ``city``; None when ``text`` names no listable kind."""
    key = fold(text).strip()
    key = _PLURALS.get(key, key)
    return key if key in _KIND_GROUPS else None


# --------------------------------------------------------------------------- reading rows


@dataclass
class _FactRow:
    id: int
    document_id: int
    start: int
    view: FactView
    role: str | None  # this entity's role in the fact; None for a fact reached by a link


def _ref(entity: Entity) -> EntityRef:
    return EntityRef(slug=entity.slug, name=entity.name, kind=entity.kind)


def _sources(session: Session, document_ids: Iterable[int]) -> dict[int, SourceRef]:
    """The citation of each document (without loading its text)."""
    ids = set(document_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(
            Document.id,
            Document.slug,
            Document.short_title,
            Document.source,
            Document.published,
            Document.published_precision,
        ).where(Document.id.in_(ids))
    ).all()
    return {
        row.id: SourceRef(
            document=row.slug,
            title=row.short_title,
            publisher=row.source,
            published=FactDate(row.published, _precision(row.published_precision)),
        )
        for row in rows
    }


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
    fact: Fact,
    source: SourceRef,
    literal: str | None,
    entities: tuple[EntityRef, ...],
) -> FactView:
    date = None
    if fact.date is not None:
        date = FactDate(fact.date, _precision(fact.date_precision))
    return FactView(
        text=fact.text,
        quote=fact.quote,
        source=source,
        date=date,
        kind=fact.kind,
        numbers=_numbers(fact.numbers),
        literal=literal,
        entities=entities,
    )


def _literal_if_different(literal: str | None, names: set[str]) -> str | None:
    """The article's wording when it is not one of the entity's ordinary names."""
    if not literal:
        return None
    return None if compact_key(literal) in names else literal


def _load_entity(session: Session, slug: str) -> tuple[Entity, Entity | None]:
    parent = aliased(Entity)
    row = session.execute(
        select(Entity, parent)
        .outerjoin(parent, Entity.parent_id == parent.id)
        .where(Entity.slug == slug)
    ).first()
    if row is None:
        raise EntityNotFound(f"no entity {slug!r} in the store")
    return row[0], row[1]


def _aliases(session: Session, entity: Entity) -> tuple[list[str], set[str]]:
    """Names worth showing (no garbles, no spelling variants of a shown name), and the keys
    of every ordinary (non-garble) name, to recognise a literal that is just a spelling."""
    rows = session.execute(
        select(Alias.alias, Alias.kind, Alias.key)
        .where(Alias.entity_id == entity.id)
        .order_by(Alias.id)
    ).all()
    ordinary = {compact_key(entity.name)}
    shown: list[str] = []
    seen = {compact_key(entity.name)}
    for alias, kind, key in rows:
        if kind == "garble":
            continue
        ordinary.add(key)
        if key not in seen:
            seen.add(key)
            shown.append(alias)
    return shown, ordinary


# --------------------------------------------------------------------------- the profile


def get_profile(engine: Engine, slug: str) -> Profile:
    """Everything the store knows about one entity, every fact cited."""
    with db.session_scope(engine) as session:
        entity, parent = _load_entity(session, slug)
        aliases, ordinary = _aliases(session, entity)

        # 1. The entity's own facts, with how the article wrote its name.
        own = session.execute(
            select(Fact, Mention.literal, Mention.role)
            .join(Mention, Mention.fact_id == Fact.id)
            .where(Mention.entity_id == entity.id)
        ).all()

        # 2. Links either way, with the entity at the other end.
        other = aliased(Entity)
        links = session.execute(
            select(Link, other)
            .join(
                other,
                or_(
                    (Link.source_id == entity.id) & (other.id == Link.target_id),
                    (Link.target_id == entity.id) & (other.id == Link.source_id),
                ),
            )
            .where(or_(Link.source_id == entity.id, Link.target_id == entity.id))
            .order_by(Link.id)
        ).all()

        # 3. Facts behind links that are not among the entity's own facts.
        own_ids = {fact.id for fact, _, _ in own}
        link_fact_ids = {
            link.fact_id for link, _ in links if link.fact_id and link.fact_id not in own_ids
        }
        linked = []
        if link_fact_ids:
            linked = list(session.scalars(select(Fact).where(Fact.id.in_(link_fact_ids))))
        sources = _sources(
            session, [f.document_id for f, _, _ in own] + [f.document_id for f in linked]
        )

        # 4. Every entity named in any of those facts (co-mentions).
        fact_ids = own_ids | link_fact_ids
        named: dict[int, list[tuple[Entity, str]]] = {}
        if fact_ids:
            for fact_id, mentioned, role in session.execute(
                select(Mention.fact_id, Entity, Mention.role)
                .join(Entity, Entity.id == Mention.entity_id)
                .where(Mention.fact_id.in_(fact_ids))
                .order_by(Mention.fact_id, Mention.id)
            ).all():
                named.setdefault(fact_id, []).append((mentioned, role))

        rows: dict[int, _FactRow] = {}
        for fact, literal, role in own:
            refs = tuple(_ref(e) for e, _ in named.get(fact.id, ()))
            literal = _literal_if_different(literal, ordinary)
            view = _fact_view(fact, sources[fact.document_id], literal, refs)
            rows[fact.id] = _FactRow(fact.id, fact.document_id, fact.start, view, role)
        link_rows: dict[int, _FactRow] = {}
        for fact in linked:
            refs = tuple(_ref(e) for e, _ in named.get(fact.id, ()))
            view = _fact_view(fact, sources[fact.document_id], None, refs)
            link_rows[fact.id] = _FactRow(fact.id, fact.document_id, fact.start, view, None)

        return _assemble(entity, parent, aliases, rows, link_rows, links, named)


def _doc_order(row: _FactRow, published: dict[int, dt.date]) -> tuple[dt.date, int, int]:
    return (published.get(row.document_id, dt.date.min), row.document_id, row.start)


def _assemble(
    entity: Entity,
    parent: Entity | None,
    aliases: list[str],
    rows: dict[int, _FactRow],
    link_rows: dict[int, _FactRow],
    links: Sequence[Any],
    named: dict[int, list[tuple[Entity, str]]],
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

    # Related entities: linked ones first (with the link's fact), then co-mentioned ones
    # (with the first fact, in document order, naming both).
    related_fact: dict[int, FactView | None] = {}
    related_entity: dict[int, Entity] = {}
    weight: Counter[int] = Counter()
    for link, other in links:
        if other.id == entity.id:
            continue
        related_entity.setdefault(other.id, other)
        view = None
        if link.fact_id is not None:
            row = rows.get(link.fact_id) or link_rows.get(link.fact_id)
            view = row.view if row else None
        if related_fact.get(other.id) is None:
            related_fact[other.id] = view
        weight[other.id] += 100
    for row in ordered:
        for other, _role in named.get(row.id, ()):
            if other.id == entity.id:
                continue
            related_entity.setdefault(other.id, other)
            if related_fact.get(other.id) is None:
                related_fact[other.id] = row.view
            weight[other.id] += 1

    order = sorted(related_entity, key=lambda i: (-weight[i], related_entity[i].name.casefold()))
    sections: dict[str, list[RelatedItem]] = {
        "policies": [],
        "projects": [],
        "companies": [],
        "people": [],
    }
    for other_id in order:
        other = related_entity[other_id]
        section = _SECTION_KINDS.get(other.kind)
        if section is not None:
            sections[section].append(RelatedItem(_ref(other), related_fact.get(other_id)))
    for items in sections.values():
        items.sort(key=_item_order)

    related = tuple(_ref(related_entity[i]) for i in order[:RELATED_MAX])

    sources: dict[str, SourceRef] = {}
    for row in ordered:
        sources.setdefault(row.view.source.document, row.view.source)
    source_list = sorted(sources.values(), key=lambda s: (s.published.value, s.title))

    return Profile(
        entity=_ref(entity),
        summary=_summary(entity, parent, source_list),
        aliases=tuple(aliases),
        name_zh=entity.name_zh,
        parent=_ref(parent) if parent is not None else None,
        key_figures=key_figures,
        policies=tuple(sections["policies"]),
        projects=tuple(sections["projects"]),
        companies=tuple(sections["companies"]),
        people=tuple(sections["people"]),
        timeline=timeline,
        facts=facts,
        related=related,
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


def _summary(entity: Entity, parent: Entity | None, sources: Sequence[SourceRef]) -> str:
    """The curated summary when there is one; otherwise a factual line composed from data
    ("Company in Qingdao named in 2 articles (2019–2020)"); for a place with no facts, what
    the gazetteer says it is."""
    if entity.summary and sources:
        return entity.summary[0].upper() + entity.summary[1:]
    if entity.summary:
        return entity.summary
    if not sources:
        attrs = entity.attrs or {}
        description = attrs.get("description") or _gazetteer_descriptions().get(entity.slug)
        if description:
            return str(description)
        where = f" in {parent.name}" if parent is not None else ""
        return f"{_KIND_WORDS.get(entity.kind, entity.kind.capitalize())}{where}"
    where = f" in {parent.name}" if parent is not None else ""
    years = sorted({s.published.value.year for s in sources})
    span = str(years[0]) if len(years) == 1 else f"{years[0]}–{years[-1]}"
    count = len(sources)
    articles = f"{count} article{'s' if count != 1 else ''}"
    kind = _KIND_WORDS.get(entity.kind, entity.kind.capitalize())
    return f"{kind}{where} named in {articles} ({span})"


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
