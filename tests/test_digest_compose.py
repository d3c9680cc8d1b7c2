"""The digest composer: what a week covers, sections, de-duplication, headline, lead and
comments, the archive edition; and, on the real seed store, every dated item of 004."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import Engine

from store import Store, db
from store.digest import Digest, compose_digest, week_label, week_of
from store.digest_rules import (
    APPLICATION,
    GOVERNMENT,
    LISTED,
    OTHER,
    PARKS,
    POLICY,
    SECTIONS,
    classify,
    section_from_heading,
)
from store.models import Document, Entity, Fact, Mention, Passage
from store.schema import ensure_schema

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
WEEK = dt.date(2019, 12, 16)

# --------------------------------------------------------------------------- a hand-made store


@dataclass
class Sentence:
    text: str
    date: dt.date | None = None
    precision: str | None = "day"
    kind: str = "event"
    entities: tuple[tuple[str, str, str], ...] = ()  # (slug, name, kind)
    section: str | None = None
    title: str | None = None


@dataclass
class Article:
    slug: str
    sentences: list[Sentence] = field(default_factory=list)
    roundup: bool = False
    origin: str = "seed"
    ingested_at: dt.datetime | None = None
    published: dt.date = dt.date(2019, 12, 1)


def insert(engine: Engine, *articles: Article) -> None:
    """Write documents, passages, facts and mentions the way a build would."""
    ensure_schema(engine)
    with db.session_scope(engine) as session:
        entities: dict[str, Entity] = {}
        for article in articles:
            text = "\n\n".join(s.text for s in article.sentences)
            doc = Document(
                slug=article.slug,
                filename=f"{article.slug}.txt",
                title=f"Title of {article.slug}",
                short_title=f"Short {article.slug}",
                source=f"Publisher {article.slug}",
                author=None,
                published=article.published,
                published_precision="month",
                origin=article.origin,
                ingested_at=article.ingested_at,
                sha256=hashlib.sha256(text.encode()).hexdigest(),
                text=text,
                body_end=len(text),
                is_roundup=article.roundup,
            )
            session.add(doc)
            offset = 0
            paragraph = -1
            for index, sentence in enumerate(article.sentences):
                if (
                    index == 0
                    or sentence.title is None
                    or (sentence.title != article.sentences[index - 1].title)
                ):
                    paragraph += 1
                start, end = offset, offset + len(sentence.text)
                offset = end + 2
                passage = Passage(
                    document=doc,
                    paragraph=paragraph,
                    start=start,
                    end=end,
                    text=sentence.text,
                    kind="sentence",
                    section=sentence.section,
                    item_title=sentence.title,
                )
                fact = Fact(
                    document=doc,
                    passage=passage,
                    text=sentence.text,
                    quote=sentence.text,
                    start=start,
                    end=end,
                    date=sentence.date,
                    date_precision=sentence.precision if sentence.date else None,
                    kind=sentence.kind,
                    numbers=[],
                    section=sentence.section,
                    title=sentence.title,
                )
                session.add_all([passage, fact])
                for slug, name, kind in sentence.entities:
                    if slug not in entities:
                        entities[slug] = Entity(slug=slug, kind=kind, name=name, origin="rules")
                    role = "subject" if not fact.mentions else "mention"
                    fact.mentions.append(Mention(entity=entities[slug], role=role, literal=name))


SHANGHAI = ("city:shanghai", "Shanghai", "city")
BEIJING = ("city:beijing", "Beijing", "city")
NANJING = ("city:nanjing", "Nanjing", "city")
LI_QIANG = ("person:li-qiang", "Li Qiang", "person")
JINYUN = ("company:jinyun-laser", "Jinyun Laser", "company")

GOV_HEADING = "Government Update: Multiple Leaders Support Blockchain"
APP_HEADING = "Application landing:"


def roundup() -> Article:
    return Article(
        "roundup",
        roundup=True,
        sentences=[
            Sentence(
                "On December 16, Li Qiang went to some fintech companies in Shanghai.",
                dt.date(2019, 12, 16),
                entities=(LI_QIANG, SHANGHAI),
                section=GOV_HEADING,
                title="Secretary of Shanghai: fintech matters",
            ),
            Sentence(
                "Li Qiang pointed out that blockchain is indispensable.",
                None,
                kind="statement",
                entities=(LI_QIANG,),
                section=GOV_HEADING,
                title="Secretary of Shanghai: fintech matters",
            ),
            Sentence(
                "On December 18, the deputy mayor of Beijing said data has been chained.",
                dt.date(2019, 12, 18),
                kind="statement",
                entities=(BEIJING,),
                section=GOV_HEADING,
                title="Deputy Mayor of Beijing: data uploaded",
            ),
            Sentence(
                "Li Qiang is currently the highest-ranking official to visit.",
                None,
                kind="statement",
                entities=(LI_QIANG,),
                section=GOV_HEADING,
            ),
            Sentence(
                "On December 17, a court in Shanghai launched a platform & <b>system</b>.",
                dt.date(2019, 12, 17),
                entities=(SHANGHAI,),
                section=APP_HEADING,
                title="Shanghai court: first <platform>",
            ),
            Sentence(
                "It is reported that the court launched another system on October 24.",
                dt.date(2019, 10, 24),
                entities=(SHANGHAI,),
                section=APP_HEADING,
                title="Shanghai court: first <platform>",
            ),
        ],
    )


@pytest.fixture
def engine(database_url: str) -> Engine:
    """An empty database on each backend (SQLite, and PostgreSQL when one is configured)."""
    return db.get_engine(database_url)


def section(digest: Digest, name: str) -> list[str]:
    return [item.title for s in digest.sections if s.name == name for item in s.items]


# --------------------------------------------------------------------------- rules


def test_roundup_headings_map_to_sections() -> None:
    assert section_from_heading(GOV_HEADING) == GOVERNMENT
    assert section_from_heading("Industrial policy: Blockchain helps supervision") == POLICY
    assert section_from_heading(APP_HEADING) == APPLICATION
    assert (
        section_from_heading(
            "Industrial parks / associations / incubators: Blockchain technology research "
            "institutes set up in multiple places"
        )
        == PARKS
    )
    assert section_from_heading("Listed companies: signing contracts and issuing") == LISTED
    assert section_from_heading("2017 year") is None
    assert section_from_heading(None) is None


@pytest.mark.parametrize(
    ("text", "kinds", "expected"),
    [
        (
            "On May 3, Jinyun Laser issued an announcement that it signed a contract.",
            ("company",),
            LISTED,
        ),
        ("On May 3, the Zibo Blockchain Research Institute was established.", (), PARKS),
        ("On May 3, the city issued the Opinions on supporting blockchain.", (), POLICY),
        (
            "On May 3, the Party Secretary of Nanjing said the city must plan ahead.",
            ("person", "city"),
            GOVERNMENT,
        ),
        ("On May 3, the bank launched a trade finance platform.", ("company",), APPLICATION),
        ("On May 3, it rained in Qingdao.", ("city",), OTHER),
        # A consortium chain is a launch, not an alliance being founded.
        (
            "The alliance chain jointly established by five firms was officially launched.",
            ("company",),
            APPLICATION,
        ),
    ],
)
def test_classify_rules(text: str, kinds: tuple[str, ...], expected: str) -> None:
    assert classify(text, kinds) == expected


# --------------------------------------------------------------------------- composing


def test_week_helpers() -> None:
    assert week_of(dt.date(2019, 12, 19)) == WEEK
    assert week_label(WEEK, WEEK + dt.timedelta(days=6)) == "16-22 December 2019"
    assert (
        week_label(dt.date(2019, 12, 30), dt.date(2020, 1, 5))
        == "30 December 2019 - 5 January 2020"
    )


def test_rejects_a_non_monday(engine: Engine) -> None:
    ensure_schema(engine)
    with pytest.raises(ValueError, match="not a Monday"):
        compose_digest(engine, dt.date(2019, 12, 18))


def test_roundup_items_keep_their_heading_and_are_deduplicated(engine: Engine) -> None:
    insert(engine, roundup())
    digest = compose_digest(engine, WEEK)

    assert [s.name for s in digest.sections] == [GOVERNMENT, APPLICATION]
    # Two facts of the Shanghai item make one item; the editor's comment is not an item.
    assert section(digest, GOVERNMENT) == [
        "Secretary of Shanghai: fintech matters",
        "Deputy Mayor of Beijing: data uploaded",
    ]
    assert section(digest, APPLICATION) == ["Shanghai court: first <platform>"]
    court = digest.sections[1].items[0]
    # The item is dated by its lead sentence, not by the October date inside it.
    assert court.date is not None and court.date.value == dt.date(2019, 12, 17)
    assert court.text.startswith("On December 17, a court in Shanghai launched")
    assert court.source.document == "roundup"
    assert digest.week_end == dt.date(2019, 12, 22)
    assert digest.edition == "weekly" and not digest.is_empty
    assert digest.item_count == 3


def test_headline_lead_and_comments_are_computed(engine: Engine) -> None:
    insert(engine, roundup())
    digest = compose_digest(engine, WEEK)

    # Lead: first section (Government Update), the item whose place recurs most (Shanghai).
    assert digest.title == (
        "Industry Blockchain Weekly News 丨 Secretary of Shanghai: fintech matters"
    )
    assert digest.lead.startswith("3 items for the week of 16-22 December 2019, from 1 article")
    assert "Shanghai (2)" in digest.lead
    gov = digest.sections[0]
    assert gov.comment.startswith("2 items from 2019-12-16 to 2019-12-18.")
    assert "Places named: Beijing, Shanghai." in gov.comment
    # Nothing is dated before the week except the court's October sentence (Shanghai).
    assert "No earlier dated fact in the store names Beijing." in gov.comment


def test_short_first_sentence_takes_the_next_one(engine: Engine) -> None:
    insert(engine, roundup())
    digest = compose_digest(engine, WEEK)
    shanghai = digest.sections[0].items[0]
    assert shanghai.text == (
        "On December 16, Li Qiang went to some fintech companies in Shanghai. "
        "Li Qiang pointed out that blockchain is indispensable."
    )


def test_other_articles_are_classified_and_deduplicated(engine: Engine) -> None:
    sentence = "On December 19, Jinyun Laser issued an announcement on a contract."
    same = Sentence(sentence, dt.date(2019, 12, 19), entities=(JINYUN,))
    article = Article("daily", sentences=[same])
    again = Article("weekly-copy", sentences=[same])
    month_only = Article(
        "monthly",
        sentences=[
            Sentence("In December, Nanjing launched a platform.", dt.date(2019, 12, 1), "month")
        ],
    )
    target = Article(
        "targets",
        sentences=[
            Sentence(
                "By December 20, Nanjing will launch a platform.",
                dt.date(2019, 12, 20),
                kind="target",
            )
        ],
    )
    insert(engine, article, again, month_only, target)
    digest = compose_digest(engine, WEEK)

    assert [s.name for s in digest.sections] == [LISTED]
    (item,) = digest.sections[0].items
    # A composed title drops the leading date (the sentence under it keeps it).
    assert item.title == "Jinyun Laser issued an announcement on a contract"
    assert [e.name for e in item.entities] == ["Jinyun Laser"]


def test_composed_titles_follow_004s_manner(engine: Engine) -> None:
    long_clause = "the People's Government of Zibo held a press conference " + "on chains " * 12
    article = Article(
        "daily",
        sentences=[
            Sentence(
                "On the afternoon of the same day, the municipal court opened a platform.",
                dt.date(2019, 12, 18),
                entities=(NANJING,),
            ),
            Sentence(f"In December 2019, {long_clause}.", dt.date(2019, 12, 19)),
        ],
    )
    insert(engine, article)
    titles = [item.title for item in compose_digest(engine, WEEK).items]
    assert "Nanjing: Municipal court opened a platform" in titles
    (long_title,) = [t for t in titles if "Zibo" in t]
    assert long_title.startswith("People's Government of Zibo held a press conference on chains")
    assert len(long_title) <= 100 and long_title.endswith(" on…")


def test_new_articles_enter_the_next_digest_whatever_their_dates(engine: Engine) -> None:
    last_digest = dt.datetime(2026, 11, 16, 9, 0, tzinfo=dt.UTC)
    fresh = Article(
        "fresh",
        origin="ingested",
        ingested_at=dt.datetime(2026, 11, 18, 12, 0, tzinfo=dt.UTC),
        sentences=[
            Sentence(
                "On March 3, 2020, Nanjing issued the Measures for blockchain.",
                dt.date(2020, 3, 3),
                entities=(NANJING,),
            ),
            Sentence("Nanjing has many blockchain firms.", None, kind="figure"),
        ],
    )
    stale = Article(
        "stale",
        origin="ingested",
        ingested_at=dt.datetime(2026, 11, 10, tzinfo=dt.UTC),
        sentences=[Sentence("On May 1, 2020, Beijing launched a platform.", dt.date(2020, 5, 1))],
    )
    insert(engine, fresh, stale)
    week = dt.date(2026, 11, 23)
    now = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)

    digest = compose_digest(engine, week, new_since=last_digest, now=now)
    assert section(digest, POLICY) == ["Nanjing issued the Measures for blockchain"]
    assert all(item.new for item in digest.items)
    assert digest.item_count == 2  # the undated figure too, but not the stale article
    undated = [i for i in digest.items if i.date is None]
    assert len(undated) == 1
    assert "2 items from articles added since the last digest." in digest.lead

    # Without new_since, or with an earlier `now`, the new article is not there.
    assert compose_digest(engine, week, now=now).is_empty
    before = dt.datetime(2026, 11, 17, tzinfo=dt.UTC)
    assert compose_digest(engine, week, new_since=last_digest, now=before).is_empty


def test_empty_week_and_archive_edition(engine: Engine) -> None:
    insert(engine, roundup())
    week = dt.date(2021, 12, 13)  # ISO week 50 of 2021; 2019-12-16 is ISO week 51
    empty = compose_digest(engine, week, archive_if_empty=True)
    assert empty.is_empty and empty.edition == "archive"
    assert empty.title == "Industry Blockchain Weekly News 丨 Nothing new this week"

    week = dt.date(2021, 12, 20)  # ISO week 51 of 2021
    assert compose_digest(engine, week).is_empty
    archive = compose_digest(engine, week, archive_if_empty=True)
    assert archive.edition == "archive" and archive.archive_years == (2019,)
    assert archive.title.startswith("Industry Blockchain Weekly News 丨 From the archive: ")
    assert archive.lead.startswith("From the archive: nothing new was dated 20-26 December 2021")
    assert archive.item_count == 3
    # Later years never enter an archive edition.
    assert compose_digest(engine, dt.date(2018, 12, 17), archive_if_empty=True).is_empty


# --------------------------------------------------------------------------- the seed store

# 004's items, read from the article text: (title, day of December 2019, roundup heading).
_HEADINGS = {
    "Government Update:": GOVERNMENT,
    "Industrial policy:": POLICY,
    "Application landing:": APPLICATION,
    "Industrial parks / associations / incubators:": PARKS,
    "Listed companies:": LISTED,
}
_DATE = re.compile(r"\b(?:On|on) December (\d{1,2})(?:st|nd|rd|th)?\b")


def items_of_004() -> list[tuple[str, dt.date, str]]:
    """Every item of 004 as the article shows it: a title line, then a paragraph whose first
    "December N" dates it, under the last section heading seen."""
    text = (SEEDS / "004_0334405fd08ea589.txt").read_text(encoding="utf-8")
    text = text.split("Was this article helpful?")[0]
    paragraphs = [p.strip() for p in text.split("\n") if p.strip()]
    items = []
    current = None
    for previous, paragraph in itertools.pairwise(paragraphs):
        heading = next((s for h, s in _HEADINGS.items() if paragraph.startswith(h)), None)
        if heading:
            current = heading
            continue
        match = _DATE.search(paragraph)
        if current and match and len(previous) < 200 and not _DATE.search(previous):
            items.append((previous, dt.date(2019, 12, int(match.group(1))), current))
    return items


def test_the_article_parse_finds_all_24_items() -> None:
    items = items_of_004()
    per_section = Counter(section for _, _, section in items)
    assert per_section == {GOVERNMENT: 5, POLICY: 1, APPLICATION: 6, PARKS: 6, LISTED: 6}
    assert set(per_section) == set(SECTIONS)
    assert all(WEEK <= day <= dt.date(2019, 12, 21) for _, day, _ in items)


def test_week_of_2019_12_16_carries_every_item_of_004(seed_database_url: str) -> None:
    digest = compose_digest(db.get_engine(seed_database_url), WEEK)
    placed = [(item.title, item.date, s.name) for s in digest.sections for item in s.items]
    for title, day, expected in items_of_004():
        hits = [(d, name) for t, d, name in placed if " ".join(t.split()) == title]
        assert len(hits) == 1, f"{title!r} appears {len(hits)} times"
        ((date, name),) = hits
        assert name == expected, f"{title!r} is in {name}, not {expected}"
        assert date is not None and (date.value, date.precision) == (day, "day"), title
    # And nothing of 004 outside its items (the editor's comments are not items).
    from_004 = [i for i in digest.items if i.source.document == "weekly-news-2019-12-16"]
    assert len(from_004) == 24


def test_the_week_after_carries_the_qingdao_summit(store: Store) -> None:
    digest = compose_digest(store.engine, dt.date(2019, 12, 23))
    texts = [i.text for i in digest.items]
    assert any("December 26" in t and "Qingdao International Conference Center" in t for t in texts)
    assert all(i.date is not None and i.date.value.month == 12 for i in digest.items)


def test_an_ingested_article_reaches_the_next_digest(
    seed_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through ``chainbot ingest``: its facts join the next digest, marked new, whatever
    their dates; its events in the week also join that week's edition."""
    from click.testing import CliRunner

    from bot.cli import main

    monkeypatch.setenv("DATABASE_URL", seed_db_url)
    article = tmp_path / "xiamen.md"
    article.write_text(
        "Title: Xiamen opens a blockchain lab\nSource: Xiamen Daily\nDate: 2019-12-20\n\n"
        "On December 17, the Xiamen Blockchain Laboratory was officially established in "
        "Xiamen.\n\nOn March 5, 2018, Xiamen issued the Measures on supporting blockchain "
        "enterprises.\n",
        encoding="utf-8",
    )
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    result = CliRunner().invoke(main, ["ingest", str(article)])
    assert result.exit_code == 0, result.output
    engine = db.get_engine(seed_db_url)

    weekly = compose_digest(engine, WEEK)
    lab = [i for i in weekly.items if "Xiamen Blockchain Laboratory" in i.text]
    assert len(lab) == 1 and not lab[0].new
    assert lab[0].date is not None and lab[0].date.value == dt.date(2019, 12, 17)
    assert section(weekly, PARKS).count(lab[0].title) == 1

    later = compose_digest(engine, dt.date(2026, 11, 23), new_since=before)
    assert {i.date.value for i in later.items if i.date} >= {
        dt.date(2019, 12, 17),
        dt.date(2018, 3, 5),
    }
    assert all(i.new for i in later.items)
    assert any("Measures on supporting blockchain" in i.text for i in later.items), later.items
