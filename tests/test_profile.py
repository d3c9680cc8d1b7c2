"""store.profile: profiles, lists and stats, on a small hand-built store and on the seeds."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, event

from store import db
from store.api import Store
from store.models import Alias, Document, Entity, Fact, Link, Mention, Passage, StoreMeta
from store.profile import EntityNotFound, get_profile, list_entities, normalise_kind, stats
from store.schema import ensure_schema
from store.textnorm import compact_key

TEXT_A = (
    "In 2017 Chain Bay opened in Shibei. The summit was held in Qinghai last year. "
    "Qingdao has more than 100 blockchain companies. Bubi Co., Ltd. moved to Chain Bay."
)
TEXT_B = "On March 3, Qingdao issued the Measures. Chongqing ranks fifth."


def _sentence(text: str, needle: str) -> tuple[int, int]:
    start = text.index(needle)
    return start, start + len(needle)


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = db.get_engine(f"sqlite:///{tmp_path / 'small.sqlite3'}")
    ensure_schema(engine)
    with db.session_scope(engine) as s:
        doc_a = Document(
            slug="doc-a",
            filename="a.txt",
            title="Article A, long title",
            short_title="Article A",
            source="Qingdao Daily",
            author=None,
            published=dt.date(2019, 12, 1),
            published_precision="month",
            origin="seed",
            sha256="a" * 64,
            text=TEXT_A,
            body_end=len(TEXT_A),
        )
        doc_b = Document(
            slug="doc-b",
            filename="b.txt",
            title="Article B",
            short_title="Article B",
            source="China Times",
            author=None,
            published=dt.date(2020, 3, 30),
            published_precision="day",
            origin="seed",
            sha256="b" * 64,
            text=TEXT_B,
            body_end=len(TEXT_B),
        )
        s.add_all([doc_a, doc_b])
        s.flush()
        shandong = Entity(
            slug="province:shandong", kind="province", name="Shandong", origin="gazetteer"
        )
        s.add(shandong)
        s.flush()
        ents = {
            "qingdao": Entity(
                slug="city:qingdao",
                kind="city",
                name="Qingdao",
                name_zh="青岛",
                origin="gazetteer",
                parent_id=shandong.id,
            ),
            "chongqing": Entity(
                slug="city:chongqing", kind="city", name="Chongqing", origin="gazetteer"
            ),
            "zhangjiakou": Entity(
                slug="city:zhangjiakou", kind="city", name="Zhangjiakou", origin="gazetteer"
            ),
            "bay": Entity(
                slug="project:chain-bay",
                kind="project",
                name="Chain Bay",
                origin="curation",
                summary="Blockchain industrial park in Shibei, Qingdao",
            ),
            "bubi": Entity(slug="company:bubi", kind="company", name="Bubi", origin="rules"),
            "measures": Entity(
                slug="policy:measures", kind="policy", name="The Measures", origin="rules"
            ),
        }
        s.add_all(ents.values())
        s.flush()
        for name, kind in (
            ("Qingdao", "name"),
            ("Tsingtao", "romanisation"),
            ("青岛", "chinese"),
            ("Qinghai", "garble"),
            ("Qingdao Shi", "romanisation"),
        ):
            s.add(Alias(entity_id=ents["qingdao"].id, alias=name, key=compact_key(name), kind=kind))

        def fact(
            doc: Document,
            needle: str,
            text: str,
            date: dt.date | None,
            precision: str | None,
            numbers: list,
            mentions: list,
        ) -> Fact:
            start, end = _sentence(doc.text, needle)
            passage = Passage(
                document_id=doc.id, paragraph=0, start=start, end=end, text=needle, kind="sentence"
            )
            s.add(passage)
            s.flush()
            f = Fact(
                document_id=doc.id,
                passage_id=passage.id,
                text=text,
                quote=needle,
                start=start,
                end=end,
                date=date,
                date_precision=precision,
                kind="figure" if numbers else "event",
                numbers=numbers,
            )
            s.add(f)
            s.flush()
            for entity, role, literal in mentions:
                s.add(Mention(fact_id=f.id, entity_id=entity.id, role=role, literal=literal))
            return f

        f_bay = fact(
            doc_a,
            "In 2017 Chain Bay opened in Shibei.",
            "Chain Bay opened in Shibei",
            dt.date(2017, 1, 1),
            "year",
            [],
            [(ents["bay"], "subject", "Chain Bay"), (ents["qingdao"], "mention", "Shibei")],
        )
        fact(
            doc_a,
            "The summit was held in Qinghai last year.",
            "A summit was held in Qingdao",
            dt.date(2018, 1, 1),
            "year",
            [],
            [(ents["qingdao"], "subject", "Qinghai")],
        )
        fact(
            doc_a,
            "Qingdao has more than 100 blockchain companies.",
            "Qingdao has more than 100 blockchain companies",
            None,
            None,
            [{"value": 100, "unit": "companies", "text": "more than 100"}],
            [(ents["qingdao"], "subject", "Qingdao")],
        )
        f_bubi = fact(
            doc_a,
            "Bubi Co., Ltd. moved to Chain Bay.",
            "Bubi moved to Chain Bay",
            None,
            None,
            [],
            [(ents["bubi"], "subject", "Bubi Co., Ltd."), (ents["bay"], "mention", "Chain Bay")],
        )
        f_measures = fact(
            doc_b,
            "On March 3, Qingdao issued the Measures.",
            "Qingdao issued the Measures",
            dt.date(2020, 3, 3),
            "day",
            [],
            [
                (ents["measures"], "subject", "the Measures"),
                (ents["qingdao"], "mention", "qingdao"),
            ],
        )
        fact(
            doc_b,
            "Chongqing ranks fifth.",
            "Chongqing ranks fifth",
            None,
            None,
            [{"value": 5, "unit": "rank", "text": "fifth"}],
            [(ents["chongqing"], "subject", "Chongqing")],
        )
        s.add(
            Link(
                source_id=ents["measures"].id,
                target_id=ents["qingdao"].id,
                relation="issued_by",
                fact_id=f_measures.id,
            )
        )
        s.add(
            Link(
                source_id=ents["bay"].id,
                target_id=ents["qingdao"].id,
                relation="located_in",
                fact_id=f_bay.id,
            )
        )
        # A link whose fact does not name Qingdao: the profile still reaches it.
        s.add(
            Link(
                source_id=ents["bubi"].id,
                target_id=ents["qingdao"].id,
                relation="located_in",
                fact_id=f_bubi.id,
            )
        )
        s.add(StoreMeta(key="generation", value="test-1"))
        s.add(StoreMeta(key="built_at", value="2026-01-01T00:00:00+00:00"))
    return engine


def test_profile_of_a_city(engine: Engine) -> None:
    p = get_profile(engine, "city:qingdao")
    assert p.entity.name == "Qingdao"
    assert p.parent is not None and p.parent.slug == "province:shandong"
    assert p.name_zh == "青岛"
    # No garbles and no spelling variants among the names shown.
    assert "Tsingtao" in p.aliases and "Qinghai" not in p.aliases and "Qingdao" not in p.aliases
    assert p.summary == "City in Shandong named in 2 articles (2019–2020)"
    assert [f.text for f in p.facts] == [
        "Chain Bay opened in Shibei",
        "A summit was held in Qingdao",
        "Qingdao has more than 100 blockchain companies",
        "Qingdao issued the Measures",
    ]
    assert [f.text for f in p.key_figures] == ["Qingdao has more than 100 blockchain companies"]
    assert p.key_figures[0].numbers[0].value == 100
    assert [f.date.label() for f in p.timeline if f.date] == ["2017", "2018", "2020-03-03"]
    assert [r.entity.slug for r in p.policies] == ["policy:measures"]
    assert (
        p.policies[0].fact is not None and p.policies[0].fact.text == "Qingdao issued the Measures"
    )
    assert [r.entity.slug for r in p.projects] == ["project:chain-bay"]
    assert [r.entity.slug for r in p.companies] == ["company:bubi"]
    assert p.companies[0].fact is not None and p.companies[0].fact.text == "Bubi moved to Chain Bay"
    assert {e.slug for e in p.related} == {"policy:measures", "project:chain-bay", "company:bubi"}
    assert [s.document for s in p.sources] == ["doc-a", "doc-b"]
    assert p.sources[0].label() == "Qingdao Daily, Article A (December 2019)"


def test_literal_is_kept_only_for_garbles(engine: Engine) -> None:
    p = get_profile(engine, "city:qingdao")
    literals = {f.text: f.literal for f in p.facts}
    assert literals["A summit was held in Qingdao"] == "Qinghai"
    assert literals["Qingdao issued the Measures"] is None  # "qingdao" is just a spelling
    assert literals["Chain Bay opened in Shibei"] == "Shibei"


def test_every_quote_is_verbatim(engine: Engine) -> None:
    p = get_profile(engine, "city:qingdao")
    for f in p.facts:
        assert f.quote in (TEXT_A if f.source.document == "doc-a" else TEXT_B)


def test_curated_summary_wins(engine: Engine) -> None:
    assert get_profile(engine, "project:chain-bay").summary == (
        "Blockchain industrial park in Shibei, Qingdao"
    )


def test_place_without_facts_uses_its_description(engine: Engine) -> None:
    p = get_profile(engine, "city:zhangjiakou")
    assert not p.has_facts
    assert p.summary == "a city in Hebei province"  # from the gazetteer, nothing invented
    assert p.sources == () and p.timeline == ()


def test_unknown_slug(engine: Engine) -> None:
    with pytest.raises(EntityNotFound):
        get_profile(engine, "city:atlantis")


def test_profile_runs_a_fixed_number_of_queries(engine: Engine) -> None:
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        get_profile(engine, "city:qingdao")
        small = len(statements)
        statements.clear()
        get_profile(engine, "project:chain-bay")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert small <= 8
    assert len(statements) <= 8


def test_list_entities(engine: Engine) -> None:
    cities, total = list_entities(engine, "cities")
    assert total == 2  # Zhangjiakou has no facts and is not listed
    assert [c.name for c in cities] == ["Chongqing", "Qingdao"]
    page, total = list_entities(engine, "city", offset=1, limit=1)
    assert [c.name for c in page] == ["Qingdao"] and total == 2
    assert list_entities(engine, "policies")[0][0].slug == "policy:measures"
    assert list_entities(engine, "provinces") == ([], 0)
    with pytest.raises(ValueError):
        list_entities(engine, "planets")


def test_normalise_kind() -> None:
    assert normalise_kind("Cities") == "city"
    assert normalise_kind("people") == "person"
    assert normalise_kind("company") == "company"
    assert normalise_kind("DROP TABLE") is None


def test_stats(engine: Engine) -> None:
    st = stats(engine)
    assert st.documents == 2 and st.facts == 6
    assert st.entities_by_kind == {"city": 2, "company": 1, "policy": 1, "project": 1}
    assert st.places_in_gazetteer == 4
    assert st.aliases == 5
    assert st.generation == "test-1"


def test_featured_picks_the_most_cited_of_each_kind(engine: Engine) -> None:
    from store.profile import featured

    assert [e.slug for e in featured(engine)] == [
        "city:qingdao",
        "company:bubi",
        "policy:measures",
        "project:chain-bay",
    ]


def _slugs_with_facts(store: Store) -> list[str]:
    from sqlalchemy import select

    with db.session_scope(store.engine) as s:
        return list(
            s.scalars(
                select(Entity.slug)
                .where(Entity.id.in_(select(Mention.entity_id)))
                .order_by(Entity.slug)
            )
        )


def test_seed_qingdao_profile(store: Store) -> None:
    p = store.profile("city:qingdao")
    assert p.parent is not None and p.parent.name == "Shandong"
    assert "Tsingtao" in p.aliases and p.name_zh == "青岛"
    quotes = " ".join(f.quote for f in p.facts)
    assert "more than 100 blockchain-related companies" in quotes
    assert "Qingdao ranked eighth" in quotes
    assert any("CCID" in f.quote and "eighth" in f.quote for f in p.key_figures)
    assert any(f.numbers and f.numbers[0].value >= 100 for f in p.key_figures)
    projects = {r.entity.name for r in p.projects}
    assert "Chain Bay" in projects and "Qingdao Fintech Center" in projects
    # Ranked by ties: the park most of its facts name comes first among the related.
    assert "Chain Bay" in [e.name for e in p.related[:3]]
    # Policies by year: the dated ones come oldest first.
    years = [r.fact.date.value for r in p.policies if r.fact and r.fact.date]
    assert len(years) >= 3 and years == sorted(years)
    assert any(s.publisher == "Qingdao Daily" for s in p.sources)
    # The garbled sentences ("held in Qinghai", "held in Qing Dynasty") say what they wrote.
    literals = {f.literal for f in p.facts if f.literal}
    assert {"Qinghai", "Qing Dynasty"} <= literals
    dates = [f.date.value for f in p.timeline if f.date]
    assert dates == sorted(dates) and len(dates) >= 5


def test_seed_every_profile_cites_verbatim_and_orders_its_timeline(store: Store) -> None:
    from sqlalchemy import select

    with db.session_scope(store.engine) as s:
        texts = dict(s.execute(select(Document.slug, Document.text)).all())
    slugs = _slugs_with_facts(store)
    assert len(slugs) > 100
    for slug in slugs:
        p = store.profile(slug)
        assert p.has_facts and p.summary, slug
        for f in p.facts:
            assert f.quote in texts[f.source.document], (slug, f.quote)
        dated = [f.date.value for f in p.timeline if f.date]
        assert dated == sorted(dated), slug
        assert len(p.timeline) == sum(1 for f in p.facts if f.date), slug
        assert {s.document for s in p.sources} == {f.source.document for f in p.facts}, slug
        assert p.entity not in p.related, slug


def test_seed_place_without_facts(store: Store) -> None:
    p = store.profile("city:zhangjiakou")
    assert not p.has_facts
    assert p.summary == "a city in Hebei province"


def test_seed_lists_agree_with_stats(store: Store) -> None:
    st = store.stats()
    assert st.documents == 5 and st.facts > 100
    for kind, count in st.entities_by_kind.items():
        if kind == "region":
            continue  # listed with the provinces
        seen: list[str] = []
        offset = 0
        while True:
            page, total = store.list_entities(kind, offset=offset, limit=7)
            seen += [e.slug for e in page]
            offset += 7
            if offset >= total:
                break
        expected = count + (st.entities_by_kind.get("region", 0) if kind == "province" else 0)
        assert total == expected and len(set(seen)) == expected, kind
