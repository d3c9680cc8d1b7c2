"""What an entity card says, in which order: shared by the text and the Block Kit renderers so
the CLI and Slack always show the same answer.

A card is a list of ``Section``s of ``Item``s. An item is one fact (statement, date, quote,
source) and, in the policies/projects/companies/people sections, the entities that fact ties
to the card's entity. Each fact is quoted in full once per card; when it comes up again it is
shown as a one-line reminder that still names its source.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from store.answers import KIND_LABELS, EntityRef, FactView, Profile, RelatedItem

PLURALS = {
    "city": "cities",
    "province": "provinces",
    "district": "districts",
    "region": "regions",
    "policy": "policies",
    "project": "projects",
    "event": "events",
    "company": "companies",
    "institution": "institutions",
    "person": "people",
}


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind.capitalize())


def plural(kind: str) -> str:
    return PLURALS.get(kind, kind + "s")


@dataclass(frozen=True)
class Item:
    fact: FactView | None
    entities: tuple[EntityRef, ...] = ()
    # True when the same fact was already quoted higher up on the card.
    repeat: bool = False


@dataclass(frozen=True)
class Section:
    title: str
    items: tuple[Item, ...]


def fact_key(fact: FactView) -> tuple[str, str, str]:
    return (fact.source.document, fact.quote, fact.text)


def _group_related(items: Sequence[RelatedItem]) -> list[tuple[FactView | None, list[EntityRef]]]:
    """Related entities grouped by the fact that ties them, in first-seen order; entities
    with no tying fact come last, together."""
    groups: dict[tuple[str, str, str] | None, tuple[FactView | None, list[EntityRef]]] = {}
    for related in items:
        key = fact_key(related.fact) if related.fact else None
        if key not in groups:
            groups[key] = (related.fact, [])
        if related.entity not in groups[key][1]:
            groups[key][1].append(related.entity)
    with_fact = [group for key, group in groups.items() if key is not None]
    if None in groups:
        with_fact.append(groups[None])
    return with_fact


def _facts_section(
    title: str, facts: Iterable[FactView], shown: set[tuple[str, str, str]]
) -> Section | None:
    items = []
    for fact in facts:
        key = fact_key(fact)
        if key in shown:
            continue
        shown.add(key)
        items.append(Item(fact))
    return Section(title, tuple(items)) if items else None


def _related_section(
    title: str, related: Sequence[RelatedItem], shown: set[tuple[str, str, str]]
) -> Section | None:
    items = []
    for fact, entities in _group_related(related):
        if fact is None:
            items.append(Item(None, tuple(entities)))
            continue
        key = fact_key(fact)
        items.append(Item(fact, tuple(entities), repeat=key in shown))
        shown.add(key)
    return Section(title, tuple(items)) if items else None


def card_sections(profile: Profile) -> list[Section]:
    """Key figures, policies, projects, companies, people, the rest of the timeline, then any
    remaining fact: every fact of the profile appears, quoted once."""
    shown: set[tuple[str, str, str]] = set()
    sections = [
        _facts_section("Key figures", profile.key_figures, shown),
        _related_section("Policies", profile.policies, shown),
        _related_section("Projects", profile.projects, shown),
        _related_section("Companies", profile.companies, shown),
        _related_section("People", profile.people, shown),
        _facts_section("Timeline", profile.timeline, shown),
        _facts_section("Other facts", profile.facts, shown),
    ]
    return [section for section in sections if section is not None]


def timeline_sections(profile: Profile) -> list[Section]:
    """The dated facts, oldest first, as one section per year."""
    by_year: dict[int, list[Item]] = {}
    for fact in profile.timeline:
        if fact.date is not None:
            by_year.setdefault(fact.date.value.year, []).append(Item(fact))
    return [Section(str(year), tuple(items)) for year, items in sorted(by_year.items())]


def profile_facts_line(profile: Profile) -> str:
    """``City in Shandong · 42 facts from 3 articles``."""
    parts = [kind_label(profile.entity.kind)]
    if profile.parent is not None:
        parts[0] += f" in {profile.parent.name}"
    if profile.has_facts:
        facts = len(profile.facts)
        articles = len(profile.sources)
        parts.append(
            f"{facts} fact{'s' if facts != 1 else ''} from "
            f"{articles} article{'s' if articles != 1 else ''}"
        )
    return " · ".join(parts)


def other_names(profile: Profile, limit: int = 8) -> list[str]:
    """Aliases worth showing (not the name itself), Chinese name first."""
    names: list[str] = []
    seen = {profile.entity.name.casefold()}
    for name in (profile.name_zh, *profile.aliases):
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            names.append(name)
    return names[:limit]


def _core(text: str) -> str:
    return " ".join(text.replace("…", " ").split()).strip(" .\"'“”").casefold()


def statement(fact: FactView) -> str | None:
    """The fact's statement, or None when it only repeats its quote (the quote is shown
    anyway, verbatim)."""
    core = _core(fact.text)
    if not core or core in _core(fact.quote):
        return None
    return fact.text


REMINDER_CHARS = 140
COMPARE_FACTS = 4  # key figures per side in a comparison


def reminder(fact: FactView) -> str:
    """A fact already quoted higher up, in one short line."""
    text = " ".join(fact.text.split())
    if len(text) > REMINDER_CHARS:
        text = text[: REMINDER_CHARS - 1].rsplit(" ", 1)[0] + "…"
    return text


def literal_note(fact: FactView) -> str | None:
    """Says what the article literally wrote when it garbled the name."""
    if fact.literal:
        return f'The article writes "{fact.literal}" here.'
    return None
