"""The entity catalogue and the name matcher.

Entities come from three places, in this order of authority: the gazetteer (places),
``curation.yml`` (what rules cannot know) and the rules (names found by pattern). Every
name an entity goes by is an alias with a compact key (``store.textnorm.compact_key``), and
the matcher finds aliases in a sentence by walking its word tokens and extending a key while
it is a prefix of some alias key: longest match first, left to right, independent of case,
spacing, quotes and apostrophes (``Xiong'an``/``xiongan``, ``"Chain Bay"``/``chain bay``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from store.textnorm import compact_key

_TOKEN = re.compile(r"\w+")
# Keys this short match only when the text spells the alias exactly ("IBM", "CCB").
_MIN_LOOSE_KEY = 5


@dataclass
class EntityRec:
    slug: str
    kind: str
    name: str
    origin: str
    name_zh: str | None = None
    summary: str | None = None
    parent_slug: str | None = None
    rank: float = 0.0  # prefers one entity when two share a matching key (population)
    attrs: dict[str, Any] = field(default_factory=dict)
    aliases: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (alias, kind)


@dataclass(frozen=True)
class Hit:
    slug: str
    start: int
    end: int
    literal: str


class Catalog:
    def __init__(self) -> None:
        self.entities: dict[str, EntityRec] = {}
        self._match: dict[
            str, tuple[float, int, str, str]
        ] = {}  # key -> (rank, order, slug, alias)
        self._prefixes: set[str] = set()
        self._order = 0

    def add(self, rec: EntityRec) -> EntityRec:
        existing = self.entities.get(rec.slug)
        if existing is not None:
            return existing
        self.entities[rec.slug] = rec
        self.add_alias(rec.slug, rec.name, "name")
        if rec.name_zh:
            self.add_alias(rec.slug, rec.name_zh, "chinese")
        return rec

    def add_alias(self, slug: str, alias: str, kind: str, *, matchable: bool = True) -> None:
        key = compact_key(alias)
        if not key:
            return
        rec = self.entities[slug]
        rec.aliases.setdefault(key, (alias, kind))
        if not matchable:
            return
        self._order += 1
        current = self._match.get(key)
        # Curated and gazetteer names come first and win ties; among places the bigger wins.
        if current is None or rec.rank > current[0]:
            self._match[key] = (rec.rank, self._order, slug, alias)
            for i in range(1, len(key) + 1):
                self._prefixes.add(key[:i])

    def owner(self, name: str) -> str | None:
        """The entity a name's key belongs to, if any."""
        found = self._match.get(compact_key(name))
        return found[2] if found else None

    def find(self, text: str, *, kinds: frozenset[str] | None = None) -> list[Hit]:
        """Non-overlapping alias hits in ``text``, longest first from the left."""
        tokens = [(m.start(), m.end(), compact_key(m.group(0))) for m in _TOKEN.finditer(text)]
        hits: list[Hit] = []
        i = 0
        while i < len(tokens):
            key = ""
            best: tuple[int, str] | None = None
            for j in range(i, len(tokens)):
                key += tokens[j][2]
                if key not in self._prefixes:
                    break
                found = self._match.get(key)
                if found is None:
                    continue
                start, end = tokens[i][0], tokens[j][1]
                literal = text[start:end]
                if len(key) < _MIN_LOOSE_KEY and literal != found[3]:
                    continue
                if kinds is not None and self.entities[found[2]].kind not in kinds:
                    continue
                best = (j, found[2])
            if best is None:
                i += 1
                continue
            j, slug = best
            start, end = tokens[i][0], tokens[j][1]
            hits.append(Hit(slug, start, end, _trim_literal(text, start, end)))
            i = j + 1
        return hits


def _trim_literal(text: str, start: int, end: int) -> str:
    literal = text[start:end]
    # A trailing "Co., Ltd." loses its period to the token regex; give it back.
    if literal.endswith("Ltd") and text[end : end + 1] == ".":
        literal += "."
    return literal
