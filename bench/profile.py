"""Profile and rendering benchmark on the seed store.

For every entity with facts: ``store.profile.get_profile`` (a fixed handful of queries) against
a naive baseline that walks the ORM relationships fact by fact (lazy loads: the classic N+1),
measured in the same run on the same database; then the renderers (Block Kit card page,
full text card) on the profiles.

    python -m bench.profile            # builds a throwaway SQLite store from the seeds
    python -m bench.profile --rounds 5
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from bot.render import blocks, text
from store import Store
from store.models import Entity, Mention
from store.profile import get_profile


def naive_profile(store: Store, slug: str) -> int:
    """The baseline: the same data reached through lazy relationships, one row at a time."""
    with Session(store.engine) as session:
        entity = session.scalars(select(Entity).where(Entity.slug == slug)).one()
        names = [a.alias for a in entity.aliases]
        mentions = session.scalars(select(Mention).where(Mention.entity_id == entity.id)).all()
        seen = 0
        for mention in mentions:
            fact = mention.fact
            document = fact.document  # loads the article text, per fact
            others = [m.entity.name for m in fact.mentions]  # one query per co-mention
            seen += len(others) + len(document.title) + len(names)
        return seen


def timed(fn: Callable[[], object], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def summary(samples: Sequence[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered), p99, ordered[-1]


def count_queries(store: Store, fn: Callable[[], object]) -> int:
    statements = 0

    def on_execute(*_args: object) -> None:
        nonlocal statements
        statements += 1

    event.listen(store.engine, "before_cursor_execute", on_execute)
    try:
        fn()
    finally:
        event.remove(store.engine, "before_cursor_execute", on_execute)
    return statements


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="timed passes over all entities")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        with Session(store.engine) as session:
            slugs = list(
                session.scalars(
                    select(Entity.slug)
                    .where(Entity.id.in_(select(Mention.entity_id)))
                    .order_by(Entity.slug)
                )
            )
        for slug in slugs:  # warm caches (SQLite pages, gazetteer) for both sides
            get_profile(store.engine, slug)
            naive_profile(store, slug)

        ours: list[float] = []
        naive: list[float] = []
        for _ in range(args.rounds):
            for slug in slugs:
                ours += timed(lambda s=slug: get_profile(store.engine, s), 1)
                naive += timed(lambda s=slug: naive_profile(store, s), 1)

        profiles = [get_profile(store.engine, slug) for slug in slugs]
        card: list[float] = []
        plain: list[float] = []
        for _ in range(args.rounds):
            for profile in profiles:
                card += timed(lambda p=profile: blocks.render_card(p), 1)
                plain += timed(lambda p=profile: text.card_text(p), 1)

        qingdao = timed(lambda: get_profile(store.engine, "city:qingdao"), 30 * args.rounds)
        qingdao_naive = timed(lambda: naive_profile(store, "city:qingdao"), 30 * args.rounds)
        qingdao_ours = count_queries(store, lambda: get_profile(store.engine, "city:qingdao"))
        qingdao_naive_queries = count_queries(store, lambda: naive_profile(store, "city:qingdao"))
        pages = max(blocks.card_page_count(p) for p in profiles)

    print(f"{len(slugs)} entities with facts, {args.rounds} rounds each\n")
    print("| what | median ms | p99 ms | max ms | queries (Qingdao) |")
    print("|---|---:|---:|---:|---:|")
    rows = [
        ("get_profile (store.profile)", ours, str(qingdao_ours)),
        ("naive ORM walk (baseline)", naive, str(qingdao_naive_queries)),
        ("get_profile, Qingdao only", qingdao, str(qingdao_ours)),
        ("naive ORM walk, Qingdao only", qingdao_naive, str(qingdao_naive_queries)),
        ("render_card, Block Kit page", card, "-"),
        ("card_text, full text card", plain, "-"),
    ]
    for name, samples, queries in rows:
        median, p99, worst = summary(samples)
        print(f"| {name} | {median:.2f} | {p99:.2f} | {worst:.2f} | {queries} |")
    ratio = summary(naive)[0] / summary(ours)[0]
    print(f"\nbaseline / ours (median): {ratio:.1f}x; longest card: {pages} pages")


if __name__ == "__main__":
    main()
