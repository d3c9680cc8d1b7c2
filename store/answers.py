"""What the store answers: plain, frozen dataclasses with no database or Slack in them.

Renderers (``bot.render``) turn these into text for the CLI and Block Kit for Slack; the
CLI's ``--format json`` is ``Answer.to_json()``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["found", "ambiguous", "not_found", "usage"]
Precision = Literal["year", "month", "day"]

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

# How each entity kind is named to people ("City in Shandong", "Company · 2 facts").
KIND_LABELS = {
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


@dataclass(frozen=True)
class FactDate:
    value: dt.date
    precision: Precision

    def label(self) -> str:
        """``2019-12-19``, ``December 2019`` or ``2019``: never more exact than the text."""
        if self.precision == "day":
            return self.value.isoformat()
        if self.precision == "month":
            return f"{MONTHS[self.value.month - 1]} {self.value.year}"
        return str(self.value.year)

    def to_json(self) -> str:
        return self.label()


@dataclass(frozen=True)
class SourceRef:
    """An article, as a fact cites it."""

    document: str  # document slug
    title: str  # short title
    publisher: str
    published: FactDate

    def label(self) -> str:
        return f"{self.publisher}, {self.title} ({self.published.label()})"


@dataclass(frozen=True)
class EntityRef:
    slug: str
    name: str
    kind: str


@dataclass(frozen=True)
class Number:
    value: float
    unit: str  # "yuan", "companies", "rank", "percent", "people", ...
    text: str  # as the article wrote it


@dataclass(frozen=True)
class FactView:
    """A fact as shown: statement, verbatim quote and where it comes from."""

    text: str
    quote: str
    source: SourceRef
    date: FactDate | None
    kind: str
    numbers: tuple[Number, ...] = ()
    # How the article literally named the entity, when that differs from its name
    # (e.g. "Qinghai" for Qingdao in a garbled sentence); None when it matches.
    literal: str | None = None
    entities: tuple[EntityRef, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "quote": self.quote,
            "source": self.source.label(),
            "date": self.date.label() if self.date else None,
        }


@dataclass(frozen=True)
class RelatedItem:
    """An entity on another's card (a city's policy, a company's project), with the fact
    that ties them when there is one."""

    entity: EntityRef
    fact: FactView | None = None


@dataclass(frozen=True)
class Candidate:
    entity: EntityRef
    score: float  # 0-100
    matched: str  # the alias that matched


@dataclass(frozen=True)
class Profile:
    entity: EntityRef
    summary: str
    aliases: tuple[str, ...]
    name_zh: str | None
    parent: EntityRef | None
    key_figures: tuple[FactView, ...]
    policies: tuple[RelatedItem, ...]
    projects: tuple[RelatedItem, ...]
    companies: tuple[RelatedItem, ...]
    people: tuple[RelatedItem, ...]
    timeline: tuple[FactView, ...]  # dated facts, oldest first
    facts: tuple[FactView, ...]  # every fact about the entity, in document order
    related: tuple[EntityRef, ...]
    sources: tuple[SourceRef, ...]

    @property
    def has_facts(self) -> bool:
        return bool(self.facts)


@dataclass(frozen=True)
class Resolution:
    status: Status
    query: str  # the query as received (unescaped), for echoing (escape before display!)
    entity: EntityRef | None = None
    candidates: tuple[Candidate, ...] = ()
    # Why an ambiguous answer was given, or how a hit matched: "exact", "alias", "prefix",
    # "fuzzy", "close", "confusable", "empty", "too_long", "no_letters".
    reason: str = ""
    matched: str | None = None


@dataclass(frozen=True)
class Answer:
    """The whole answer to ``/chain QUERY``: a resolution and, when found, the profile."""

    resolution: Resolution
    profile: Profile | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> Status:
        return self.resolution.status

    def to_json(self, text: str) -> dict[str, Any]:
        """The CLI's JSON shape; ``text`` is the rendered answer."""
        entity = None
        if self.profile is not None:
            entity = {
                "name": self.profile.entity.name,
                "kind": self.profile.entity.kind,
                "aliases": list(self.profile.aliases),
            }
        return {
            "status": self.status,
            "query": self.resolution.query,
            "entity": entity,
            "candidates": [
                {"name": c.entity.name, "kind": c.entity.kind, "score": round(c.score, 1)}
                for c in self.resolution.candidates
            ],
            "facts": [f.to_json() for f in self.profile.facts] if self.profile else [],
            "text": text,
        }
