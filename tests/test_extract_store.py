"""What the seed store holds: verbatim quotes, real passages, the curation cases, the dates,
and the facts later features must show (Qingdao, 004's items)."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from store import db
from store.models import Alias, Document, Entity, Fact, Link, Mention, Passage

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.fixture(scope="module")
def engine(seed_db_file: Path) -> Engine:
    return db.get_engine(f"sqlite:///{seed_db_file}")


@pytest.fixture
def session(engine: Engine) -> Session:
    with Session(engine) as s:
        yield s


def facts_of(session: Session, slug: str) -> list[tuple[Fact, Mention]]:
    rows = session.execute(
        select(Fact, Mention)
        .join(Mention, Mention.fact_id == Fact.id)
        .join(Entity, Entity.id == Mention.entity_id)
        .where(Entity.slug == slug)
        .order_by(Fact.id)
    ).all()
    return [(f, m) for f, m in rows]


def entity(session: Session, slug: str) -> Entity:
    found = session.scalar(select(Entity).where(Entity.slug == slug))
    assert found is not None, slug
    return found


# ----------------------------------------------------------------------------- integrity


def test_every_quote_is_verbatim_at_its_offsets(session: Session) -> None:
    docs = {d.id: d for d in session.scalars(select(Document))}
    facts = session.scalars(select(Fact)).all()
    assert len(facts) > 150
    for fact in facts:
        assert docs[fact.document_id].text[fact.start : fact.end] == fact.quote, fact.id


def test_seed_text_is_stored_byte_for_byte(session: Session) -> None:
    for doc in session.scalars(select(Document)):
        assert doc.text == (SEEDS / doc.filename).read_text("utf-8"), doc.filename
    # 000 has a no-break space in a quote that must survive as it is.
    assert any("\u00a0" in f.quote for f in session.scalars(select(Fact)))


def test_passages_are_exact_and_facts_cite_them(session: Session) -> None:
    docs = {d.id: d for d in session.scalars(select(Document))}
    passages = {p.id: p for p in session.scalars(select(Passage))}
    for p in passages.values():
        assert docs[p.document_id].text[p.start : p.end] == p.text
    for fact in session.scalars(select(Fact)):
        passage = passages[fact.passage_id]
        assert passage.kind == "sentence" and passage.document_id == fact.document_id
        assert passage.start <= fact.start and fact.end <= passage.end


def test_every_entity_with_facts_cites_real_passages(session: Session) -> None:
    counts = Counter(
        session.execute(
            select(Mention.entity_id, Mention.fact_id).join(Fact, Fact.id == Mention.fact_id)
        ).all()
    )
    per_entity = Counter(entity_id for entity_id, _ in counts)
    for ent in session.scalars(select(Entity)):
        assert ent.fact_count == per_entity.get(ent.id, 0), ent.slug
    orphans = session.execute(
        select(Mention.id).outerjoin(Fact, Fact.id == Mention.fact_id).where(Fact.id.is_(None))
    ).all()
    assert orphans == []


def test_nothing_is_mined_from_boilerplate(session: Session) -> None:
    for doc in session.scalars(select(Document)):
        assert (
            session.scalar(
                select(Fact.id).where(Fact.document_id == doc.id, Fact.end > doc.body_end)
            )
            is None
        )
        assert (
            session.scalar(
                select(Passage.id).where(
                    Passage.document_id == doc.id, Passage.start >= doc.body_end
                )
            )
            is None
        )
    teaser = session.scalar(select(Fact.id).where(Fact.quote.contains("BRC-20")))
    assert teaser is None


def test_documents_follow_the_metadata(session: Session) -> None:
    meta = yaml.safe_load((SEEDS / "metadata.yml").read_text("utf-8"))["documents"]
    rows = {d.slug: d for d in session.scalars(select(Document))}
    assert set(rows) == {m["slug"] for m in meta}
    for m in meta:
        doc = rows[m["slug"]]
        assert doc.origin == "seed" and doc.ingested_at is None
        if m.get("body_end"):
            assert doc.text[doc.body_end :].startswith(m["body_end"])
        else:
            assert doc.body_end == len(doc.text)


def test_every_gazetteer_place_is_an_entity(session: Session) -> None:
    from store.gazetteer import load_places

    rows = {e.slug: e for e in session.scalars(select(Entity).where(Entity.origin == "gazetteer"))}
    places = load_places()
    assert {p.slug for p in places} <= set(rows)
    unnamed = [p for p in places if rows[p.slug].fact_count == 0]
    assert len(unnamed) > 200  # most places are in no article: they still get an answer
    assert all(rows[p.slug].summary == p.description for p in unnamed if p.slug != "city:chongqing")


# ----------------------------------------------------------------------------- curation


def test_qinghai_in_the_two_garbled_sentences_is_qingdao(session: Session) -> None:
    garbled = [
        (f.quote, m.literal)
        for f, m in facts_of(session, "city:qingdao")
        if m.literal in ("Qinghai", "Qing Dynasty")
    ]
    literals = Counter(lit for _, lit in garbled)
    assert literals == {"Qinghai": 2, "Qing Dynasty": 1}
    # ... while Qinghai stays a real province, with no fact taken from those sentences.
    assert entity(session, "province:qinghai").kind == "province"
    assert all("Qinghai" not in f.quote for f, _ in facts_of(session, "province:qinghai"))
    qingdao = session.scalar(
        select(Alias.alias)
        .join(Entity)
        .where(Entity.slug == "city:qingdao", Alias.key == "qinghai")
    )
    assert qingdao is None  # the garble is scoped, not an alias


def test_kodak_is_keda_and_hang_seng_is_hundsun(session: Session) -> None:
    keda = facts_of(session, "company:keda")
    assert {m.literal for _, m in keda} >= {"Keda Co., Ltd."}
    assert any(f.title and f.title.startswith("Kodak:") for f, _ in keda)
    hundsun = facts_of(session, "company:hundsun")
    assert hundsun and {m.literal for _, m in hundsun} == {"Hang Seng Electronics"}
    assert session.scalar(select(Entity.id).where(Entity.name == "Hang Seng Electronics")) is None


def test_bubbi_is_bubi(session: Session) -> None:
    literals = {m.literal for _, m in facts_of(session, "company:bubi")}
    assert {"Bubi", "Bubbi network technology"} <= literals


def test_confusables_are_stored_on_both_sides(session: Session) -> None:
    for a, b in [
        ("province:qinghai", "city:qingdao"),
        ("province:hunan", "province:hainan"),
        ("province:shanxi", "province:shaanxi"),
    ]:
        assert b in entity(session, a).attrs["confusable_with"]
        assert a in entity(session, b).attrs["confusable_with"]


@pytest.mark.parametrize(
    ("alias", "slug"),
    [
        ("flash payment", "company:qingdao-flash-payment"),
        ("shibei opinions", "policy:shibei-opinions-blockchain-2017"),
        ("three-year action plan", "policy:laoshan-three-year-action-plan-2020"),
        ("state grid", "company:state-grid"),
        ("bubi", "company:bubi"),
        ("xiongan", "district:xiongan"),
    ],
)
def test_curated_aliases(session: Session, alias: str, slug: str) -> None:
    from store.textnorm import compact_key

    owners = set(
        session.scalars(select(Entity.slug).join(Alias).where(Alias.key == compact_key(alias)))
    )
    assert slug in owners


def test_districts_are_located_in_their_city(session: Session) -> None:
    for district, city in [
        ("district:shibei", "city:qingdao"),
        ("district:laoshan", "city:qingdao"),
        ("district:haidian", "city:beijing"),
    ]:
        source, target = entity(session, district), entity(session, city)
        assert session.scalar(
            select(Link.id).where(
                Link.source_id == source.id,
                Link.target_id == target.id,
                Link.relation == "located_in",
            )
        )
        assert source.parent_id == target.id


# ----------------------------------------------------------------------------- dates


def test_timeline_years_and_the_missing_2019_heading(session: Session) -> None:
    dated = {
        f.quote[:40]: (f.date, f.date_precision)
        for f in session.scalars(select(Fact).where(Fact.date.is_not(None)))
    }

    def date_of(prefix: str) -> tuple[dt.date | None, str | None]:
        return next(v for k, v in dated.items() if k.startswith(prefix))

    assert date_of("In July, Shibei District issued") == (dt.date(2017, 7, 1), "month")
    assert date_of("On September 12th, China's") == (dt.date(2017, 9, 12), "day")
    assert date_of("On December 7, the 2018 China") == (dt.date(2018, 12, 7), "day")
    # No "2019 year" heading: the months start again, so the year moves on.
    assert date_of("On January 12, the 2nd China") == (dt.date(2019, 1, 12), "day")
    assert date_of('On September 30, "Shibei') == (dt.date(2019, 9, 30), "day")
    sections = set(session.scalars(select(Passage.section).where(Passage.section.like("% year"))))
    assert {"2016 year", "2017 year", "2018 year", "2019 year"} <= sections


def test_year_from_the_document_date(session: Session) -> None:
    facts = session.scalars(select(Fact).where(Fact.quote.startswith("On March 27, the Lingang")))
    assert [(f.date, f.date_precision) for f in facts] == [(dt.date(2020, 3, 27), "day")]


def test_002_month_garbles(session: Session) -> None:
    fact = session.scalar(select(Fact).where(Fact.quote.contains("this year 4 In January")))
    assert fact is not None and (fact.date, fact.date_precision) == (dt.date(2021, 4, 1), "month")
    fact = session.scalar(select(Fact).where(Fact.quote.contains("Separate landing projects")))
    assert fact is not None
    assert [n["value"] for n in fact.numbers if n["text"] == "24、20、11 individual"] == [
        24,
        20,
        11,
    ]


# ----------------------------------------------------------------------------- must show


def test_qingdao_must_show(session: Session) -> None:
    facts = facts_of(session, "city:qingdao")
    quotes = " ".join(f.quote for f, _ in facts)
    assert "more than 100 blockchain-related companies" in quotes
    assert re.search(r"one bay,? (and )?one center", quotes, re.I)
    eighth = [
        f for f, _ in facts if any(n["unit"] == "rank" and n["value"] == 8 for n in f.numbers)
    ]
    assert eighth
    hundred = [
        f
        for f, _ in facts
        if any(n["unit"] == "companies" and n["value"] == 100 for n in f.numbers)
    ]
    assert hundred and hundred[0].kind == "figure"
    sources = {f.document.slug for f, _ in facts}
    assert "qingdao-daily-2019" in sources
    summary = entity(session, "city:qingdao").summary or ""
    assert "100" in summary and "eighth" in summary


def test_qingdao_policies_by_year(session: Session) -> None:
    qingdao = entity(session, "city:qingdao")
    shibei = entity(session, "district:shibei")
    laoshan = entity(session, "district:laoshan")
    issuers = {qingdao.id, shibei.id, laoshan.id}
    policies = session.execute(
        select(Entity.slug, Entity.attrs)
        .join(Link, Link.source_id == Entity.id)
        .where(Entity.kind == "policy", Link.target_id.in_(issuers))
    ).all()
    years = {slug: attrs.get("year") for slug, attrs in policies}
    assert years["policy:shibei-opinions-blockchain-2017"] == 2017
    assert years["policy:qingdao-software-city-opinions-2018"] == 2018
    assert years["policy:shibei-measures-blockchain-2019"] == 2019
    assert years["policy:laoshan-three-year-action-plan-2020"] == 2020
    assert years["policy:digital-shandong-development-plan-2018"] == 2018


def test_every_004_item_is_dated_and_in_its_section(session: Session) -> None:
    doc = session.scalar(select(Document).where(Document.slug == "weekly-news-2019-12-16"))
    assert doc is not None
    titles = session.scalars(
        select(Passage).where(Passage.document_id == doc.id, Passage.kind == "title")
    ).all()
    assert len(titles) == 24
    for title in titles:
        lead = session.scalar(
            select(Fact)
            .where(Fact.document_id == doc.id, Fact.title == title.text)
            .order_by(Fact.start)
        )
        assert lead is not None, title.text
        assert lead.section == title.section and lead.section is not None
        assert lead.date_precision == "day", title.text
        assert dt.date(2019, 12, 16) <= lead.date <= dt.date(2019, 12, 21), title.text
        assert lead.kind == "event", title.text
    sections = Counter(t.section for t in titles)
    assert sections == {
        "Government Update": 5,
        "Industrial policy": 1,
        "Application landing": 6,
        "Industrial parks / associations / incubators": 6,
        "Listed companies": 6,
    }


def test_people_have_titles_and_organisations(session: Session) -> None:
    li_qiang = entity(session, "person:li-qiang")
    assert "Shanghai Municipal Party Committee" in li_qiang.attrs["title"]
    liu = entity(session, "person:liu-hongtao")
    flash = entity(session, "company:qingdao-flash-payment")
    assert session.scalar(
        select(Link.id).where(
            Link.source_id == liu.id, Link.target_id == flash.id, Link.relation == "member_of"
        )
    )
