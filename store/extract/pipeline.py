"""From documents to rows: the whole extraction, in memory, deterministic.

``extract(docs, curation, places)`` segments every document, grows the entity catalogue
(gazetteer, curation, then names found by the rules), finds mentions sentence by sentence
(curated garbles first, so ``held in Qinghai`` in 000 is Qingdao while Qinghai elsewhere stays
the province), dates and numbers each sentence, and returns plain row dicts for
``store.build`` to insert. Nothing here touches the database.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from store.extract import rules
from store.extract.catalog import Catalog, EntityRec, Hit
from store.extract.curation import Curation
from store.extract.dates import DateContext, FoundDate, find_date
from store.extract.numbers import find_numbers
from store.extract.segment import Segment, segment
from store.extract.source import SourceDocument, slugify
from store.gazetteer import Place
from store.progress import ProgressFn, no_progress

EXTRACTOR_VERSION = "2026-11-22.1"

_PLACE_KINDS = frozenset({"province", "city", "district", "region"})
_ISSUER_KINDS = _PLACE_KINDS | {"institution"}
_TARGET = re.compile(
    r"\b(?:plans? to|planned to|is expected to|are expected to|strive to|aims? to|"
    r"[Bb]y 20\d\d|goal is|will (?:build|create|gather|implement|establish|reach|achieve)|"
    r"next step will)\b"
)
_EVENT_VERBS = re.compile(
    r"\b(?:issued|released|launched|held|established|set up|signed|opened|unveiled|"
    r"introduced|announced|approved|reviewed|kicked off|settled|initiated|officially|"
    r"completed|allocated|went|said|stated|pointed out|was born|applied|pronounced|responded|"
    r"organized|organised|emphasized|suggested)\b",
    re.I,
)
_ISSUE_VERBS = re.compile(
    r"\b(?:issued|released|introduced|announced|formulat\w*|approved|reviewed|launched|"
    r"proposed|included)\b"
)
_CITY_PREFIX = re.compile(r"\(([A-Z][a-z]+)\)")
_MIN_FACT_CHARS = 40
_RANKS = {"curation": 1e12, "rules": -1.0}


@dataclass
class Extraction:
    documents: list[dict[str, Any]] = field(default_factory=list)
    passages: list[dict[str, Any]] = field(default_factory=list)
    entities: list[dict[str, Any]] = field(default_factory=list)
    aliases: list[dict[str, Any]] = field(default_factory=list)
    facts: list[dict[str, Any]] = field(default_factory=list)
    mentions: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Fact:
    doc: SourceDocument
    seg: Segment
    passage_id: int
    text: str
    date: FoundDate | None
    kind: str
    numbers: list[dict[str, Any]]
    section: str | None
    title: str | None
    hits: list[Hit]
    subject: str | None
    context_date: FoundDate | None = None  # the paragraph's date, for a sentence without one


def _tidy(sentence: str, limit: int = 280) -> str:
    """The sentence as a statement: spacing mended, a long one cut at a clause boundary."""
    text = re.sub(r"\s+", " ", sentence.replace("\u00a0", " ")).strip()
    text = re.sub(r"\s+([,.;:!?%、])", r"\1", text)
    text = re.sub(r"([,;])(?:\s*[,;])+", r"\1", text)
    text = re.sub(r"“\s+", "“", text)
    text = re.sub(r"\s+”", "”", text)
    text = re.sub(r"^(?:It is reported that|It is understood that|In addition,)\s+", "", text)
    text = text[:1].upper() + text[1:]
    if len(text) > limit:
        cut = max(text.rfind(sep, 0, limit) for sep in ("; ", ", ", "、"))
        text = (text[:cut] if cut > limit // 2 else text[:limit].rsplit(" ", 1)[0]) + " …"
    return text


def _published_until(doc: SourceDocument) -> dt.date:
    """The last day the publication date can mean (December 2019 -> 2019-12-31)."""
    if doc.precision == "year":
        return doc.published.replace(month=12, day=31)
    if doc.precision == "month":
        last = calendar.monthrange(doc.published.year, doc.published.month)[1]
        return doc.published.replace(day=last)
    return doc.published


class _Extractor:
    def __init__(self, curation: Curation, places: tuple[Place, ...], progress: ProgressFn):
        self.cur = curation
        self.progress = progress
        self.catalog = Catalog()
        self.out = Extraction()
        self._pending_mentions: list[tuple[int, str, str, str]] = []
        self._links: dict[tuple[str, str, str], tuple[str, str, str, int | None]] = {}
        self._load_places(places)
        self._load_curated()
        self.garbles_by_doc: dict[str | None, list[Any]] = defaultdict(list)
        for garble in curation.garbles:
            self.garbles_by_doc[garble.doc].append(garble)
            if garble.context is None:
                # Looked up by people, but matched in text only where the garble is curated.
                self.catalog.add_alias(garble.entity, garble.literal, "garble", matchable=False)

    # ------------------------------------------------------------------ catalogue
    def _load_places(self, places: tuple[Place, ...]) -> None:
        order = {"province": 0, "region": 0, "city": 1, "district": 2}
        for place in sorted(places, key=lambda p: order.get(p.kind, 3)):
            rank = float(place.population) if place.population else 1e10
            rec = self.catalog.add(
                EntityRec(
                    slug=place.slug,
                    kind=place.kind,
                    name=place.name,
                    origin="gazetteer",
                    name_zh=place.name_zh,
                    summary=self.cur.place_summaries.get(place.slug, place.description),
                    parent_slug=place.parent_slug,
                    rank=rank,
                )
            )
            for alias, kind in place.aliases + self.cur.place_aliases.get(place.slug, ()):
                self.catalog.add_alias(rec.slug, alias, kind)

    def _load_curated(self) -> None:
        for ce in self.cur.entities:
            located = next((t for r, t in ce.links if r == "located_in"), None)
            rec = self.catalog.add(
                EntityRec(
                    slug=ce.slug,
                    kind=ce.kind,
                    name=ce.name,
                    origin="curation",
                    name_zh=ce.name_zh,
                    summary=ce.summary,
                    parent_slug=located if ce.kind == "district" else None,
                    rank=_RANKS["curation"],
                    attrs=dict(ce.attrs),
                )
            )
            for alias, kind in ce.aliases:
                self.catalog.add_alias(rec.slug, alias, kind)
        for group in self.cur.confusables:
            for slug in group:
                rec = self.catalog.entities[slug]
                others = [s for s in group if s != slug]
                rec.attrs["confusable_with"] = sorted(
                    set(rec.attrs.get("confusable_with", [])) | set(others)
                )

    def _add_rule_entity(
        self, name: str, kind: str, doc: SourceDocument, **attrs: Any
    ) -> str | None:
        if name in self.cur.ignore:
            return None
        owner = self.catalog.owner(name)
        if owner is not None:
            return owner
        slug = f"{kind}:{slugify(name)}"
        rec = self.catalog.add(
            EntityRec(
                slug=slug,
                kind=kind,
                name=name,
                origin="rules",
                rank=_RANKS["rules"],
                attrs={k: v for k, v in attrs.items() if v is not None},
            )
        )
        if kind == "company" and name.endswith("Co., Ltd."):
            self.catalog.add_alias(rec.slug, name[: -len(" Co., Ltd.")].rstrip(","), "variant")
        return rec.slug

    # ------------------------------------------------------------------ documents
    def run(self, docs: list[SourceDocument]) -> Extraction:
        segmented = []
        for n, doc in enumerate(docs, 1):
            self.progress("reading", n, len(docs))
            segmented.append((doc, segment(doc, self.cur.roundup_sections)))
        for doc, segs in segmented:
            self._discover_names(doc, segs)
        facts: list[_Fact] = []
        passage_id = 0
        for n, (doc_id, (doc, segs)) in enumerate(enumerate(segmented, 1), 1):
            self.progress("extracting", n, len(segmented))
            self.out.documents.append(self._document_row(doc_id, doc))
            ids = []
            for seg in segs:
                passage_id += 1
                ids.append(passage_id)
                self.out.passages.append(
                    {
                        "id": passage_id,
                        "document_id": doc_id,
                        "paragraph": seg.paragraph,
                        "start": seg.start,
                        "end": seg.end,
                        "text": seg.text,
                        "kind": seg.kind,
                        "section": seg.section,
                        "item_title": seg.item_title,
                    }
                )
            facts.extend(self._facts_of(doc, segs, ids))
        self._emit(facts, {doc.slug: i for i, (doc, _) in enumerate(segmented, 1)})
        return self.out

    def _discover_names(self, doc: SourceDocument, segs: list[Segment]) -> None:
        """Grow the catalogue with names the rules find (in document order: stable slugs)."""
        for seg in segs:
            if not seg.minable:
                continue
            policies = [(h.name.rstrip("."), h.kind) for h in rules.find_policy_titles(seg.text)]
            others = [(h.name, h.kind) for h in rules.find_names(seg.text)]
            for name, kind in policies + others:
                # A title's own years date it ("(2018-2022)", "2020 Action Plan"); otherwise
                # the first dated fact naming it does (see _policy_years).
                span = re.search(r"\b(20\d\d)\b", name)
                attrs = {"year": int(span.group(1))} if kind == "policy" and span else {}
                self._add_rule_entity(name, kind, doc, **attrs)
            for person in rules.find_people(seg.text):
                slug = self._add_rule_entity(person.name, "person", doc, title=person.title)
                rec = self.catalog.entities.get(slug or "")
                if rec is not None and rec.origin == "rules" and not rec.summary:
                    title = person.title[:1].upper() + person.title[1:]
                    rec.summary = f"{title} ({doc.source}, {doc.published:%B %Y})"

    def _document_row(self, doc_id: int, doc: SourceDocument) -> dict[str, Any]:
        return {
            "id": doc_id,
            "slug": doc.slug,
            "filename": doc.filename,
            "title": doc.title,
            "short_title": doc.short_title,
            "source": doc.source,
            "author": doc.author,
            "published": doc.published,
            "published_precision": doc.precision,
            "origin": doc.origin,
            "ingested_at": doc.ingested_at,
            "sha256": doc.sha256,
            "text": doc.text,
            "body_end": doc.body_end,
            "is_roundup": doc.is_roundup,
        }

    def _date_context(self, doc: SourceDocument, heading_year: int | None) -> DateContext:
        hints = self.cur.documents.get(doc.slug)
        year = heading_year or (hints.reference_year if hints and hints.reference_year else None)
        return DateContext(
            year=year or doc.published.year,
            published=doc.published,
            published_precision=doc.precision,
            year_is_heading=year is not None,
        )

    # ------------------------------------------------------------------ sentences
    def _hits(self, doc: SourceDocument, sentence: str) -> list[Hit]:
        forced: list[Hit] = []
        for garble in self.garbles_by_doc.get(doc.slug, []) + self.garbles_by_doc.get(None, []):
            if garble.context is not None and garble.context not in sentence:
                continue
            for m in re.finditer(re.escape(garble.literal), sentence):
                forced.append(Hit(garble.entity, m.start(), m.end(), garble.literal))
        hits = list(forced)
        for hit in self.catalog.find(sentence):
            overlapping = [f for f in forced if f.start < hit.end and hit.start < f.end]
            if not overlapping:
                hits.append(hit)
            elif all(
                f.slug == hit.slug and hit.start <= f.start and f.end <= hit.end
                for f in overlapping
            ):
                # "Qingdao Chain and Bay Research Institute" is a full name of the entity the
                # garble "Chain and Bay Research Institute" means: keep the longer literal.
                hits = [h for h in hits if h not in overlapping] + [hit]
        # Places named inside longer names ("CCID (Qingdao) Blockchain Research Institute").
        for outer in list(hits):
            if self.catalog.entities[outer.slug].kind in _PLACE_KINDS:
                continue
            inner_text = sentence[outer.start : outer.end]
            for inner in self.catalog.find(inner_text, kinds=_PLACE_KINDS):
                hits.append(
                    Hit(
                        inner.slug,
                        outer.start + inner.start,
                        outer.start + inner.end,
                        inner.literal,
                    )
                )
        hits.sort(key=lambda h: (h.start, -h.end))
        return hits

    def _facts_of(self, doc: SourceDocument, segs: list[Segment], ids: list[int]) -> list[_Fact]:
        hints = self.cur.documents.get(doc.slug)
        chinese = bool(hints and hints.chinese_scales)
        out: list[_Fact] = []
        heading_year: int | None = None
        last_month: tuple[int, int] | None = None
        paragraph_date: FoundDate | None = None
        previous_date: FoundDate | None = None
        title_hits: list[Hit] = []
        for seg, passage_id in zip(segs, ids, strict=True):
            if seg.kind == "heading":
                year = re.match(r"^(\d{4}) year$", seg.text)
                heading_year = int(year.group(1)) if year else None
                last_month = None
                continue
            if seg.kind == "title":
                title_hits = self._hits(doc, seg.text)
                continue
            if not seg.minable:
                continue
            if seg.first_in_paragraph:
                paragraph_date = None
            ctx = self._date_context(doc, heading_year if seg.in_timeline else None)
            candidates = [self._curated_date(doc, seg.text), find_date(seg.text, ctx)]
            date = min((d for d in candidates if d), key=lambda d: d.start, default=None)
            if date is not None and date.relative:
                date = previous_date and FoundDate(
                    previous_date.value, previous_date.precision, date.start, date.text
                )
            # A timeline whose next year heading is missing: the months start again.
            if seg.in_timeline and date is not None and seg.first_in_paragraph and heading_year:
                month = (date.value.year, date.value.month)
                if last_month and month < last_month and date.value.year == heading_year:
                    heading_year += 1
                    date = FoundDate(
                        date.value.replace(year=heading_year), date.precision, date.start, date.text
                    )
                    month = (heading_year, date.value.month)
                last_month = month
                seg.section = f"{heading_year} year"
            elif seg.in_timeline and heading_year:
                seg.section = f"{heading_year} year"
            own_date = date
            # A roundup item's later sentences belong to its date; elsewhere a sentence without
            # a date of its own stays undated (the digest would list it as a second event).
            if date is None and seg.item_title and not seg.first_in_paragraph:
                date = paragraph_date
            if seg.first_in_paragraph:
                paragraph_date = date
            if own_date is not None:
                previous_date = own_date
            hits = self._hits(doc, seg.text)
            in_item_lead = bool(seg.item_title) and seg.first_in_paragraph
            if in_item_lead:
                known = {h.slug for h in hits}
                hits = hits + [h for h in title_hits if h.slug not in known]
            if not hits or (len(seg.text) < _MIN_FACT_CHARS and own_date is None):
                continue  # no name, or a bare attribution ('"Haiyu said.')
            numbers = find_numbers(seg.text, chinese_scales=chinese)
            curated = self._curated_fact(doc, seg.text)
            kind = self._kind(seg.text, date, numbers, doc)
            if in_item_lead and date is not None and date.precision == "day":
                kind = "event"  # a roundup item is the news of its day
            if curated and curated.kind:
                kind = curated.kind
            if kind == "figure" and date is None:
                date = self._as_of(doc)
            subject = curated.subject if curated and curated.subject else None
            if subject is None:
                subject = self._subject(hits, title_hits if in_item_lead else [])
            out.append(
                _Fact(
                    doc=doc,
                    seg=seg,
                    passage_id=passage_id,
                    text=curated.text if curated and curated.text else _tidy(seg.text),
                    date=date,
                    kind=kind,
                    numbers=numbers,
                    section=seg.section if doc.is_roundup else None,
                    title=seg.item_title,
                    hits=hits,
                    subject=subject,
                    context_date=paragraph_date,
                )
            )
        # Passage rows were written before timeline sections were inferred: refresh them.
        by_id = {p["id"]: p for p in self.out.passages}
        for seg, passage_id in zip(segs, ids, strict=True):
            by_id[passage_id]["section"] = seg.section
        return out

    def _as_of(self, doc: SourceDocument) -> FoundDate:
        """When an undated figure holds: the year a report covers, else the publication
        date, never finer than a month (a figure is not the news of one day)."""
        hints = self.cur.documents.get(doc.slug)
        if hints and hints.reference_year:
            return FoundDate(dt.date(hints.reference_year, 1, 1), "year", 0, "")
        precision = "year" if doc.precision == "year" else "month"
        return FoundDate(doc.published.replace(day=1), precision, 0, "")

    def _subject(self, hits: list[Hit], title_hits: list[Hit]) -> str:
        """What the sentence is about: a roundup item's titled company or body beats a place
        in the title; otherwise the first name not nested in a longer one, a non-place
        before a place it is named after."""
        entities = self.catalog.entities

        def outer(candidates: list[Hit]) -> list[Hit]:
            return [
                h
                for h in candidates
                if not any(o is not h and o.start <= h.start and h.end <= o.end for o in candidates)
            ]

        for hit in outer(title_hits):
            if entities[hit.slug].kind not in _PLACE_KINDS:
                return hit.slug
        if title_hits and not any(entities[h.slug].kind not in _PLACE_KINDS for h in hits):
            return title_hits[0].slug
        return outer(hits)[0].slug

    def _curated_date(self, doc: SourceDocument, sentence: str) -> FoundDate | None:
        for cd in self.cur.dates:
            if cd.doc == doc.slug and cd.contains in sentence:
                return FoundDate(cd.value, cd.precision, sentence.index(cd.contains), cd.contains)
        return None

    def _curated_fact(self, doc: SourceDocument, sentence: str) -> Any:
        for cf in self.cur.facts:
            if cf.doc == doc.slug and cf.contains in sentence:
                return cf
        return None

    @staticmethod
    def _kind(
        sentence: str, date: FoundDate | None, numbers: list[dict[str, Any]], doc: SourceDocument
    ) -> str:
        """event (it happened), target (planned), figure (a number as of a date), or
        statement. A dated sentence with a past-tense verb is an event even when it also
        says what was planned ("... was established. The goal is to ...")."""
        past = date is not None and date.value <= _published_until(doc)
        if past and date.precision in ("day", "month") and _EVENT_VERBS.search(sentence):
            return "event"
        if _TARGET.search(sentence) and not past:
            return "target"
        if past and date.precision == "year" and _EVENT_VERBS.search(sentence):
            return "event"
        if numbers:
            return "figure"
        if _TARGET.search(sentence):
            return "target"
        return "statement"

    # ------------------------------------------------------------------ rows
    def _emit(self, facts: list[_Fact], doc_ids: dict[str, int]) -> None:
        self.progress("linking", 0, 0)
        entity_facts: dict[str, list[int]] = defaultdict(list)
        pair_fact: dict[tuple[str, str], int] = {}
        for fact_id, fact in enumerate(facts, 1):
            start = fact.seg.start
            self.out.facts.append(
                {
                    "id": fact_id,
                    "document_id": doc_ids[fact.doc.slug],
                    "passage_id": fact.passage_id,
                    "text": fact.text,
                    "quote": fact.seg.text,
                    "start": start,
                    "end": fact.seg.end,
                    "date": fact.date.value if fact.date else None,
                    "date_precision": fact.date.precision if fact.date else None,
                    "kind": fact.kind,
                    "numbers": fact.numbers,
                    "section": fact.section,
                    "title": fact.title,
                }
            )
            seen: dict[str, Hit] = {}
            for hit in fact.hits:
                seen.setdefault(hit.slug, hit)
            for slug, hit in seen.items():
                entity_facts[slug].append(fact_id)
                self._pending_mentions.append(
                    (fact_id, slug, "subject" if slug == fact.subject else "mention", hit.literal)
                )
            for a in seen:
                for b in seen:
                    if a != b:
                        pair_fact.setdefault((a, b), fact_id)
            self._rule_links(fact, seen, fact_id)
        self._policy_years(facts)
        self._curated_links(pair_fact)
        self._name_links(pair_fact, entity_facts)
        self._entity_rows(entity_facts)

    def _rule_links(self, fact: _Fact, seen: dict[str, Hit], fact_id: int) -> None:
        entities = self.catalog.entities
        sentence = fact.seg.text
        for slug, hit in seen.items():
            rec = entities[slug]
            if rec.kind == "policy" and rec.origin == "rules" and "issuer" not in rec.attrs:
                before = sentence[: hit.start]
                if not _ISSUE_VERBS.search(sentence):
                    continue
                issuers = [
                    h
                    for h in fact.hits
                    if h.end <= hit.start and entities[h.slug].kind in _ISSUER_KINDS
                ]
                if issuers and len(before) < 200:
                    issuer = issuers[-1].slug
                    rec.attrs["issuer"] = issuer
                    self._link(slug, issuer, "issued_by", fact_id)
            if rec.kind == "person":
                title = rec.attrs.get("title", "")
                for other in self.catalog.find(title):
                    if entities[other.slug].kind not in _PLACE_KINDS and other.slug in seen:
                        self._link(slug, other.slug, "member_of", fact_id)
                        break

    def _policy_years(self, facts: list[_Fact]) -> None:
        """A policy without a year in its title takes the year of the first dated fact that
        names it (facts are in document order)."""
        for fact in facts:
            date = fact.date or fact.context_date
            if date is None:
                continue
            for hit in fact.hits:
                rec = self.catalog.entities[hit.slug]
                if rec.kind == "policy" and "year" not in rec.attrs:
                    rec.attrs["year"] = date.value.year

    def _curated_links(self, pair_fact: dict[tuple[str, str], int]) -> None:
        for ce in self.cur.entities:
            for relation, target in ce.links:
                self._link(ce.slug, target, relation, pair_fact.get((ce.slug, target)))
                if relation == "issued_by":
                    self.catalog.entities[ce.slug].attrs.setdefault("issuer", target)
        for link in self.cur.links:
            self._link(
                link.source, link.target, link.relation, pair_fact.get((link.source, link.target))
            )

    def _name_links(
        self, pair_fact: dict[tuple[str, str], int], entity_facts: dict[str, list[int]]
    ) -> None:
        """Companies and institutions named after their city: ``CCID (Qingdao) ...``,
        ``Qingdao Flash Payment ...``; districts in their city; a policy of a district
        belongs to the district's city too."""
        entities = self.catalog.entities
        for rec in list(entities.values()):
            if rec.kind in ("company", "institution", "project") and rec.origin == "rules":
                match = _CITY_PREFIX.search(rec.name)
                first = match.group(1) if match else rec.name.split(" ", 1)[0]
                city = self.catalog.owner(first)
                if city and entities[city].kind == "city":
                    self._link(rec.slug, city, "located_in", pair_fact.get((rec.slug, city)))
            if rec.kind == "district" and rec.parent_slug:
                self._link(rec.slug, rec.parent_slug, "located_in", None)
        for link in list(self._links.values()):
            if link[2] != "issued_by":
                continue
            issuer = entities[link[1]]
            if issuer.kind == "district" and issuer.parent_slug:
                self._link(link[0], issuer.parent_slug, "related", link[3])

    def _link(self, source: str, target: str, relation: str, fact_id: int | None) -> None:
        if (
            source == target
            or source not in self.catalog.entities
            or target not in self.catalog.entities
        ):
            missing = source if source not in self.catalog.entities else target
            if source != target:
                raise ValueError(f"curation names an unknown entity: {missing}")
            return
        key = (source, target, relation)
        if key not in self._links:
            self._links[key] = (source, target, relation, fact_id)

    def _entity_rows(self, entity_facts: dict[str, list[int]]) -> None:
        entities = self.catalog.entities
        ids = {slug: i for i, slug in enumerate(entities, 1)}
        for slug, rec in entities.items():
            parent = rec.parent_slug if rec.parent_slug in ids else None
            self.out.entities.append(
                {
                    "id": ids[slug],
                    "slug": slug,
                    "kind": rec.kind,
                    "name": rec.name,
                    "name_zh": rec.name_zh,
                    "summary": rec.summary,
                    "origin": rec.origin,
                    "fact_count": len(set(entity_facts.get(slug, []))),
                    "parent_id": ids[parent] if parent else None,
                    "attrs": rec.attrs,
                }
            )
            for key, (alias, kind) in rec.aliases.items():
                self.out.aliases.append(
                    {"entity_id": ids[slug], "alias": alias, "key": key, "kind": kind}
                )
        for fact_id, slug, role, literal in self._pending_mentions:
            self.out.mentions.append(
                {"fact_id": fact_id, "entity_id": ids[slug], "role": role, "literal": literal}
            )
        for source, target, relation, fact_id in self._links.values():
            self.out.links.append(
                {
                    "source_id": ids[source],
                    "target_id": ids[target],
                    "relation": relation,
                    "fact_id": fact_id,
                }
            )


def extract(
    docs: list[SourceDocument],
    curation: Curation,
    places: tuple[Place, ...],
    progress: ProgressFn = no_progress,
) -> Extraction:
    return _Extractor(curation, places, progress).run(docs)
