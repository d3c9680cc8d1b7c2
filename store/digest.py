"""The weekly digest, composed from the fact store in the style of seed 004 ("Industry
Blockchain Weekly News"). Pure data: ``bot.render.digest`` turns a ``Digest`` into text, JSON
or Block Kit, so the CLI and Slack show the same digest.

What a weekly edition covers
    * every fact with a **day-precision** date in ``[week_start, week_start + 6]`` whose kind is
      ``event``, ``statement`` or ``figure`` (a ``target``'s date is a deadline, not something
      that happened that week). Month- and year-precision facts never enter a weekly edition:
      a month cannot be placed in one week, and guessing would invent a date;
    * plus, when ``new_since`` is given (the channel's last digest), every such fact (any date,
      or none) from articles added with ``chainbot ingest`` after ``new_since`` (and not after
      ``now``), so that a new article reaches the next digest even when its events are old.

Items
    Facts become items, one per event: all facts of one roundup item (same document, same item
    title) make one item; any other facts citing the same sentence make one item; the same
    sentence on the same date in two articles makes one item. An item's title is the
    roundup's bold title when it comes from a roundup, otherwise composed from the fact's own
    statement in 004's manner: without its leading date phrase ("On March 23, "), prefixed by
    its first place ("Chengdu: ...") when the opening words do not name it. Its text is
    the verbatim sentence of its earliest fact in the article, followed by the next sentence of
    the same item when the first is short ("a date-led sentence or two"). Facts of a roundup
    that belong to no item (the editor's own comments) are not items.

Sections
    See ``store.digest_rules``: a roundup item keeps its roundup heading; anything else is
    classified by documented rules. Sections follow the roundup's order; empty ones are left
    out. Items within a section are in date order, then article order.

Headline, lead and comments (computed, never invented)
    * The lead item is taken from the first non-empty section in the roundup's order (004 leads
      with Government Update): the item whose places are named by the most other items of the
      digest, then the earliest, then the first in its article. Its title is the headline:
      ``Industry Blockchain Weekly News 丨 <lead item title>``.
    * The lead paragraph gives counts (items, articles, sections), the places named by most
      items, and how many items come from newly added articles.
    * Each section's comment gives its item count and date span, its most-named places, the
      places no earlier dated fact in the store names ("new"), and its items from new articles.

Archive edition
    When the week has nothing and ``archive_if_empty`` is set, the digest is the "From the
    archive" edition: day-precision events from the same ISO week number in earlier years.
    ``is_empty`` is true whenever a digest has no item at all.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import ColumnElement, Engine, and_, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from store import db
from store.answers import MONTHS, EntityRef, FactDate, SourceRef
from store.digest_rules import SECTION_ORDER, classify, section_from_heading
from store.models import Document, Entity, Fact, Mention, Passage

TITLE_PREFIX = "Industry Blockchain Weekly News 丨 "
ARCHIVE_LABEL = "From the archive"
Edition = Literal["weekly", "archive"]

# Kinds of fact that say something happened (or stood) on their date.
DIGEST_KINDS = ("event", "statement", "figure")
PLACE_KINDS = frozenset({"city", "province", "district", "region"})
# A first sentence shorter than this is followed by the item's next sentence.
SHORT_SENTENCE = 160
# At most this many characters (spaces, a stray quote) between a sentence and the next.
FOLLOWER_GAP = 20
MAX_COMPOSED_TITLE = 100


@dataclass(frozen=True)
class DigestItem:
    """One event: a bold title, a date-led sentence or two (verbatim), and its source."""

    title: str
    date: FactDate | None  # None only for an undated fact from a newly added article
    text: str  # verbatim sentence(s) from the article
    source: SourceRef
    entities: tuple[EntityRef, ...] = ()
    new: bool = False  # from an article added since the channel's last digest

    @property
    def places(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.entities if e.kind in PLACE_KINDS)


@dataclass(frozen=True)
class DigestSection:
    name: str
    items: tuple[DigestItem, ...]
    comment: str


@dataclass(frozen=True)
class Digest:
    week_start: dt.date
    week_end: dt.date
    title: str
    lead: str
    sections: tuple[DigestSection, ...]
    edition: Edition = "weekly"
    new_since: dt.datetime | None = None
    archive_years: tuple[int, ...] = field(default=())

    @property
    def items(self) -> tuple[DigestItem, ...]:
        return tuple(item for section in self.sections for item in section.items)

    @property
    def item_count(self) -> int:
        return sum(len(section.items) for section in self.sections)

    @property
    def is_empty(self) -> bool:
        return self.item_count == 0

    @property
    def archive(self) -> bool:
        """The "From the archive" edition: nothing in it is new."""
        return self.edition == "archive"


def week_of(day: dt.date) -> dt.date:
    """The Monday of ``day``'s week."""
    return day - dt.timedelta(days=day.weekday())


_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def parse_week(text: str) -> tuple[dt.date, str | None]:
    """``YYYY-MM-DD`` to the Monday of its week, and a note when the date was not a Monday
    (``2019-12-18 is a Wednesday: showing the week from Monday 2019-12-16``).

    ValueError with a one-line message people can act on when ``text`` is not a date.
    """
    value = text.strip()
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        shown = value if len(value) <= 40 else value[:40] + "…"
        raise ValueError(f"{shown!r} is not a date; use YYYY-MM-DD, e.g. 2019-12-16") from None
    if len(value) != 10:
        raise ValueError(f"{value!r} is not a date; use YYYY-MM-DD, e.g. 2019-12-16")
    monday = week_of(day)
    if monday == day:
        return monday, None
    weekday = _WEEKDAYS[day.weekday()]
    return monday, (
        f"{day.isoformat()} is a {weekday}: showing the week from Monday {monday.isoformat()}"
    )


def week_label(start: dt.date, end: dt.date) -> str:
    """``16-22 December 2019``, ``30 December 2019 - 5 January 2020``."""
    if start.year != end.year:
        return f"{_day_month(start)} {start.year} - {_day_month(end)} {end.year}"
    if start.month != end.month:
        return f"{_day_month(start)} - {_day_month(end)} {end.year}"
    return f"{start.day}-{end.day} {MONTHS[end.month - 1]} {end.year}"


def _day_month(day: dt.date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]}"


def compose_digest(
    engine: Engine,
    week_start: dt.date,
    *,
    new_since: dt.datetime | None = None,
    archive_if_empty: bool = False,
    now: dt.datetime | None = None,
) -> Digest:
    """The digest for the week starting ``week_start`` (a Monday; ValueError otherwise).

    ``new_since``: also include facts of articles ingested after this instant (aware
    datetimes; naive ones are taken as UTC). ``now`` bounds that window (default: the current
    time). ``archive_if_empty``: when the week has nothing, compose the archive edition.
    """
    if week_start.weekday() != 0:
        raise ValueError(f"{week_start.isoformat()} is not a Monday")
    week_end = week_start + dt.timedelta(days=6)
    since = _utc(new_since) if new_since is not None else None
    until = _utc(now) if now is not None else dt.datetime.now(dt.UTC)

    with db.session_scope(engine) as session:
        in_week = and_(Fact.date_precision == "day", Fact.date >= week_start, Fact.date <= week_end)
        condition = in_week
        if since is not None:
            condition = or_(
                in_week,
                and_(
                    Document.origin == "ingested",
                    # Both aware UTC: SQLite stores the UTC wall time (as ingest wrote it),
                    # PostgreSQL compares instants.
                    Document.ingested_at > since,
                    Document.ingested_at <= until,
                ),
            )
        facts = _load_facts(session, condition)
        new_docs = {
            f.document_id for f in facts if since is not None and _is_new(f.document, since, until)
        }
        items = _items(session, facts, new_docs)
        edition: Edition = "weekly"
        years: tuple[int, ...] = ()
        if not items and archive_if_empty:
            edition = "archive"
            items, years = _archive_items(session, week_start)
        earlier = _places_named_before(session, week_start, items) if edition == "weekly" else {}

    sections = _sections(items, earlier, edition)
    lead_item = _lead_item(sections)
    title = _title(lead_item, edition)
    lead = _lead(sections, week_start, week_end, edition, years, since)
    return Digest(
        week_start=week_start,
        week_end=week_end,
        title=title,
        lead=lead,
        sections=sections,
        edition=edition,
        new_since=since,
        archive_years=years,
    )


# --------------------------------------------------------------------------- loading


def _utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def _is_new(document: Document, since: dt.datetime, until: dt.datetime) -> bool:
    if document.origin != "ingested" or document.ingested_at is None:
        return False
    return since < _utc(document.ingested_at) <= until


def _load_facts(session: Session, condition: ColumnElement[bool]) -> list[Fact]:
    stmt = (
        select(Fact)
        .join(Document, Fact.document_id == Document.id)
        .where(condition, Fact.kind.in_(DIGEST_KINDS))
        .options(
            # Each document once, without its full text (never shown here, and large).
            selectinload(Fact.document).defer(Document.text),
            joinedload(Fact.passage),
            selectinload(Fact.mentions).joinedload(Mention.entity),
        )
        .order_by(Fact.document_id, Fact.start, Fact.id)
    )
    return list(session.scalars(stmt).unique())


def _archive_items(session: Session, week_start: dt.date) -> tuple[list[_Draft], tuple[int, ...]]:
    """Day-precision events from the same ISO week number in earlier years."""
    iso_year, iso_week, _ = week_start.isocalendar()
    condition = and_(Fact.date_precision == "day", Fact.date < week_start)
    facts = [
        f
        for f in _load_facts(session, condition)
        if f.date is not None
        and f.date.isocalendar()[1] == iso_week
        and f.date.isocalendar()[0] < iso_year
    ]
    items = _items(session, facts, set())
    years = tuple(sorted({d.item.date.value.year for d in items if d.item.date}, reverse=True))
    return items, years


def _places_named_before(
    session: Session, week_start: dt.date, drafts: Sequence[_Draft]
) -> dict[str, bool]:
    """For each place slug in ``drafts``: does a fact dated before the week name it?"""
    slugs = {e.slug for d in drafts for e in d.item.entities if e.kind in PLACE_KINDS}
    if not slugs:
        return {}
    stmt = (
        select(Entity.slug)
        .join(Mention, Mention.entity_id == Entity.id)
        .join(Fact, Fact.id == Mention.fact_id)
        .where(Entity.slug.in_(slugs), Fact.date.is_not(None), Fact.date < week_start)
        .distinct()
    )
    seen = set(session.scalars(stmt))
    return {slug: slug in seen for slug in slugs}


# --------------------------------------------------------------------------- items


@dataclass(frozen=True)
class _Draft:
    """An item before it is placed: the item, its section and where it sits in its article."""

    item: DigestItem
    section: str
    order: tuple[int, int]  # (document id, offset)


def _group_key(fact: Fact) -> tuple[int, str, str | int]:
    if fact.document.is_roundup and fact.title:
        return (fact.document_id, "item", fact.title)
    return (fact.document_id, "sentence", fact.passage_id)


def _items(session: Session, facts: Iterable[Fact], new_docs: set[int]) -> list[_Draft]:
    groups: dict[tuple[int, str, str | int], list[Fact]] = {}
    for fact in facts:
        if fact.document.is_roundup and not fact.title:
            continue  # the editor's comment between items, not an event
        groups.setdefault(_group_key(fact), []).append(fact)

    drafts: list[_Draft] = []
    seen_sentences: set[tuple[dt.date | None, str]] = set()
    for group in groups.values():
        # The lead is the item's first sentence-level fact (a fact on a title line, if any,
        # only when there is nothing else).
        group.sort(key=lambda f: (f.passage.kind != "sentence", f.start, f.id))
        lead = group[0]
        key = (lead.date, " ".join(lead.passage.text.split()).casefold())
        if key in seen_sentences:
            continue  # the same sentence on the same date, cited by another article
        seen_sentences.add(key)
        drafts.append(_draft(session, group, lead.document_id in new_docs))
    return drafts


def _draft(session: Session, group: list[Fact], new: bool) -> _Draft:
    lead = group[0]
    doc = lead.document
    entities = _entities(group)
    text = _item_text(session, lead)
    if doc.is_roundup and lead.title:
        title = lead.title.strip()
        section = section_from_heading(lead.section) or classify(text, (e.kind for e in entities))
    else:
        title = _composed_title(lead, entities)
        section = classify(text, (e.kind for e in entities))
    date = (
        FactDate(lead.date, lead.date_precision)  # type: ignore[arg-type]
        if lead.date is not None and lead.date_precision
        else None
    )
    item = DigestItem(
        title=title,
        date=date,
        text=text,
        source=_source(doc),
        entities=entities,
        new=new,
    )
    return _Draft(item=item, section=section, order=(lead.document_id, lead.start))


def _item_text(session: Session, lead: Fact) -> str:
    """The lead fact's sentence, and the next sentence of its paragraph when the first is
    short."""
    text = lead.passage.text.strip()
    if len(text) >= SHORT_SENTENCE:
        return text
    follower = session.scalars(
        select(Passage)
        .where(
            Passage.document_id == lead.document_id,
            # The next sentence starts right after this one (a range the index can seek).
            Passage.start.between(lead.passage.end, lead.passage.end + FOLLOWER_GAP),
            Passage.paragraph == lead.passage.paragraph,
            Passage.kind == "sentence",
        )
        .order_by(Passage.start)
        .limit(1)
    ).first()
    return f"{text} {follower.text.strip()}" if follower is not None else text


def _entities(group: list[Fact]) -> tuple[EntityRef, ...]:
    refs: dict[str, tuple[int, EntityRef]] = {}
    for fact in group:
        for mention in fact.mentions:
            entity = mention.entity
            rank = 0 if mention.role == "subject" else 1
            if entity.slug not in refs or rank < refs[entity.slug][0]:
                refs[entity.slug] = (rank, EntityRef(entity.slug, entity.name, entity.kind))
    return tuple(ref for _, ref in sorted(refs.values(), key=lambda r: (r[0], r[1].name)))


# "On March 23, ", "On the afternoon of the same day, ", "In recent days, ", "At the end of
# December 2019, ": the date already leads the item's sentence, so the title drops it.
_DATE_WORDS = (
    r"January|February|March|April|May|June|July|August|September|October|November|December|"
    r"day|days|week|weeks|month|year|\d{4}"
)
_LEADING_DATE = re.compile(
    rf"^(?:on|in|at|by|since|from|during|as of|recently|earlier)\b[^,]{{0,50}}?\b(?:{_DATE_WORDS})"
    r"\b[^,]{0,20}(?:,\s*\d{4})?,\s*",
    re.IGNORECASE,
)
# A place in the first words of the title needs no "Place: " prefix.
_PLACE_WINDOW = 60


def _composed_title(fact: Fact, entities: tuple[EntityRef, ...]) -> str:
    """A title in 004's manner ("Chengdu: Blockchain Talent Commission Established") from a
    fact that has none: its statement without the leading date phrase, prefixed by its first
    place when the opening words do not name it, cut at a word past MAX_COMPOSED_TITLE."""
    statement = " ".join(fact.text.split()).rstrip(".")
    statement = _LEADING_DATE.sub("", statement, count=1)
    if statement[:4].lower() == "the ":
        statement = statement[4:]
    statement = statement[:1].upper() + statement[1:]
    place = next((e for e in entities if e.kind in PLACE_KINDS), None)
    if place is not None and place.name.casefold() not in statement[:_PLACE_WINDOW].casefold():
        statement = f"{place.name}: {statement}"
    if len(statement) <= MAX_COMPOSED_TITLE:
        return statement
    cut = statement[: MAX_COMPOSED_TITLE - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > MAX_COMPOSED_TITLE // 2 else cut).rstrip(" ,;:") + "…"


def _source(doc: Document) -> SourceRef:
    return SourceRef(
        document=doc.slug,
        title=doc.short_title,
        publisher=doc.source,
        published=FactDate(doc.published, doc.published_precision),  # type: ignore[arg-type]
    )


# --------------------------------------------------------------------------- sections


def _sort_key(draft: _Draft) -> tuple[dt.date, tuple[int, int]]:
    date = draft.item.date.value if draft.item.date else dt.date.max
    return (date, draft.order)


def _sections(
    drafts: Sequence[_Draft], earlier: dict[str, bool], edition: Edition
) -> tuple[DigestSection, ...]:
    by_section: dict[str, list[_Draft]] = {}
    for draft in drafts:
        by_section.setdefault(draft.section, []).append(draft)
    sections = []
    for name in SECTION_ORDER:
        members = sorted(by_section.get(name, []), key=_sort_key)
        if not members:
            continue
        items = tuple(d.item for d in members)
        sections.append(DigestSection(name, items, _comment(items, earlier, edition)))
    return tuple(sections)


def _place_counts(items: Iterable[DigestItem]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for item in items:
        counts.update(set(item.places))
    return counts


def _name_list(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def _top_places(counts: Counter[str], limit: int = 5) -> str:
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return ", ".join(f"{name} ({n})" if n > 1 else name for name, n in ranked)


def _span(items: Sequence[DigestItem]) -> str:
    dates = sorted(i.date.value for i in items if i.date is not None and i.date.precision == "day")
    if not dates:
        return ""
    first, last = dates[0], dates[-1]
    if first == last:
        return f"on {first.isoformat()}"
    return f"from {first.isoformat()} to {last.isoformat()}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _comment(items: tuple[DigestItem, ...], earlier: dict[str, bool], edition: Edition) -> str:
    parts = []
    span = _span(items)
    parts.append(f"{_plural(len(items), 'item')} {span}".strip() + ".")
    counts = _place_counts(items)
    if counts:
        parts.append(f"Places named: {_top_places(counts)}.")
    if edition == "weekly" and earlier:
        first_time = sorted(
            {e.name for i in items for e in i.entities if earlier.get(e.slug) is False}
        )
        if first_time:
            parts.append(f"No earlier dated fact in the store names {_name_list(first_time)}.")
    new = sum(1 for i in items if i.new)
    if new:
        parts.append(f"{_plural(new, 'item')} from newly added articles.")
    return " ".join(parts)


# --------------------------------------------------------------------------- headline and lead


def _lead_item(sections: Sequence[DigestSection]) -> DigestItem | None:
    if not sections:
        return None
    all_items = [i for s in sections for i in s.items]
    naming: dict[str, set[int]] = {}
    for index, item in enumerate(all_items):
        for place in item.places:
            naming.setdefault(place, set()).add(index)

    def connections(index: int) -> int:
        """How many other items name one of this item's places."""
        sharing = set().union(*(naming[p] for p in all_items[index].places))
        return len(sharing - {index})

    # The first section's items come first in all_items; a stable sort keeps date-then-article
    # order among equals.
    first = range(len(sections[0].items))
    return all_items[sorted(first, key=lambda i: -connections(i))[0]]


def _title(lead: DigestItem | None, edition: Edition) -> str:
    if lead is None:
        return f"{TITLE_PREFIX}Nothing new this week"
    if edition == "archive":
        return f"{TITLE_PREFIX}{ARCHIVE_LABEL}: {lead.title}"
    return f"{TITLE_PREFIX}{lead.title}"


def _lead(
    sections: Sequence[DigestSection],
    week_start: dt.date,
    week_end: dt.date,
    edition: Edition,
    years: tuple[int, ...],
    since: dt.datetime | None,
) -> str:
    items = [i for s in sections for i in s.items]
    week = week_label(week_start, week_end)
    if not items:
        added = f" and no article added since {since:%Y-%m-%d %H:%M} UTC" if since else ""
        archive = " or in the same week of earlier years" if edition == "archive" else ""
        return f"The store has no events dated {week}{archive}{added}."
    articles = sorted({i.source.title for i in items})
    if edition == "archive":
        year_text = _name_list([str(y) for y in years])
        opening = (
            f"{ARCHIVE_LABEL}: nothing new was dated {week}, so here "
            f"{'is' if len(items) == 1 else 'are'} {_plural(len(items), 'event')} from the same "
            f"week (ISO week {week_start.isocalendar()[1]}) of {year_text}"
        )
    else:
        opening = f"{_plural(len(items), 'item')} for the week of {week}"
    parts = [
        f"{opening}, from {_plural(len(articles), 'article')} ({'; '.join(articles)}), "
        f"in {_plural(len(sections), 'section')}."
    ]
    counts = _place_counts(items)
    if counts:
        parts.append(f"Places named by most items: {_top_places(counts, 3)}.")
    new = sum(1 for i in items if i.new)
    if new:
        parts.append(f"{_plural(new, 'item')} from articles added since the last digest.")
    return " ".join(parts)
