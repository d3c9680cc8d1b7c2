"""The committed gazetteer: loader contract and the places the seed articles depend on."""

from __future__ import annotations

from collections import Counter

import pytest

from store.gazetteer import Place, load_places
from store.textnorm import compact_key

ALIAS_KINDS = {"name", "english", "chinese", "romanisation", "abbreviation", "garble", "variant"}


@pytest.fixture(scope="module")
def places() -> dict[str, Place]:
    return {p.slug: p for p in load_places()}


def keys(place: Place) -> set[str]:
    return {compact_key(place.name)} | {compact_key(a) for a, _ in place.aliases}


def test_loader_shape(places: dict[str, Place]) -> None:
    assert len(places) == len(load_places())  # slugs are unique
    for place in places.values():
        assert place.slug.split(":", 1)[0] == place.kind
        assert place.kind in {"province", "city", "region", "district"}
        assert place.description
        assert all(kind in ALIAS_KINDS for _, kind in place.aliases)
        # The aliases table is unique on (entity, key): the file must already be.
        alias_keys = [compact_key(a) for a, _ in place.aliases]
        assert len(alias_keys) == len(set(alias_keys)), place.slug
        assert compact_key(place.name) not in alias_keys, place.slug
        assert all(alias_keys), place.slug
        if place.parent_slug is not None:
            assert places[place.parent_slug].kind == "province"


def test_all_province_level_divisions(places: dict[str, Place]) -> None:
    kinds = Counter(p.kind for p in places.values())
    # 22 provinces + Taiwan as ISO 3166-2:CN lists it, 5 autonomous regions, 2 SARs.
    assert kinds["province"] == 28
    assert kinds["region"] == 2
    assert places["region:hong-kong"].name_zh == "香港"
    assert places["region:macao"].name == "Macao"
    assert "Macau" in {a for a, _ in places["region:macao"].aliases}
    assert places["province:inner-mongolia"].name_zh == "内蒙古"
    assert places["province:ningxia"].name_zh == "宁夏"
    assert places["province:tibet"].name_zh == "西藏"


def test_qingdao(places: dict[str, Place]) -> None:
    qingdao = places["city:qingdao"]
    assert qingdao.name_zh == "青岛"
    assert qingdao.parent_slug == "province:shandong"
    assert ("Tsingtao", "romanisation") in qingdao.aliases
    assert {"青岛", "青島"} <= {a for a, _ in qingdao.aliases}
    assert qingdao.description == "a city in Shandong province"


def test_confusable_provinces_are_distinct(places: dict[str, Place]) -> None:
    assert places["province:qinghai"].kind == "province"
    assert places["province:qinghai"].name_zh == "青海"
    assert places["province:shanxi"].name_zh == "山西"
    assert places["province:shaanxi"].name_zh == "陕西"
    assert places["province:hunan"].name_zh == "湖南"
    assert places["province:hainan"].name_zh == "海南"
    assert places["city:xian"].parent_slug == "province:shaanxi"
    assert places["city:taiyuan"].parent_slug == "province:shanxi"
    # No place may claim another's exact key (Qinghai is never an alias of Qingdao).
    assert not keys(places["city:qingdao"]) & keys(places["province:qinghai"])
    assert not keys(places["province:shanxi"]) & keys(places["province:shaanxi"])
    assert not keys(places["province:hunan"]) & keys(places["province:hainan"])


@pytest.mark.parametrize(
    ("slug", "name_zh", "old"),
    [
        ("city:beijing", "北京", "Peking"),
        ("city:shanghai", "上海", None),
        ("city:tianjin", "天津", "Tientsin"),
        ("city:chongqing", "重庆", "Chungking"),
    ],
)
def test_municipalities(places: dict[str, Place], slug: str, name_zh: str, old: str | None) -> None:
    place = places[slug]
    assert place.kind == "city"
    assert place.parent_slug is None
    assert "province-level" in place.description
    assert place.name_zh == name_zh
    assert f"{place.name} Municipality" in {a for a, _ in place.aliases}
    if old:
        assert (old, "romanisation") in place.aliases
    # A municipality is one entity, not also a province.
    assert f"province:{slug.split(':')[1]}" not in places


def test_xiongan(places: dict[str, Place]) -> None:
    xiongan = places["district:xiongan"]
    assert xiongan.parent_slug == "province:hebei"
    assert "xiongan" in keys(xiongan)
    assert xiongan.name_zh == "雄安新区"


SEED_CITIES = [
    "Qingdao", "Jinan", "Zibo", "Hangzhou", "Nanjing", "Changsha", "Guangzhou", "Shenzhen",
    "Zhuhai", "Foshan", "Dongguan", "Xiamen", "Fuzhou", "Wuhan", "Chengdu", "Chongqing",
    "Ji'an", "Suzhou", "Wuxi", "Ningbo", "Hefei", "Guiyang", "Haikou", "Sanya", "Kunming",
    "Xi'an", "Dunhuang", "Jinhua", "Luzhou", "Weifang", "Pu'er", "Xingtai", "Beijing",
    "Shanghai", "Tianjin",
]  # fmt: skip


@pytest.mark.parametrize("name", SEED_CITIES)
def test_seed_cities_present(places: dict[str, Place], name: str) -> None:
    matches = [p for p in places.values() if p.kind == "city" and p.name == name]
    assert matches, name
    assert all(p.name_zh for p in matches)


@pytest.mark.parametrize(
    ("slug", "old"),
    [
        ("city:xiamen", "Amoy"),
        ("city:guangzhou", "Canton"),
        ("city:nanjing", "Nanking"),
        ("city:suzhou", "Soochow"),
        ("city:hangzhou", "Hangchow"),
        ("city:xian", "Sian"),
        ("city:guiyang", "Kweiyang"),
        ("city:chengdu", "Chengtu"),
    ],
)
def test_old_romanisations(places: dict[str, Place], slug: str, old: str) -> None:
    assert (old, "romanisation") in places[slug].aliases


def test_same_named_cities_have_distinct_slugs(places: dict[str, Place]) -> None:
    assert places["city:suzhou"].parent_slug == "province:jiangsu"
    assert places["city:suzhou-anhui"].name_zh == "宿州"
    assert places["city:fuzhou"].parent_slug == "province:fujian"
