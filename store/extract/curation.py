"""``seeds/curation.yml``: what rules cannot know, loaded into typed records.

The file's own comments explain each section; this module only reads and checks it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from store.errors import StoreError

LINK_FIELDS = ("located_in", "issued_by", "part_of", "member_of", "operates", "related")


@dataclass(frozen=True)
class CuratedEntity:
    slug: str
    kind: str
    name: str
    aliases: tuple[tuple[str, str], ...]
    summary: str | None
    name_zh: str | None
    links: tuple[tuple[str, str], ...]  # (relation, target slug)
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Garble:
    """``literal`` in ``doc`` means ``entity`` — only in sentences containing ``context``
    when one is given (so a real place with that name keeps its own mentions)."""

    literal: str
    entity: str
    doc: str | None
    context: str | None


@dataclass(frozen=True)
class CuratedFact:
    doc: str
    contains: str
    text: str | None
    subject: str | None
    kind: str | None


@dataclass(frozen=True)
class CuratedDate:
    doc: str
    contains: str
    value: dt.date
    precision: str


@dataclass(frozen=True)
class CuratedLink:
    source: str
    relation: str
    target: str
    doc: str | None
    contains: str | None


@dataclass(frozen=True)
class DocumentHints:
    reference_year: int | None = None
    chinese_scales: bool = False


@dataclass(frozen=True)
class Curation:
    roundup_sections: tuple[str, ...]
    documents: dict[str, DocumentHints]
    entities: tuple[CuratedEntity, ...]
    place_aliases: dict[str, tuple[tuple[str, str], ...]]
    place_summaries: dict[str, str]
    garbles: tuple[Garble, ...]
    ignore: frozenset[str]
    confusables: tuple[tuple[str, ...], ...]
    dates: tuple[CuratedDate, ...]
    facts: tuple[CuratedFact, ...]
    links: tuple[CuratedLink, ...]


def _aliases(raw: list[Any] | None) -> tuple[tuple[str, str], ...]:
    out = []
    for item in raw or []:
        if isinstance(item, str):
            out.append((item, "variant"))
        else:
            out.append((str(item["alias"]), str(item.get("kind", "variant"))))
    return tuple(out)


def load_curation(path: Path) -> Curation:
    try:
        data = yaml.safe_load(path.read_text("utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise StoreError(f"cannot read {path.name}: {exc}") from None
    entities = []
    for e in data.get("entities", []):
        links = []
        for relation in LINK_FIELDS:
            targets = e.get(relation) or []
            for target in [targets] if isinstance(targets, str) else targets:
                links.append((relation, target))
        entities.append(
            CuratedEntity(
                slug=e["slug"],
                kind=e.get("kind") or e["slug"].split(":", 1)[0],
                name=e["name"],
                aliases=_aliases(e.get("aliases")),
                summary=e.get("summary"),
                name_zh=e.get("name_zh"),
                links=tuple(links),
                attrs=dict(e.get("attrs") or {}),
            )
        )
    places = data.get("places") or {}
    return Curation(
        roundup_sections=tuple(data.get("roundup_sections", [])),
        documents={
            slug: DocumentHints(
                reference_year=hints.get("reference_year"),
                chinese_scales=bool(hints.get("chinese_scales", False)),
            )
            for slug, hints in (data.get("documents") or {}).items()
        },
        entities=tuple(entities),
        place_aliases={s: _aliases(p.get("aliases")) for s, p in places.items()},
        place_summaries={s: p["summary"] for s, p in places.items() if p.get("summary")},
        garbles=tuple(
            Garble(g["literal"], g["entity"], g.get("doc"), g.get("context"))
            for g in data.get("garbles", [])
        ),
        ignore=frozenset(data.get("ignore", [])),
        confusables=tuple(tuple(group) for group in data.get("confusables", [])),
        dates=tuple(
            CuratedDate(
                d["doc"],
                d["contains"],
                dt.date.fromisoformat(str(d["date"])),
                d.get("precision", "day"),
            )
            for d in data.get("dates", [])
        ),
        facts=tuple(
            CuratedFact(f["doc"], f["contains"], f.get("text"), f.get("subject"), f.get("kind"))
            for f in data.get("facts", [])
        ),
        links=tuple(
            CuratedLink(
                link["source"],
                link["relation"],
                link["target"],
                link.get("doc"),
                link.get("contains"),
            )
            for link in data.get("links", [])
        ),
    )
