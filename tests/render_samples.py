"""Hand-made store answers for renderer tests (no database): ordinary, huge and hostile."""

from __future__ import annotations

import datetime as dt

from store.answers import (
    Answer,
    Candidate,
    EntityRef,
    FactDate,
    FactView,
    Number,
    Profile,
    RelatedItem,
    Resolution,
    SourceRef,
)

SOURCE = SourceRef(
    document="qingdao-daily-2019",
    title='Qingdao blockchain industry: grab the "window period"',
    publisher="Qingdao Daily",
    published=FactDate(dt.date(2019, 12, 1), "month"),
)
QINGDAO = EntityRef("city:qingdao", "Qingdao", "city")
SHANDONG = EntityRef("province:shandong", "Shandong", "province")
CHAIN_BAY = EntityRef("project:chain-bay", "Chain Bay", "project")
POLICY = EntityRef("policy:shibei-opinions", "Shibei Opinions", "policy")


def fact(
    text: str,
    quote: str | None = None,
    *,
    year: int | None = 2019,
    month: int | None = None,
    literal: str | None = None,
    numbers: tuple[Number, ...] = (),
    source: SourceRef = SOURCE,
) -> FactView:
    date = None
    if year is not None:
        date = FactDate(dt.date(year, month or 1, 1), "month" if month else "year")
    return FactView(
        text=text,
        quote=quote if quote is not None else f"It is reported that {text.lower()}",
        source=source,
        date=date,
        kind="figure" if numbers else "event",
        numbers=numbers,
        literal=literal,
    )


def profile(
    entity: EntityRef = QINGDAO,
    *,
    facts: tuple[FactView, ...] = (),
    policies: tuple[RelatedItem, ...] = (),
    projects: tuple[RelatedItem, ...] = (),
    companies: tuple[RelatedItem, ...] = (),
    related: tuple[EntityRef, ...] = (),
    summary: str = "City in Shandong named in 1 article (2019)",
    aliases: tuple[str, ...] = ("Tsingtao", "qingdao"),
) -> Profile:
    figures = tuple(f for f in facts if f.numbers)
    timeline = tuple(
        sorted((f for f in facts if f.date), key=lambda f: f.date.value if f.date else dt.date.min)
    )
    return Profile(
        entity=entity,
        summary=summary,
        aliases=aliases,
        name_zh="青岛" if entity == QINGDAO else None,
        parent=SHANDONG if entity == QINGDAO else None,
        key_figures=figures,
        policies=policies,
        projects=projects,
        companies=companies,
        people=(),
        timeline=timeline,
        facts=facts,
        related=related,
        sources=(SOURCE,) if facts else (),
    )


def qingdao() -> Profile:
    """A small but complete card: figures, a policy, a project, a garble."""
    rank = fact(
        "Qingdao ranks eighth in the CCID blockchain city ranking",
        "At the end of December, CCID released the report, Qingdao ranked eighth.",
        numbers=(Number(8, "rank", "eighth"),),
    )
    policy_fact = fact(
        "Shibei District issued the Shibei Opinions",
        "In June, Shibei District issued the Opinions on the blockchain industry.",
        year=2018,
        month=6,
    )
    # A statement that only repeats its quote: the card shows the quote alone.
    bay = fact("Chain Bay opened in Shibei", "In 2017, Chain Bay opened in Shibei.", year=2017)
    garble = fact(
        "A blockchain summit was held in Qingdao",
        "The summit was held in Qinghai & drew <many> guests.",
        year=2016,
        literal="Qinghai",
    )
    return profile(
        facts=(rank, policy_fact, bay, garble),
        policies=(RelatedItem(POLICY, policy_fact),),
        projects=(RelatedItem(CHAIN_BAY, bay),),
        related=(POLICY, CHAIN_BAY, SHANDONG),
    )


HOSTILE = "<!channel> <@U1> & <https://evil.example|click> *bold* `code` &amp; &lt;"


def hostile() -> Profile:
    """Every text field carries mentions, markup and entities."""
    entity = EntityRef("company:hostile", HOSTILE, "company")
    source = SourceRef("doc", HOSTILE, HOSTILE, FactDate(dt.date(2020, 1, 1), "year"))
    facts = tuple(
        fact(f"{HOSTILE} {i}", f"{HOSTILE} quote {i}", source=source, literal=HOSTILE)
        for i in range(5)
    )
    return profile(
        entity,
        facts=facts,
        summary=HOSTILE,
        aliases=(HOSTILE,),
        companies=tuple(
            RelatedItem(EntityRef(f"company:x{i}", HOSTILE, "company"), facts[0]) for i in range(3)
        ),
        related=(EntityRef("company:y", HOSTILE, "company"),),
    )


def huge(n_facts: int = 300, quote_chars: int = 5000, n_related: int = 200) -> Profile:
    """Far more, and far longer, than any card can show at once."""
    facts = tuple(
        fact(
            f"Fact number {i} " + "word " * 200,
            ("x" * 7 + " ") * (quote_chars // 8) + "&",
            year=2000 + i % 20,
            numbers=(Number(i, "yuan", f"{i} yuan"),) if i % 3 == 0 else (),
        )
        for i in range(n_facts)
    )
    companies = tuple(
        RelatedItem(EntityRef(f"company:c{i}", f"Company {i} " + "Z" * 100, "company"), facts[1])
        for i in range(n_related)
    )
    related = tuple(
        EntityRef(f"company:c{i}", f"Company {i} " + "Z" * 100, "company") for i in range(n_related)
    )
    return profile(facts=facts, companies=companies, related=related, summary="S" * 5000)


def place() -> Profile:
    return Profile(
        entity=EntityRef("city:zhangjiakou", "Zhangjiakou", "city"),
        summary="a prefecture-level city in Hebei",
        aliases=(),
        name_zh="张家口",
        parent=EntityRef("province:hebei", "Hebei", "province"),
        key_figures=(),
        policies=(),
        projects=(),
        companies=(),
        people=(),
        timeline=(),
        facts=(),
        related=(),
        sources=(),
    )


def resolution(status: str, query: str, candidates: int = 3, reason: str = "") -> Resolution:
    cands = tuple(
        Candidate(EntityRef(f"city:c{i}", f"Candidate {i} {query[:20]}", "city"), 90 - i, "x")
        for i in range(candidates)
    )
    return Resolution(status=status, query=query, candidates=cands, reason=reason)  # type: ignore[arg-type]


def found(p: Profile, query: str = "qingdao", reason: str = "exact") -> Answer:
    return Answer(Resolution("found", query, entity=p.entity, reason=reason), profile=p)
