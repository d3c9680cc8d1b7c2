"""Lookup: resolve a query, find mentions in free text.

The first part runs against a small store built here (gazetteer places plus a few entities
shaped like the curated seed ones), so the pipeline's rules are pinned independently of
extraction. The second part runs the acceptance queries against the real seed store.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, update

from store import Store, db, lookup
from store.answers import Resolution
from store.gazetteer import load_places
from store.lookup import AliasIndex, IndexedEntity, find_mentions, get_index, resolve
from store.models import Alias, Base, Entity, StoreMeta
from store.schema import ensure_schema
from store.textnorm import compact_key

CONFUSABLE = {
    "city:qingdao": ["province:qinghai"],
    "province:qinghai": ["city:qingdao"],
    "province:hunan": ["province:hainan"],
    "province:hainan": ["province:hunan"],
    "province:shanxi": ["province:shaanxi"],
    "province:shaanxi": ["province:shanxi"],
}
WITH_FACTS = {"city:qingdao", "city:chongqing", "province:shandong", "district:xiongan"}
# (slug, kind, name, aliases) shaped like what curation gives the seed entities.
CURATED = [
    ("company:bubi", "company", "Bubi Blockchain", ["Bubi", "Bubi Network"]),
    ("project:flash-payment", "project", "Flash Payment", ["Shandian Zhifu"]),
    ("company:state-grid", "company", "State Grid Corporation of China", ["State Grid"]),
    ("institution:qilu-bank", "institution", "Qilu Bank", []),
    (
        "policy:shibei-opinions",
        "policy",
        "Opinions on Accelerating the Development of the Blockchain Industry",
        ["Shibei opinions"],
    ),
    (
        "policy:qingdao-action-plan",
        "policy",
        "Qingdao Blockchain Industry Development Three-Year Action Plan (2019-2021)",
        ["three-year action plan"],
    ),
]


def _populate(engine: Engine, generation: str = "g1") -> None:
    ensure_schema(engine)
    with db.session_scope(engine) as session:
        for place in load_places():
            entity = Entity(
                slug=place.slug,
                kind=place.kind,
                name=place.name,
                name_zh=place.name_zh,
                origin="gazetteer",
                fact_count=3 if place.slug in WITH_FACTS else 0,
                attrs={
                    "confusable_with": CONFUSABLE.get(place.slug, []),
                    "population": place.population or 0,
                },
            )
            entity.aliases = [Alias(alias=a, key=compact_key(a), kind=k) for a, k in place.aliases]
            session.add(entity)
        for slug, kind, name, aliases in CURATED:
            entity = Entity(slug=slug, kind=kind, name=name, origin="curation", fact_count=2)
            entity.aliases = [Alias(alias=a, key=compact_key(a), kind="english") for a in aliases]
            session.add(entity)
        session.add(StoreMeta(key="generation", value=generation))


@pytest.fixture(scope="module")
def lookup_db_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("lookup") / "lookup.sqlite3"
    engine = db.get_engine(f"sqlite:///{path}")
    _populate(engine)
    engine.dispose()
    return path


@pytest.fixture
def engine(lookup_db_file: Path, tmp_path: Path) -> Iterator[Engine]:
    """A private copy of the small store (tests may write to it)."""
    copy = tmp_path / "lookup.sqlite3"
    shutil.copy(lookup_db_file, copy)
    engine = db.get_engine(f"sqlite:///{copy}")
    yield engine
    engine.dispose()


def slug_of(res: Resolution) -> str | None:
    return res.entity.slug if res.entity else None


# ----------------------------------------------------------------------------- pipeline


@pytest.mark.parametrize(
    ("query", "slug", "reason"),
    [
        ("qingdao", "city:qingdao", "exact"),
        ("Qingdao  ", "city:qingdao", "exact"),
        ("QINGDAO", "city:qingdao", "exact"),
        ("qingdoa", "city:qingdao", "fuzzy"),
        ("tsingtao", "city:qingdao", "alias"),
        ("青岛", "city:qingdao", "alias"),
        ("青島市", "city:qingdao", "alias"),
        ("chong qing", "city:chongqing", "exact"),
        ("Chóngqìng", "city:chongqing", "exact"),
        ("xiongan", "district:xiongan", "alias"),
        ("bubi", "company:bubi", "alias"),
        ("flash payment", "project:flash-payment", "exact"),
        ("state grid", "company:state-grid", "alias"),
        ("shibei opinions", "policy:shibei-opinions", "alias"),
        ("three-year action plan", "policy:qingdao-action-plan", "alias"),
        ("plan action three-year", "policy:qingdao-action-plan", "fuzzy"),
        ("peking", "city:beijing", "alias"),
        ("amoy", "city:xiamen", "alias"),
        ("shenzen", "city:shenzhen", "fuzzy"),
        ("Qilu Bank &amp; co", "institution:qilu-bank", "fuzzy"),
    ],
)
def test_resolves(engine: Engine, query: str, slug: str, reason: str) -> None:
    res = resolve(engine, query)
    assert (res.status, slug_of(res), res.reason) == ("found", slug, reason)


def test_qinghai_is_the_province_and_mentions_qingdao(engine: Engine) -> None:
    res = resolve(engine, "qinghai")
    assert (res.status, slug_of(res), res.reason) == ("found", "province:qinghai", "exact")
    # Never silently Qingdao; the confusable rides along as "not what you meant?".
    assert "city:qingdao" in {c.entity.slug for c in res.candidates}


@pytest.mark.parametrize(
    ("query", "pair"),
    [
        ("hanan", {"province:hunan", "province:hainan"}),
        ("hunnan", {"province:hunan", "province:hainan"}),
        ("shanxy", {"province:shanxi", "province:shaanxi"}),
        ("shanxii", {"province:shanxi", "province:shaanxi"}),
    ],
)
def test_confusable_typos_ask(engine: Engine, query: str, pair: set[str]) -> None:
    res = resolve(engine, query)
    assert res.status == "ambiguous"
    # "hanan" and "hunnan" are as close to Henan, Handan or Yunnan: "close", still asking.
    assert res.reason in {"confusable", "close"}
    if query.startswith("shan"):
        assert res.reason == "confusable"
    assert pair <= {c.entity.slug for c in res.candidates}
    scores = [c.score for c in res.candidates]
    assert scores == sorted(scores, reverse=True)


def test_exact_names_of_confusables_win(engine: Engine) -> None:
    for query, slug in [
        ("hunan", "province:hunan"),
        ("hainan", "province:hainan"),
        ("shanxi", "province:shanxi"),
        ("shaanxi", "province:shaanxi"),
    ]:
        res = resolve(engine, query)
        assert (res.status, slug_of(res)) == ("found", slug)


def test_same_named_places(engine: Engine) -> None:
    suzhou = resolve(engine, "suzhou")
    assert slug_of(suzhou) == "city:suzhou"  # Jiangsu's, the larger
    assert "city:suzhou-anhui" in {c.entity.slug for c in suzhou.candidates}
    jilin = resolve(engine, "jilin")  # a province and a city
    assert jilin.status == "ambiguous"
    assert {c.entity.slug for c in jilin.candidates} == {"province:jilin", "city:jilin"}


def test_factless_place_still_resolves(engine: Engine) -> None:
    res = resolve(engine, "dunhuang")
    assert (res.status, slug_of(res)) == ("found", "city:dunhuang")


def test_not_found_carries_suggestions(engine: Engine) -> None:
    res = resolve(engine, "qingzhouxx")
    assert res.status == "not_found"
    assert res.candidates
    assert all(c.score < 75 for c in res.candidates)
    assert resolve(engine, "bitcoin").status == "not_found"


def test_short_queries_match_exactly_or_by_prefix(engine: Engine) -> None:
    assert slug_of(resolve(engine, "hk")) == "region:hong-kong"  # an exact alias
    res = resolve(engine, "zz")
    assert res.status == "not_found"
    res = resolve(engine, "xi")
    assert res.status == "ambiguous"
    assert res.reason == "prefix"
    assert all(c.matched.replace(" ", "").startswith("xi") for c in res.candidates)


def _snapshot(engine: Engine) -> dict[str, list[Any]]:
    with engine.connect() as conn:
        return {
            t.name: [tuple(r) for r in conn.execute(select(t)).all()]
            for t in Base.metadata.sorted_tables
        }


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("x" * 5000, "too_long"),
        ("<!channel>", "empty"),
        ("<@U123ABC>", "empty"),
        ("😀🎉", "no_letters"),
        ("?!…", "no_letters"),
        ("\x00\x07\u200b", "empty"),
    ],
)
def test_bad_input_is_usage(engine: Engine, query: str, reason: str) -> None:
    before = _snapshot(engine)
    res = resolve(engine, query)
    assert (res.status, res.reason) == ("usage", reason)
    assert len(res.query) <= 201
    assert _snapshot(engine) == before


def test_hostile_input_never_raises_or_writes(engine: Engine) -> None:
    before = _snapshot(engine)
    for query in ["' OR 1=1 --", "'; DROP TABLE entities; --", "qing\x00dao", "%", "_", None]:
        res = resolve(engine, query)  # type: ignore[arg-type]
        assert isinstance(res, Resolution)
    assert slug_of(resolve(engine, "qing\x00dao")) == "city:qingdao"  # controls stripped
    assert _snapshot(engine) == before


def test_index_follows_the_generation(engine: Engine) -> None:
    first = get_index(engine)
    assert get_index(engine) is first  # cached: no reload per call
    with db.session_scope(engine) as session:
        bubi = session.scalar(select(Entity).where(Entity.slug == "company:bubi"))
        assert bubi is not None
        session.add(Alias(entity_id=bubi.id, alias="Bubi Chain", key="bubichain", kind="variant"))
        session.execute(update(StoreMeta).where(StoreMeta.key == "generation").values(value="g2"))
    assert get_index(engine) is not first
    assert slug_of(resolve(engine, "bubichain")) == "company:bubi"


def test_index_sees_another_process_rebuild_after_the_ttl(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    first = get_index(engine)
    path = engine.url.database
    assert path
    other = sqlite3.connect(path)  # another writer: no commit event in this engine
    with other:
        other.execute("UPDATE store_meta SET value = 'g9' WHERE key = 'generation'")
    other.close()
    monkeypatch.setattr(lookup, "GENERATION_TTL", 3600.0)
    assert get_index(engine) is first  # trusted: no SQL per lookup
    monkeypatch.setattr(lookup, "GENERATION_TTL", 0.0)
    assert get_index(engine) is not first


def test_empty_store(tmp_path: Path) -> None:
    engine = db.get_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    ensure_schema(engine)
    assert resolve(engine, "qingdao").status == "not_found"
    assert find_mentions(engine, "qingdao") == []


# ----------------------------------------------------------------------------- mentions


def test_mentions_in_a_message(engine: Engine) -> None:
    text = "<@U123> what is Bubi and what does Qingdao do? Also Qingdao &amp; State Grid."
    refs = find_mentions(engine, text)
    assert [r.slug for r in refs] == ["company:bubi", "company:state-grid", "city:qingdao"]


def test_mentions_order_and_forms(engine: Engine) -> None:
    text = "Shibei opinions for chong qing, xiongan and 青岛市; Qilu Bank; Flash Payment"
    assert [r.slug for r in find_mentions(engine, text)] == [
        "institution:qilu-bank",
        "project:flash-payment",
        "policy:shibei-opinions",
        "city:chongqing",  # places by kind, then in text order
        "city:qingdao",
        "district:xiongan",
    ]


def test_mentions_respect_word_boundaries_and_facts(engine: Engine) -> None:
    # "hk" inside a word is no mention; Dunhuang has no facts; Bubis is not Bubi.
    assert find_mentions(engine, "hkust in Dunhuang, Bubis everywhere") == []
    assert find_mentions(engine, "<#C123|qingdao> <https://x.example/qingdao>") == []
    assert [r.slug for r in find_mentions(engine, "<https://x.example|Qingdao>")] == [
        "city:qingdao"
    ]


def test_mentions_in_a_long_message(engine: Engine) -> None:
    text = ("The Qingdao blockchain industry grew fast this year, they said. " * 60)[:3990]
    refs = find_mentions(engine, text + " Bubi")
    assert [r.slug for r in refs] == ["company:bubi", "city:qingdao"]


# ----------------------------------------------------------------------------- the index


def test_index_from_pairs_and_scorers() -> None:
    a = IndexedEntity("company:alpha", "Alpha Chain Technology", "company", fact_count=1)
    b = IndexedEntity("company:beta", "Beta Ledger", "company", fact_count=1)
    pairs = [("Alpha Chain Technology", a), ("Alpha", a, "abbreviation"), ("Beta Ledger", b)]
    for scorer in ("hybrid", "wratio", "ratio", "token_set", "osa"):
        index = AliasIndex.from_pairs(pairs, scorer=scorer)
        assert index.alias_count == 3
        assert slug_of(index.resolve("beta ledgr")) == "company:beta", scorer
    with pytest.raises(ValueError):
        AliasIndex.from_pairs(pairs, scorer="nope")


def test_garble_alias_is_no_mention() -> None:
    qinghai = IndexedEntity("province:qinghai", "Qinghai", "province")
    qingdao = IndexedEntity("city:qingdao", "Qingdao", "city", fact_count=50)
    index = AliasIndex.from_pairs([("Qingdao", qingdao), ("Qinghai", qingdao, "garble")])
    assert index.mentions("Qinghai's plateau") == []
    index = AliasIndex.from_pairs([("Qinghai", qinghai), ("Qinghai", qingdao, "garble")])
    assert index.mentions("Qinghai's plateau") == []  # the province has no facts


def test_garble_alias_never_beats_a_name() -> None:
    qinghai = IndexedEntity("province:qinghai", "Qinghai", "province")
    qingdao = IndexedEntity("city:qingdao", "Qingdao", "city", fact_count=50)
    index = AliasIndex.from_pairs(
        [("Qinghai", qinghai), ("Qingdao", qingdao), ("Qinghai", qingdao, "garble")]
    )
    res = index.resolve("qinghai")
    assert slug_of(res) == "province:qinghai"
    assert [c.entity.slug for c in res.candidates] == ["city:qingdao"]


# ----------------------------------------------------------------------------- seed store


@pytest.fixture
def seeded(seed_database_url: str) -> Store:
    """The seed store, on SQLite and (when a server is configured) PostgreSQL."""
    return Store.open(seed_database_url, build_if_empty=False)


SEED_QUERIES = {
    "qingdao": "city:qingdao",
    "qingdoa": "city:qingdao",
    "tsingtao": "city:qingdao",
    "青岛": "city:qingdao",
    "Qingdao ": "city:qingdao",
    "chong qing": "city:chongqing",
    "xiongan": "district:xiongan",
}
SEED_KINDS = {
    "bubi": ("company", "bubi"),
    "flash payment": (None, "flash"),
    "state grid": (None, "state grid"),
    "shibei opinions": ("policy", "opinions"),
    "three-year action plan": ("policy", "action plan"),
}


@pytest.mark.parametrize(("query", "slug"), SEED_QUERIES.items())
def test_seed_store_places(seeded: Store, query: str, slug: str) -> None:
    res = seeded.resolve(query)
    assert (res.status, slug_of(res)) == ("found", slug)


@pytest.mark.parametrize(("query", "expected"), SEED_KINDS.items())
def test_seed_store_curated(seeded: Store, query: str, expected: tuple[str | None, str]) -> None:
    kind, in_name = expected
    res = seeded.resolve(query)
    assert res.status == "found", res
    assert res.entity is not None
    assert in_name in res.entity.name.lower()
    if kind:
        assert res.entity.kind == kind


def test_seed_store_qinghai(seeded: Store) -> None:
    res = seeded.resolve("qinghai")
    assert slug_of(res) != "city:qingdao"
    assert res.status in {"found", "ambiguous"}
    if res.status == "found":
        assert slug_of(res) == "province:qinghai"


@pytest.mark.parametrize("query", ["hanan", "shanxy"])
def test_seed_store_confusables(seeded: Store, query: str) -> None:
    assert seeded.resolve(query).status == "ambiguous"


def test_seed_store_mentions(seeded: Store) -> None:
    refs = seeded.mentions("@Chain Bot what is Bubi and what does Qingdao do?")
    slugs = [r.slug for r in refs]
    assert "city:qingdao" in slugs
    assert any("bubi" in r.name.lower() for r in refs)
    assert refs[0].kind == "company"
