"""Names to entities: ``resolve`` (a query) and ``find_mentions`` (free text).

Pipeline for a query
--------------------
1. Slack markup (``<@U123>``, ``<!channel>``, ``<url|label>``) is dropped, Slack's ``&amp;``
   ``&lt;`` ``&gt;`` are undone, then ``store.textnorm.fold`` (NFKC, casefold, accents and
   control characters stripped) and ``compact_key`` (letters and digits only).
2. Empty, letter-less (emoji, punctuation) or absurdly long queries get ``usage``.
3. Exact compact key: ``Chong Qing``, ``chongqing`` and ``青岛`` hit an alias directly. When
   several entities share the key, the one it *names* beats one it is a garble of, and an
   entity with facts beats a fact-less gazetteer place.
4. Queries under 3 characters match only exactly or by prefix.
5. Fuzzy: a character-trigram inverted index picks the few hundred keys sharing the most
   trigrams with the query (rarest trigrams first, under a fixed budget), and only those are
   scored, best alias per entity.
6. Decide: ``found``; ``ambiguous`` when the top two entities are close, or when the top one
   is a known confusable (``attrs["confusable_with"]``: Qinghai/Qingdao, Hunan/Hainan,
   Shanxi/Shaanxi) of a runner-up within about one edit; ``not_found`` with the nearest names
   below the cut-off as suggestions.

The scorer
----------
Chosen by measurement: ``python -m bench.lookup``, section "Scorer comparison", runs every
scorer in ``SCORERS`` through this same pipeline over a labelled set on the seed store (exact
names, aliases, typos and transpositions, reordered words, a fragment of a long title,
Hunan/Hainan and Shanxi/Shaanxi near-misses, and ten misses). One run (2 cores, busy):

=========  =====  =====  =====  ===============  ===========
scorer     right  asked  wrong  misses rejected  ms/query
=========  =====  =====  =====  ===============  ===========
hybrid     41/42  1      0      10/10            0.077
wratio     39/42  3      0      10/10            0.126
ratio      38/42  3      1      10/10            0.081
token_set  38/42  4      0      10/10            0.107
osa        38/42  2      2      10/10            0.052
=========  =====  =====  =====  ===============  ===========

``hybrid`` is the normalised optimal-string-alignment similarity of the compact keys (a
transposition like ``qingdoa`` costs one edit, where Indel-based ``ratio`` and ``WRatio``
charge two and so bring ``qinghai`` as close as the intended ``qingdao``), raised by
``partial_ratio`` x0.9 when the query appears nearly verbatim inside a much longer alias
(``fintech center`` in "Qingdao Fintech Center", a policy's short title) and by
``token_sort_ratio`` for words typed in another order (``grid state``). Plain ``ratio`` and
``osa`` miss reordered words; ``WRatio`` and ``token_set_ratio`` ask "did you mean" where
one answer is clear (token sets make any shared word a full match) and cost more per
comparison. The prefilter, not the scorer, is what beats plain fuzzy matching at scale: see
the benchmark's table (exact hits in microseconds, typo p99 in milliseconds at 100k aliases,
where ``extractOne(WRatio)`` over every alias takes a few hundred).
"""

from __future__ import annotations

import bisect
import math
import re
import threading
import time
import weakref
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA
from sqlalchemy import Connection, Engine, event, select

from store.answers import Candidate, EntityRef, Resolution
from store.gazetteer import load_places
from store.models import Alias, Entity, StoreMeta
from store.textnorm import fold, unescape_slack

MAX_QUERY_CHARS = 200  # after normalisation; longer is not a name
MAX_ECHO_CHARS = 200  # how much of a rejected query is kept for echoing
CUTOFF = 75.0  # fuzzy score (0-100) for a hit
SUGGEST_FLOOR = 50.0  # nearest names below the cut-off, offered when nothing is found
CLOSE_MARGIN = 4.0  # top two entities this close: ask rather than guess
MAX_CANDIDATES = 6  # candidates carried by an ambiguous or not-found answer
PARTIAL_WEIGHT = 0.9  # a fragment of a long alias scores at most 90
PARTIAL_MIN = 95.0  # and only when it appears nearly verbatim
PREFILTER_KEEP = 400  # keys scored per fuzzy query
POSTINGS_BUDGET = 40_000  # key ids read from the trigram index per query

# Better alias kinds first: a key that *names* an entity beats a key that is a garble of it.
_ALIAS_KIND_RANK = {
    "name": 0,
    "english": 1,
    "chinese": 1,
    "romanisation": 2,
    "variant": 2,
    "abbreviation": 3,
    "garble": 5,
}
# find_mentions order: companies first, then institutions, projects, policies, places.
_MENTION_KIND_ORDER = {
    "company": 0,
    "institution": 1,
    "project": 2,
    "event": 3,
    "policy": 4,
    "city": 5,
    "district": 6,
    "province": 7,
    "region": 8,
    "person": 9,
}

_SLACK_MARKUP = re.compile(r"<([^<>]*)>")
_WORD = re.compile(r"\w+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def strip_slack_markup(text: str) -> str:
    """Drop user, channel and special mentions; keep a link's label, drop a bare URL."""

    def repl(m: re.Match[str]) -> str:
        inner = m.group(1)
        if inner[:1] in {"@", "#", "!"}:
            return " "
        _, bar, label = inner.partition("|")
        return f" {label} " if bar else " "

    return _SLACK_MARKUP.sub(repl, text)


# ASCII punctuation and spaces, deleted by str.translate: the fast path of _compact.
_ASCII_DROP = {c: None for c in range(128) if not chr(c).isalnum()}


def _fold(text: str) -> str:
    """``store.textnorm.fold``, with a fast path for printable ASCII (where NFKC and accent
    stripping change nothing and casefold is lower)."""
    if text.isascii() and text.isprintable():
        return " ".join(text.lower().split())
    return fold(text)


def _compact(folded: str) -> str:
    """``store.textnorm.compact_key`` of already folded text."""
    if folded.isascii():
        return folded.translate(_ASCII_DROP)
    return "".join(ch for ch in folded if ch.isalnum())


def _is_cjk(key: str) -> bool:
    return bool(key) and not key.isascii() and all(_CJK.match(ch) for ch in key)


def _length_starts(keys: Sequence[str]) -> array:
    """For keys sorted by length: ``starts[n]`` is the first index whose key has at least
    ``n`` characters (``len(keys)`` past the longest)."""
    longest = len(keys[-1]) if keys else 0
    starts = array("I", [len(keys)] * (longest + 2))
    for kid in range(len(keys) - 1, -1, -1):
        starts[len(keys[kid])] = kid
    for n in range(longest, -1, -1):
        starts[n] = min(starts[n], starts[n + 1])
    return starts


def _trigrams(key: str) -> set[str]:
    return {key[i : i + 3] for i in range(len(key) - 2)}


# ----------------------------------------------------------------------------- the index


@dataclass(frozen=True)
class IndexedEntity:
    """What the index needs to know of an entity."""

    slug: str
    name: str
    kind: str
    fact_count: int = 0
    confusable_with: frozenset[str] = frozenset()
    rank: float = 0.0  # tie-breaker among same-named places (population)

    @property
    def ref(self) -> EntityRef:
        return EntityRef(slug=self.slug, name=self.name, kind=self.kind)


@dataclass
class _Scored:
    entity: int
    score: float
    matched: str
    alias_rank: int = 0


Scorer = Callable[["AliasIndex", str, str, list[int], float], list[tuple[int, float]]]


@dataclass
class AliasIndex:
    """An in-memory index of every alias. Build it with ``from_pairs`` (tests, benchmark)
    or ``from_engine`` (the store).

    Key ids are assigned in order of key length, so every trigram's posting list is sorted
    by length too and a length window is one slice of it."""

    entities: list[IndexedEntity]
    keys: list[str]  # unique compact keys, shortest first
    folded: list[str]  # the folded alias shown for each key
    # The best (entity, alias kind rank) of each key; keys with several owners are also
    # in more_owners (all of them, best rank first).
    owner_entity: array
    owner_rank: array
    more_owners: dict[int, tuple[tuple[int, int], ...]]
    exact: dict[str, int]
    by_length: array  # by_length[n]: the first key id whose key has at least n characters
    alphabetical: array  # key ids in key order, for prefix search
    postings: dict[str, array]  # trigram -> key ids, ascending
    phrases: dict[str, int]  # folded words joined by spaces -> key id, for find_mentions
    phrase_lengths: dict[str, tuple[int, ...]]  # first word -> phrase lengths, longest first
    cjk_keys: dict[str, int]  # Chinese keys, for substring search in find_mentions
    max_cjk_len: int
    confusable_keys: dict[int, tuple[int, ...]]  # key ids of entities named as confusables
    scorer: str = "hybrid"
    _by_slug: dict[str, int] = field(default_factory=dict)

    # ------------------------------------------------------------------ building
    @classmethod
    def from_pairs(
        cls,
        pairs: Iterable[tuple[str, IndexedEntity] | tuple[str, IndexedEntity, str]],
        *,
        scorer: str = "hybrid",
    ) -> AliasIndex:
        """Index ``(alias, entity)`` or ``(alias, entity, alias_kind)`` tuples."""
        if scorer not in SCORERS:
            raise ValueError(f"unknown scorer {scorer!r}; choose from {sorted(SCORERS)}")
        entities: list[IndexedEntity] = []
        entity_ids: dict[str, int] = {}
        # key -> [folded alias, {entity: best alias kind rank}]
        found: dict[str, tuple[str, dict[int, int]]] = {}
        phrase_keys: dict[str, str] = {}
        for pair in pairs:
            alias, entity = pair[0], pair[1]
            kind_rank = _ALIAS_KIND_RANK.get(pair[2], 2) if len(pair) > 2 else 2  # type: ignore[misc]
            if alias == entity.name:
                kind_rank = 0
            eid = entity_ids.get(entity.slug)
            if eid is None:
                eid = entity_ids[entity.slug] = len(entities)
                entities.append(entity)
            folded = _fold(alias)
            key = _compact(folded)
            if not key:
                continue
            entry = found.get(key)
            if entry is None:
                entry = found[key] = (folded, {})
            previous = entry[1].get(eid)
            if previous is None or kind_rank < previous:
                entry[1][eid] = kind_rank
            if not _is_cjk(key):
                phrase = " ".join(_WORD.findall(folded))
                # A one-word alias of 3+ characters is found by its key alone.
                if " " in phrase or len(key) < 3:
                    phrase_keys.setdefault(phrase, key)

        keys = sorted(found, key=lambda k: (len(k), k))
        exact = {k: i for i, k in enumerate(keys)}
        folded_aliases = [found[k][0] for k in keys]
        owner_entity = array("I", bytes(4 * len(keys)))
        owner_rank = array("B", bytes(len(keys)))
        more: dict[int, tuple[tuple[int, int], ...]] = {}
        for kid, key in enumerate(keys):
            owned = found[key][1]
            ranked = sorted(owned.items(), key=lambda item: (item[1], item[0]))
            owner_entity[kid], owner_rank[kid] = ranked[0]
            if len(ranked) > 1:
                more[kid] = tuple(ranked)
        del found

        by_length = _length_starts(keys)

        postings: dict[str, list[int]] = defaultdict(list)
        for kid, key in enumerate(keys):
            for gram in _trigrams(key):
                postings[gram].append(kid)

        phrases = {p: exact[k] for p, k in phrase_keys.items() if p}
        lengths: dict[str, set[int]] = {}
        for phrase in phrases:
            words = phrase.split(" ")
            lengths.setdefault(words[0], set()).add(len(words))
        cjk = {k: i for i, k in enumerate(keys) if _is_cjk(k)}

        confusables = {
            entity_ids[s] for e in entities for s in e.confusable_with if s in entity_ids
        }
        confusable_keys: dict[int, list[int]] = {e: [] for e in confusables}
        if confusables:
            for kid in range(len(keys)):
                for eid, _ in more.get(kid, ((owner_entity[kid], 0),)):
                    if eid in confusable_keys:
                        confusable_keys[eid].append(kid)
        return cls(
            entities=entities,
            keys=keys,
            folded=folded_aliases,
            owner_entity=owner_entity,
            owner_rank=owner_rank,
            more_owners=more,
            exact=exact,
            by_length=by_length,
            alphabetical=array("I", sorted(range(len(keys)), key=keys.__getitem__)),
            postings={g: array("I", ids) for g, ids in postings.items()},
            phrases=phrases,
            phrase_lengths={w: tuple(sorted(n, reverse=True)) for w, n in lengths.items()},
            cjk_keys=cjk,
            max_cjk_len=max((len(k) for k in cjk), default=0),
            confusable_keys={e: tuple(k) for e, k in confusable_keys.items()},
            scorer=scorer,
            _by_slug=entity_ids,
        )

    def owners(self, kid: int) -> tuple[tuple[int, int], ...]:
        """(entity, alias kind rank) of every entity a key names, best rank first."""
        more = self.more_owners.get(kid)
        return more if more is not None else ((self.owner_entity[kid], self.owner_rank[kid]),)

    @classmethod
    def from_engine(cls, engine: Engine, *, scorer: str = "hybrid") -> AliasIndex:
        """Every entity's name and aliases from the store."""
        with engine.connect() as conn:
            rows = conn.execute(
                select(
                    Entity.id,
                    Entity.slug,
                    Entity.name,
                    Entity.kind,
                    Entity.fact_count,
                    Entity.attrs,
                ).order_by(Entity.id)
            ).all()
            alias_rows = conn.execute(
                select(Alias.entity_id, Alias.alias, Alias.kind).order_by(Alias.id)
            ).all()
        population = {p.slug: p.population or 0 for p in load_places()}
        by_id: dict[int, IndexedEntity] = {}
        pairs: list[tuple[str, IndexedEntity, str]] = []
        for eid, slug, name, kind, fact_count, attrs in rows:
            attrs = attrs or {}
            entity = IndexedEntity(
                slug=slug,
                name=name,
                kind=kind,
                fact_count=fact_count or 0,
                confusable_with=frozenset(attrs.get("confusable_with") or ()),
                rank=float(attrs.get("population") or population.get(slug, 0)),
            )
            by_id[eid] = entity
            pairs.append((name, entity, "name"))
        pairs += [(alias, by_id[eid], kind) for eid, alias, kind in alias_rows if eid in by_id]
        return cls.from_pairs(pairs, scorer=scorer)

    @property
    def alias_count(self) -> int:
        return len(self.keys)

    # ------------------------------------------------------------------ resolving
    def resolve(self, query: str) -> Resolution:
        raw = unescape_slack(strip_slack_markup(query or "")).strip()
        echo = unescape_slack(query or "")
        if len(echo) > MAX_ECHO_CHARS:
            echo = echo[:MAX_ECHO_CHARS] + "…"
        # Fold at most a little more than the limit: a 5,000-character paste costs nothing.
        folded = _fold(raw[: MAX_QUERY_CHARS * 4])
        if not folded:
            return Resolution("usage", echo, reason="empty")
        if len(folded) > MAX_QUERY_CHARS:
            return Resolution("usage", echo, reason="too_long")
        key = _compact(folded)
        if not key or not any(ch.isalpha() or ch.isdigit() for ch in key):
            return Resolution("usage", echo, reason="no_letters")

        kid = self.exact.get(key)
        if kid is not None:
            return self._exact_answer(echo, kid)
        if len(key) < 3:
            return self._prefix_answer(echo, key)
        return self._fuzzy_answer(echo, folded, key)

    def _exact_answer(self, echo: str, kid: int) -> Resolution:
        owners = self.owners(kid)
        best_rank = owners[0][1]
        named = [eid for eid, rank in owners if rank == best_rank]
        with_facts = [eid for eid in named if self.entities[eid].fact_count > 0]
        pool = with_facts or named
        pool.sort(key=lambda e: -self.entities[e].rank)
        matched = self.folded[kid]
        top = self.entities[pool[0]]
        # Same-named places of one kind: the larger wins (Suzhou, Jiangsu over Suzhou, Anhui);
        # of different kinds (Jilin the province and the city), ask.
        if len(pool) > 1 and (
            self.entities[pool[1]].rank == top.rank or self.entities[pool[1]].kind != top.kind
        ):
            cands = tuple(self._candidate(e, 100.0, matched) for e in pool[:MAX_CANDIDATES])
            return Resolution("ambiguous", echo, candidates=cands, reason="close", matched=matched)
        # Others sharing the key, and known confusables, go along as "not what you meant?".
        sharing = [e for e, _ in owners if e != pool[0]]
        cands = [self._candidate(e, 100.0, matched) for e in sharing]
        for slug in sorted(top.confusable_with):
            eid = self._by_slug.get(slug)
            if eid is not None and eid not in sharing:
                cands.append(self._nearest_alias(eid, self.keys[kid]))
        reason = "exact" if best_rank == 0 else "alias"
        return Resolution(
            "found",
            echo,
            entity=top.ref,
            candidates=tuple(cands[:MAX_CANDIDATES]),
            reason=reason,
            matched=matched,
        )

    def _prefix_answer(self, echo: str, key: str) -> Resolution:
        order = self.alphabetical
        start = bisect.bisect_left(order, key, key=self.keys.__getitem__)
        best: dict[int, _Scored] = {}
        for kid in order[start:]:
            k = self.keys[kid]
            if not k.startswith(key):
                break
            score = 100.0 * len(key) / len(k)
            for eid, rank in self.owners(kid):
                self._keep(best, _Scored(eid, score, self.folded[kid], rank))
            if len(best) > 200:
                break
        ranked = self._rank(best.values())
        if not ranked:
            return Resolution("not_found", echo, reason="prefix")
        if len(ranked) == 1:
            s = ranked[0]
            ref = self.entities[s.entity].ref
            return Resolution("found", echo, entity=ref, reason="prefix", matched=s.matched)
        cands = tuple(
            self._candidate(s.entity, s.score, s.matched) for s in ranked[:MAX_CANDIDATES]
        )
        return Resolution("ambiguous", echo, candidates=cands, reason="prefix")

    def _fuzzy_answer(self, echo: str, folded: str, key: str) -> Resolution:
        kids = self.prefilter(key)
        scored = SCORERS[self.scorer](self, folded, key, kids, SUGGEST_FLOOR)
        best: dict[int, _Scored] = {}
        for kid, score in scored:
            for eid, rank in self.owners(kid):
                self._keep(best, _Scored(eid, score, self.folded[kid], rank))
        ranked = self._rank(best.values())
        hits = [s for s in ranked if s.score >= CUTOFF]
        if not hits:
            cands = tuple(
                self._candidate(s.entity, s.score, s.matched) for s in ranked[:MAX_CANDIDATES]
            )
            return Resolution("not_found", echo, candidates=cands, reason="fuzzy")
        top = hits[0]
        top_entity = self.entities[top.entity]
        # Within about one edit of the top: a confusable there makes us ask.
        one_edit = 100.0 / len(key) + 1.0
        confusable = [
            s
            for s in ranked[1:]
            if s.score >= top.score - one_edit
            and (
                self.entities[s.entity].slug in top_entity.confusable_with
                or top_entity.slug in self.entities[s.entity].confusable_with
            )
        ]
        close = [
            s
            for s in hits[1:]
            if s.score >= top.score - CLOSE_MARGIN
            and (self.entities[s.entity].fact_count > 0 or top_entity.fact_count == 0)
        ]
        if confusable or close:
            pool = [top, *confusable, *[s for s in close if s not in confusable]]
            pool.sort(key=lambda s: ranked.index(s))
            cands = tuple(
                self._candidate(s.entity, s.score, s.matched) for s in pool[:MAX_CANDIDATES]
            )
            reason = "confusable" if confusable else "close"
            return Resolution("ambiguous", echo, candidates=cands, reason=reason)
        others = tuple(
            self._candidate(s.entity, s.score, s.matched) for s in ranked[1:3] if s.score >= CUTOFF
        )
        return Resolution(
            "found",
            echo,
            entity=top_entity.ref,
            candidates=others,
            reason="fuzzy",
            matched=top.matched,
        )

    def prefilter(self, key: str) -> list[int]:
        """The keys worth scoring against ``key``: at most ``PREFILTER_KEEP`` keys of a length
        the cut-off can reach that share the most trigrams with it (rare trigrams read first,
        common ones skipped once ``POSTINGS_BUDGET`` ids are read), plus, for queries of five
        characters or more, longer keys containing two of its three rarest trigrams (the
        query may be a fragment of a long title). A query costs about the same at a thousand
        aliases as at a million."""
        n = len(key)
        lists = [self.postings[g] for g in _trigrams(key) if g in self.postings]
        if not lists:
            return []
        last = len(self.by_length) - 1
        lo = self.by_length[min(last, math.ceil(n * CUTOFF / 100))]
        hi = self.by_length[min(last, math.floor(n * 100 / CUTOFF) + 1)]
        chosen = self._top_by_count(self._slices(lists, lo, hi), n)
        if n >= 5:
            start = self.by_length[min(last, n + 4)]
            rarest = self._slices(lists, start, len(self.keys))[:3]
            if len(rarest) == 3 and len(rarest[0]) <= POSTINGS_BUDGET:
                a, b, c = rarest
                first = set(a)
                fragment = first.intersection(b) | first.intersection(c) | set(b).intersection(c)
                seen = set(chosen)
                chosen += [k for k in sorted(fragment)[:PREFILTER_KEEP] if k not in seen]
        return chosen

    @staticmethod
    def _slices(lists: list[array], lo: int, hi: int) -> list[array]:
        """Each posting list cut to key ids in [lo, hi), smallest first."""
        bounds = sorted(
            ((bisect.bisect_left(ids, lo), bisect.bisect_left(ids, hi), ids) for ids in lists),
            key=lambda b: b[1] - b[0],
        )
        return [ids[i:j] for i, j, ids in bounds if j > i]

    def _top_by_count(self, slices: list[array], n: int) -> list[int]:
        counts: Counter[int] = Counter()
        spent = 0
        for ids in slices:
            if spent and spent + len(ids) > POSTINGS_BUDGET:
                break
            counts.update(ids[:POSTINGS_BUDGET])
            spent += min(len(ids), POSTINGS_BUDGET)
        if len(counts) <= PREFILTER_KEEP:
            return list(counts)
        # Whole count levels from the top while they fit, then the part of the next level
        # nearest the query's length (ids are in length order: nearest ids, nearest lengths).
        levels = Counter(counts.values())
        full: set[int] = set()
        taken = 0
        partial = 0
        for level in sorted(levels, reverse=True):
            if taken + levels[level] > PREFILTER_KEEP:
                partial = level
                break
            full.add(level)
            taken += levels[level]
        chosen: list[int] = []
        tier: list[int] = []
        for k, c in counts.items():
            if c in full:
                chosen.append(k)
            elif c == partial:
                tier.append(k)
        tier.sort()
        room = PREFILTER_KEEP - len(chosen)
        mid = bisect.bisect_left(tier, self.by_length[min(n, len(self.by_length) - 1)])
        start = max(0, min(mid - room // 2, len(tier) - room))
        return chosen + tier[start : start + room]

    # ------------------------------------------------------------------ mentions
    def mentions(self, text: str, *, with_facts_only: bool = True) -> list[EntityRef]:
        """Entities named in ``text``, longest names first and without overlaps; companies
        first, then institutions, projects, policies and places."""
        folded = _fold(unescape_slack(strip_slack_markup(text or "")))
        found: dict[int, int] = {}  # entity -> first position

        def take(kid: int, pos: int) -> bool:
            eid = self._mention_owner(kid, with_facts_only)
            if eid is None:
                return False
            found.setdefault(eid, pos)
            return True

        matches = list(re.finditer(r"\w+", folded))
        words = [m.group(0) for m in matches]
        starts = [m.start() for m in matches]
        i = 0
        while i < len(words):
            step = 1
            for n, kid in self._phrases_at(words, i):
                if take(kid, starts[i]):
                    step = n
                    break
            i += step
        if self.cjk_keys:
            for run in re.finditer(f"{_CJK.pattern}+", folded):
                self._cjk_mentions(run.group(0), run.start(), take)
        order = sorted(
            found.items(),
            key=lambda item: (_MENTION_KIND_ORDER.get(self.entities[item[0]].kind, 99), item[1]),
        )
        return [self.entities[eid].ref for eid, _ in order]

    def _phrases_at(self, words: list[str], i: int) -> Iterable[tuple[int, int]]:
        """(length in words, key id) of aliases starting at word ``i``, longest first: the
        alias's own words, or a one-word alias split over up to three words (``chong
        qing``), or typed without its spaces and apostrophes (``xiongan``)."""
        found: list[tuple[int, int]] = []
        for n in self.phrase_lengths.get(words[i], ()):
            kid = self.phrases.get(" ".join(words[i : i + n])) if i + n <= len(words) else None
            if kid is not None:
                found.append((n, kid))
        for n in (3, 2, 1):
            toks = words[i : i + n]
            if len(toks) < n or (n > 1 and min(map(len, toks)) < 2):
                continue
            joined = "".join(toks)
            if len(joined) >= (3 if n == 1 else 5) and not _is_cjk(joined):
                kid = self.exact.get(joined)
                if kid is not None:
                    found.append((n, kid))
        found.sort(key=lambda item: -item[0])
        return found

    def _cjk_mentions(self, run: str, offset: int, take: Callable[[int, int], bool]) -> None:
        i = 0
        while i < len(run):
            step = 1
            for n in range(min(self.max_cjk_len, len(run) - i), 1, -1):
                kid = self.cjk_keys.get(run[i : i + n])
                if kid is not None and take(kid, offset + i):
                    step = n
                    break
            i += step

    def _mention_owner(self, kid: int, with_facts_only: bool) -> int | None:
        for eid, rank in self.owners(kid):  # best alias kind first
            if rank >= _ALIAS_KIND_RANK["garble"]:
                continue  # "Qinghai" in a message means the province, whatever 000 garbled
            if not with_facts_only or self.entities[eid].fact_count > 0:
                return eid
        return None

    # ------------------------------------------------------------------ helpers
    def _keep(self, best: dict[int, _Scored], cand: _Scored) -> None:
        old = best.get(cand.entity)
        if old is None or (cand.score, -cand.alias_rank) > (old.score, -old.alias_rank):
            best[cand.entity] = cand

    def _rank(self, scored: Iterable[_Scored]) -> list[_Scored]:
        """Best score first; on a tie, a name beats a garble, facts beat none, then size."""
        return sorted(
            scored,
            key=lambda s: (
                -round(s.score, 6),
                s.alias_rank >= _ALIAS_KIND_RANK["garble"],
                self.entities[s.entity].fact_count == 0,
                -self.entities[s.entity].rank,
                self.entities[s.entity].name,
            ),
        )

    def _nearest_alias(self, eid: int, key: str) -> Candidate:
        """``eid`` as a candidate, scored by its alias nearest to ``key``."""
        kid = max(
            self.confusable_keys[eid], key=lambda k: OSA.normalized_similarity(key, self.keys[k])
        )
        score = 100.0 * OSA.normalized_similarity(key, self.keys[kid])
        return self._candidate(eid, score, self.folded[kid])

    def _candidate(self, eid: int, score: float, matched: str) -> Candidate:
        return Candidate(entity=self.entities[eid].ref, score=round(score, 1), matched=matched)


# ----------------------------------------------------------------------------- scorers
# Each returns (key id, score 0-100) for the candidate keys scoring at least ``floor``.


def _extract(
    query: str, choices: Sequence[str], kids: list[int], scorer, floor: float, scale: float = 1.0
) -> list[tuple[int, float]]:
    out = process.extract(
        query, choices, scorer=scorer, score_cutoff=floor / scale, limit=None, processor=None
    )
    return [(kids[i], score * scale) for _, score, i in out]


def _score_ratio(ix: AliasIndex, folded: str, key: str, kids: list[int], floor: float):
    return _extract(key, [ix.keys[k] for k in kids], kids, fuzz.ratio, floor)


def _score_wratio(ix: AliasIndex, folded: str, key: str, kids: list[int], floor: float):
    return _extract(folded, [ix.folded[k] for k in kids], kids, fuzz.WRatio, floor)


def _score_token_set(ix: AliasIndex, folded: str, key: str, kids: list[int], floor: float):
    return _extract(folded, [ix.folded[k] for k in kids], kids, fuzz.token_set_ratio, floor)


def _score_osa(ix: AliasIndex, folded: str, key: str, kids: list[int], floor: float):
    return _extract(
        key, [ix.keys[k] for k in kids], kids, OSA.normalized_similarity, floor, scale=100.0
    )


def _score_hybrid(ix: AliasIndex, folded: str, key: str, kids: list[int], floor: float):
    best: dict[int, float] = dict(_score_osa(ix, folded, key, kids, floor))
    # A fragment of a much longer alias (a policy title), found nearly verbatim: scored
    # below a whole-name match so that a typo of a name never ties with a title starting
    # with it ("qingdoa" is Qingdao, not "Qingdao ... Action Plan").
    long_kids = [k for k in kids if len(ix.keys[k]) >= len(key) + 4] if len(key) >= 5 else []
    if long_kids:
        for kid, score in _extract(
            key,
            [ix.keys[k] for k in long_kids],
            long_kids,
            fuzz.partial_ratio,
            max(floor / PARTIAL_WEIGHT, PARTIAL_MIN),
        ):
            best[kid] = max(best.get(kid, 0.0), score * PARTIAL_WEIGHT)
    if " " in folded:  # words in another order
        for kid, score in _extract(
            folded, [ix.folded[k] for k in kids], kids, fuzz.token_sort_ratio, floor
        ):
            best[kid] = max(best.get(kid, 0.0), score)
    return list(best.items())


SCORERS: dict[str, Scorer] = {
    "hybrid": _score_hybrid,
    "wratio": _score_wratio,
    "ratio": _score_ratio,
    "token_set": _score_token_set,
    "osa": _score_osa,
}


# ----------------------------------------------------------------------------- the store


# How long an index is trusted without asking the database for the generation. Commits
# through the same engine (an in-process build or ingest) end the trust at once; a rebuild by
# another process is seen within this many seconds.
GENERATION_TTL = 1.0


@dataclass
class _Cached:
    generation: str | None
    index: AliasIndex
    checked_at: float
    stale: bool = False  # set by any commit through the engine


_cache: weakref.WeakKeyDictionary[Engine, _Cached] = weakref.WeakKeyDictionary()
_watched: weakref.WeakSet[Engine] = weakref.WeakSet()
_lock = threading.Lock()


def _generation(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return conn.execute(
            select(StoreMeta.value).where(StoreMeta.key == "generation")
        ).scalar_one_or_none()


def _on_commit(conn: Connection) -> None:
    cached = _cache.get(conn.engine)
    if cached is not None:
        cached.stale = True


def get_index(engine: Engine) -> AliasIndex:
    """The index for the store's current build, rebuilt only when the generation changes.

    The generation (one indexed row) is read again after a commit through this engine or
    after ``GENERATION_TTL`` seconds, so a steady stream of lookups costs no SQL at all."""
    cached = _cache.get(engine)
    now = time.monotonic()
    if cached is not None and not cached.stale and now - cached.checked_at < GENERATION_TTL:
        return cached.index
    if engine not in _watched:
        event.listen(engine, "commit", _on_commit)
        _watched.add(engine)
    if cached is not None:
        cached.stale = False  # before the read: a commit from now on marks it again
    generation = _generation(engine)
    with _lock:
        cached = _cache.get(engine)
        if cached is None or cached.generation != generation:
            cached = _Cached(generation, AliasIndex.from_engine(engine), now)
            _cache[engine] = cached
        else:
            cached.checked_at = now
        return cached.index


def resolve(engine: Engine, query: str) -> Resolution:
    """Resolve a query to one entity, a few candidates, or an honest refusal."""
    return get_index(engine).resolve(query)


def find_mentions(engine: Engine, text: str) -> list[EntityRef]:
    """Every entity with facts named in ``text``."""
    return get_index(engine).mentions(text)
