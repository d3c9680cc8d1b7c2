"""Lookup benchmark: build time, lookup latency on the seed store and at synthetic scale
(against plain ``rapidfuzz.process.extractOne(query, aliases, scorer=WRatio)`` over the same
aliases, measured in the same run), peak memory, and the scorer comparison behind
``store.lookup``'s choice of scorer.

    python -m bench.lookup                 # full run (about two minutes)
    python -m bench.lookup --quick         # smoke run (seconds)
    python -m bench.lookup --database-url postgresql+psycopg://...   # build and query there

``--database-url`` REBUILDS the fact tables of that database (app tables are untouched, as
with ``chainbot build``); without it a throwaway SQLite file is used.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import resource
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz, process

from store import Store
from store.lookup import SCORERS, AliasIndex, IndexedEntity, get_index
from store.textnorm import fold

HEADER = (
    "| what | aliases | queries | ours median ms | ours p99 ms | WRatio median ms | WRatio p99 ms |"
)

# ----------------------------------------------------------------------------- seed queries
# (query, kind): exact names, aliases (old romanisations, Chinese, curated short forms),
# typos, and misses that name nothing in the store.
SEED_MIX: list[tuple[str, str]] = [
    *[(q, "exact") for q in ["qingdao", "Shanghai", "Bubi", "State Grid", "hebei", "Huobi"]],
    *[(q, "alias") for q in ["tsingtao", "青岛", "peking", "xiongan", "chong qing", "kodak"]],
    *[(q, "typo") for q in ["qingdoa", "shenzen", "hangzou", "beijng", "tencnet", "huobbi"]],
    *[(q, "miss") for q in ["bitcoin", "london", "ethereum", "kubernetes", "pizza", "qwerty"]],
]

# ----------------------------------------------------------------------------- scorer set
# (query, expected): a slug that must be found; "ask:slug1,slug2" for an ambiguous answer
# listing both; None for a miss (not_found).
LABELLED: list[tuple[str, str | None, str]] = [
    ("qingdao", "city:qingdao", "exact"),
    ("tsingtao", "city:qingdao", "alias"),
    ("青岛", "city:qingdao", "alias"),
    ("bubi", "company:bubi", "exact"),
    ("state grid", "company:state-grid", "exact"),
    ("xiongan", "district:xiongan", "alias"),
    ("qingdoa", "city:qingdao", "typo"),
    ("qingdaoo", "city:qingdao", "typo"),
    ("shanghia", "city:shanghai", "typo"),
    ("beijng", "city:beijing", "typo"),
    ("hangzou", "city:hangzhou", "typo"),
    ("guangzou", "city:guangzhou", "typo"),
    ("shenzen", "city:shenzhen", "typo"),
    ("chongqign", "city:chongqing", "typo"),
    ("xiongann", "district:xiongan", "typo"),
    ("bubbi", "company:bubi", "typo"),
    ("huobbi", "company:huobi", "typo"),
    ("tencnet", "company:tencent", "typo"),
    ("alibabba", "company:alibaba", "typo"),
    ("hundson", "company:hundsun", "typo"),
    ("lingagn", "district:lingang", "typo"),
    ("laosahn", "district:laoshan", "typo"),
    ("state gird", "company:state-grid", "typo"),
    ("chain bya", "project:chain-bay", "typo"),
    ("fintech centre", "project:qingdao-fintech-center", "typo"),
    ("fintech center", "project:qingdao-fintech-center", "partial"),
    ("grid state", "company:state-grid", "reordered"),
    ("bay chain", "project:chain-bay", "reordered"),
    ("hanan", "ask:province:hunan,province:hainan", "confusable"),
    ("shanxy", "ask:province:shanxi,province:shaanxi", "confusable"),
    ("shaanxy", "ask:province:shanxi,province:shaanxi", "confusable"),
    ("qinghai", "province:qinghai", "confusable"),
    ("bitcoin", None, "miss"),
    ("london", None, "miss"),
    ("ethereum", None, "miss"),
    ("facebook", None, "miss"),
    ("kubernetes", None, "miss"),
    ("pizza", None, "miss"),
    ("new york", None, "miss"),
    ("blockchain bitcoin mining", None, "miss"),
    ("shopify", None, "miss"),
    ("qwerty", None, "miss"),
]


@dataclass
class Row:
    what: str
    aliases: int
    queries: int
    ours: list[float]
    base: list[float] | None

    def render(self) -> str:
        def cells(xs: list[float] | None) -> str:
            if not xs:
                return "- | -"
            return f"{statistics.median(xs):.3f} | {percentile(xs, 99):.3f}"

        return (
            f"| {self.what} | {self.aliases:,} | {self.queries} | {cells(self.ours)} | "
            f"{cells(self.base)} |"
        )


def percentile(xs: Sequence[float], p: float) -> float:
    ordered = sorted(xs)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def timed(fn: Callable[[], object], reps: int) -> list[float]:
    """Milliseconds per call, with the garbage collector paused as ``timeit`` does."""
    out = []
    gc.disable()
    try:
        for _ in range(reps):
            start = time.perf_counter_ns()
            fn()
            out.append((time.perf_counter_ns() - start) / 1e6)
    finally:
        gc.enable()
    return out


def baseline(query: str, aliases: list[str]) -> tuple[tuple[str, float, int] | None, float]:
    """Plain fuzzy matching: WRatio over every alias. Returns the hit and milliseconds."""
    folded = fold(query)
    gc.disable()
    try:
        start = time.perf_counter_ns()
        hit = process.extractOne(folded, aliases, scorer=fuzz.WRatio)
        ms = (time.perf_counter_ns() - start) / 1e6
    finally:
        gc.enable()
    return hit, ms


def rss_mb() -> float:
    """Current resident memory (Linux), else the peak so far."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * resource.getpagesize() / 2**20
    except OSError:
        return peak_mb()


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ----------------------------------------------------------------------------- synthetic
SYLLABLES = (  # noqa: SIM905 (a list literal of 170 syllables reads worse)
    "an ao ba bai bao bei ben bi bin bo cai can cao ce chang chao chen cheng chi chong chu "
    "chuan chun da dai dan dao de deng di dian ding dong du duan fa fan fang fei fen feng fu "
    "gang gao ge gong guang gui guo hai han hang hao he heng hong hou hua huai huan huang hui "
    "ji jia jian jiang jiao jie jin jing jiu ju jun kai kang ke kun lan lang lei li lian liang "
    "lin ling long lu lun luo ma mao mei meng min ming mu nan neng ning pan peng ping pu qi "
    "qian qiang qiao qin qing qiu quan rong rui run sen shan shang shao shen sheng shi shu "
    "shun si song su tai tang tian tong wan wang wei wen wu xi xia xian xiang xiao xin xing "
    "xiong xu xuan ya yan yang yao ye yi yin ying yong you yu yuan yue yun ze zhan zhang zhao "
    "zhe zhen zheng zhi zhong zhou zhu zi zong"
).split()
SUFFIXES = [
    "Technology Co., Ltd.",
    "Information Technology Co., Ltd.",
    "Blockchain Technology Co., Ltd.",
    "Digital Technology Co., Ltd.",
    "Network Technology Co., Ltd.",
    "Group",
    "Holdings",
    "Bank",
    "Fintech Co., Ltd.",
    "Research Institute",
    "Industrial Park",
    "Alliance",
]
CITIES = ["Qingdao", "Shanghai", "Beijing", "Hangzhou", "Shenzhen", "Chengdu", "Wuhan", "Xi'an"]


def synthetic_pairs(n_aliases: int, seed: int = 7) -> list[tuple[str, IndexedEntity, str]]:
    """About ``n_aliases`` distinct aliases of company-like entities: a full name
    ("Qingdao Haixin Blockchain Technology Co., Ltd."), its brand ("Haixin") and sometimes a
    city-and-brand form, built from pinyin syllables as the seed articles' names are."""
    rng = random.Random(seed)
    pairs: list[tuple[str, IndexedEntity, str]] = []
    seen: set[str] = set()
    i = 0
    while len(seen) < n_aliases:
        brand = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()
        city = rng.choice(CITIES)
        full = f"{city} {brand} {rng.choice(SUFFIXES)}"
        entity = IndexedEntity(f"company:syn-{i}", full, "company", fact_count=1)
        i += 1
        forms = [(full, "name"), (brand, "english")]
        if rng.random() < 0.3:
            forms.append((f"{city} {brand}", "variant"))
        for alias, kind in forms:
            key = "".join(ch for ch in alias.lower() if ch.isalnum())
            if key not in seen:
                seen.add(key)
                pairs.append((alias, entity, kind))
    return pairs


def typo(text: str, rng: random.Random) -> str:
    """One keyboard-style slip: a swap of neighbours, a dropped or a doubled letter."""
    letters = list(text)
    spots = [i for i in range(1, len(letters) - 1) if letters[i].isalpha()]
    i = rng.choice(spots)
    how = rng.choice(["swap", "drop", "double"])
    if how == "swap" and letters[i + 1].isalpha():
        letters[i], letters[i + 1] = letters[i + 1], letters[i]
    elif how == "drop":
        del letters[i]
    else:
        letters.insert(i, letters[i])
    return "".join(letters)


def synthetic_queries(
    pairs: list[tuple[str, IndexedEntity, str]], per_kind: int, seed: int = 11
) -> list[tuple[str, str, str | None]]:
    """(query, kind, intended slug) for exact names, brand aliases, typos and misses."""
    rng = random.Random(seed)
    names = [(a, e.slug) for a, e, k in pairs if k == "name"]
    brands = [(a, e.slug) for a, e, k in pairs if k == "english" and len(a) >= 7]
    out: list[tuple[str, str, str | None]] = []
    out += [(a, "exact", s) for a, s in rng.sample(names, per_kind)]
    out += [(a, "alias", s) for a, s in rng.sample(brands, per_kind)]
    out += [(typo(a, rng), "typo", s) for a, s in rng.sample(brands, per_kind)]
    out += [
        ("".join(rng.choice("bcdfgkmprstvwz") for _ in range(9)), "miss", None)
        for _ in range(per_kind)
    ]
    return out


# ----------------------------------------------------------------------------- sections


def bench_build(url: str, reps: int) -> tuple[Store, list[Row], list[str]]:
    store = Store.open(url, build_if_empty=False)
    reports = []
    times = timed(lambda: reports.append(store.build()), reps)
    report = reports[-1]
    notes = [
        f"build from seeds: {report.documents} documents, {report.entities} entities, "
        f"{report.facts} facts, {report.aliases} aliases ({url.split(':')[0]})"
    ]
    start = time.perf_counter()
    index = AliasIndex.from_engine(store.engine)
    index_ms = (time.perf_counter() - start) * 1000
    rows = [
        Row("build from seeds (Store.build)", report.aliases, reps, times, None),
        Row("alias index from the store", index.alias_count, 1, [index_ms], None),
    ]
    return store, rows, notes


def bench_seed_lookups(store: Store, reps: int) -> list[Row]:
    gc.collect()
    index = get_index(store.engine)
    aliases = index.folded
    rows = []
    for kind in ("exact", "alias", "typo", "miss"):
        queries = [q for q, k in SEED_MIX if k == kind]
        ours: list[float] = []
        base: list[float] = []
        for q in queries:
            ours += timed(lambda q=q: store.resolve(q), reps)
            folded = fold(q)
            base += timed(lambda f=folded: process.extractOne(f, aliases, scorer=fuzz.WRatio), reps)
        rows.append(Row(f"seed store: {kind} (Store.resolve)", len(aliases), len(ours), ours, base))
    return rows


def bench_scale(n: int, per_kind: int, base_per_kind: int) -> tuple[list[Row], list[str]]:
    gc.collect()
    before = rss_mb()
    pairs = synthetic_pairs(n)
    start = time.perf_counter()
    index = AliasIndex.from_pairs(pairs)
    build_s = time.perf_counter() - start
    index_mb = rss_mb() - before
    aliases = index.folded
    queries = synthetic_queries(pairs, per_kind)
    rows = [Row(f"synthetic: index build ({n:,})", index.alias_count, 1, [build_s * 1000], None)]
    notes = [f"{n:,} aliases: index built in {build_s:.1f} s, about {index_mb:.0f} MB resident"]
    for kind in ("exact", "alias", "typo", "miss"):
        these = [(q, s) for q, k, s in queries if k == kind]
        ours = [t for q, _ in these for t in timed(lambda q=q, ix=index: ix.resolve(q), 3)]
        base: list[float] = []
        base_right = ours_right = asked = 0
        for q, slug in these[:base_per_kind]:
            hit, ms = baseline(q, aliases)
            base.append(ms)
            if slug and hit and slug in {index.entities[e].slug for e, _ in index.owners(hit[2])}:
                base_right += 1
        for q, slug in these[:base_per_kind]:
            res = index.resolve(q)
            if slug is None:
                ours_right += res.status == "not_found"
                continue
            if res.entity is not None and res.entity.slug == slug:
                ours_right += 1
            elif slug in {c.entity.slug for c in res.candidates}:
                asked += 1
        rows.append(Row(f"synthetic: {kind}", index.alias_count, len(ours), ours, base))
        k = min(base_per_kind, len(these))
        base_note = f"{base_right}/{k} top hit right" if kind != "miss" else "always answers"
        notes.append(
            f"{n:,} {kind}: ours {ours_right}/{k} right (+{asked} asked 'did you mean'), "
            f"WRatio extractOne {base_note}"
        )
    return rows, notes


def judge(index: AliasIndex, query: str, expected: str | None) -> str:
    """'right', 'asked' (a 'did you mean' or a not-found suggestion naming the intended
    entity), or 'wrong'."""
    res = index.resolve(query)
    if expected is None:
        return "right" if res.status == "not_found" else "wrong"
    if expected.startswith("ask:"):
        wanted = set(expected[4:].split(","))
        got = {c.entity.slug for c in res.candidates}
        return "right" if res.status == "ambiguous" and wanted <= got else "wrong"
    if res.status == "found" and res.entity and res.entity.slug == expected:
        return "right"
    if res.status != "found" and expected in {c.entity.slug for c in res.candidates}:
        return "asked"
    return "wrong"


def bench_scorers(store: Store, reps: int) -> tuple[list[str], list[str]]:
    """Every scorer over the labelled set on the seed store: accuracy and speed."""
    base = get_index(store.engine)
    known = {e.slug for e in base.entities}

    def usable(expected: str | None) -> bool:
        if expected is None:
            return True
        slugs = expected[4:].split(",") if expected.startswith("ask:") else [expected]
        return all(s in known for s in slugs)

    labelled = [(q, e, k) for q, e, k in LABELLED if usable(e)]
    gc.collect()
    skipped = [q for q, e, _ in LABELLED if not usable(e)]
    lines = [
        "| scorer | right | asked | wrong | misses rejected | mean ms/query | wrong on |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in SCORERS:
        index = AliasIndex(**{**base.__dict__, "scorer": name})
        verdicts = [(q, judge(index, q, e), k) for q, e, k in labelled]
        times = [
            t for q, _, _ in labelled for t in timed(lambda q=q, ix=index: ix.resolve(q), reps)
        ]
        right = sum(v == "right" for _, v, _ in verdicts)
        asked = sum(v == "asked" for _, v, _ in verdicts)
        wrong = [q for q, v, _ in verdicts if v == "wrong"]
        misses = [v for _, v, k in verdicts if k == "miss"]
        lines.append(
            f"| {name} | {right}/{len(verdicts)} | {asked} | {len(wrong)} | "
            f"{misses.count('right')}/{len(misses)} | {statistics.mean(times):.3f} | "
            f"{', '.join(wrong[:6])}{' ...' if len(wrong) > 6 else ''} |"
        )
    notes = [f"labelled queries skipped (entity not in this store): {skipped}"] if skipped else []
    return lines, notes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Chain Bot lookup benchmark")
    parser.add_argument("--database-url", help="build and query this database (rebuilds it)")
    parser.add_argument("--quick", action="store_true", help="a fast smoke run")
    args = parser.parse_args(argv)

    scales = [5_000] if args.quick else [100_000, 1_000_000]
    started = time.perf_counter()
    print("# Chain Bot lookup benchmark\n")
    with tempfile.TemporaryDirectory(prefix="chainbot-bench-") as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        store, rows, notes = bench_build(url, 1 if args.quick else 3)
        rows += bench_seed_lookups(store, 2 if args.quick else 30)
        for n in scales:
            per_kind = 5 if args.quick else 40
            base_per_kind = 2 if args.quick else (20 if n <= 100_000 else 3)
            scale_rows, scale_notes = bench_scale(n, per_kind, base_per_kind)
            rows += scale_rows
            notes += scale_notes
        lines, scorer_notes = bench_scorers(store, 1 if args.quick else 5)
        store.engine.dispose()
    print(HEADER)
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print(row.render())
    print(f"\npeak memory (max RSS): {peak_mb():.0f} MB")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for note in notes:
        print(f"- {note}")
    print("\n## Scorer comparison (labelled queries on the seed store, same pipeline)\n")
    print("\n".join(lines))
    for note in scorer_notes:
        print(f"- {note}")
    print(f"\nwhole run: {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
