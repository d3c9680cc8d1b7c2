"""``chainbot chain``, ``chainbot build``, ``chainbot stats``: the fact store from the shell.

``chain`` prints exactly the answer ``/chain`` gives in Slack, rendered as text from the same
answer object. Errors a person can act on are one line and a non-zero exit code.
"""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Any

import click

from bot import grammar
from bot.cli import StderrProgress, main
from bot.render import text as render_text
from store import profile as store_profile
from store.answers import Answer, Resolution
from store.api import Stats, Store


def _open_store() -> Store:
    """Open the store, building it from the seeds on first use (progress on stderr)."""
    store = Store.open(build_if_empty=False)
    if store.generation() is None:
        click.echo("Building the fact store from the seed articles (first use)…", err=True)
        _build(store)
    return store


def _build(store: Store) -> float:
    progress = StderrProgress()
    started = time.perf_counter()
    try:
        store.build(progress=progress)
    finally:
        progress.finish()
    return time.perf_counter() - started


@main.command()
@click.argument("query", nargs=-1)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: the rendered answer; json: the answer as data, with the text.",
)
def chain(query: tuple[str, ...], fmt: str) -> None:
    """Answer QUERY from the fact store, as /chain does in Slack.

    QUERY is a name (a city, province, policy, project or company), or one of
    `help`, `list <kind>`, `timeline <name>`, `compare <a> vs <b>`.
    """
    text = " ".join(query).strip()
    store = _open_store()
    data = _answer(store, text)
    if fmt == "json":
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        click.echo(data["text"])


LIST_ALL = 100  # the CLI lists a kind in full, a page of this size at a time


def _answer(store: Store, text: str) -> dict[str, Any]:
    """The answer to a ``chain`` query as JSON-ready data with its rendered ``text``."""
    first, _, rest = text.partition(" ")
    command, rest = first.casefold(), rest.strip()
    if command == "help" and not rest:
        answer = Answer(Resolution(status="usage", query=text, reason="empty"))
        return answer.to_json(render_text.usage_text(examples=store.featured()))
    if command == "list":
        return _list(store, rest)
    if command == "timeline":
        if not rest:
            return _incomplete(text, grammar.TIMELINE_WHAT)
        answer = store.answer(rest)
        if answer.profile is not None:
            return answer.to_json(render_text.timeline_text(answer.profile))
        return answer.to_json(render_text.answer_text(answer))
    if command == "compare":
        sides = grammar.compare_sides(rest)
        return _compare(store, rest, sides) if sides else _incomplete(text, grammar.COMPARE_WHAT)
    answer = store.answer(text)
    examples = store.featured() if answer.status == "usage" else []
    return answer.to_json(render_text.answer_text(answer, examples=examples))


def _incomplete(query: str, message: str) -> dict[str, Any]:
    """A subcommand without what it needs: what /chain says, without Slack's backticks."""
    return {"status": "usage", "query": query, "text": message.replace("`", "")}


def _list(store: Store, kind_text: str) -> dict[str, Any]:
    kind = store_profile.normalise_kind(kind_text)
    if kind is None:
        return {**_incomplete(kind_text, grammar.LIST_WHAT), "kind": None, "entities": []}
    entities, total = store.list_entities(kind, offset=0, limit=LIST_ALL)
    while len(entities) < total:
        page, _ = store.list_entities(kind, offset=len(entities), limit=LIST_ALL)
        if not page:
            break
        entities += page
    return {
        "status": "list",
        "query": kind_text,
        "kind": kind,
        "total": total,
        "entities": [{"name": e.name, "kind": e.kind, "slug": e.slug} for e in entities],
        "text": render_text.list_text(kind, entities, total),
    }


def _compare(store: Store, text: str, sides: tuple[str, str]) -> dict[str, Any]:
    a, b = store.answer(sides[0]), store.answer(sides[1])
    if a.profile is not None and b.profile is not None:  # the rule /chain compare follows
        rendered = render_text.compare_text(a.profile, b.profile)
        status = "compare"
    else:
        rendered = render_text.compare_unresolved_text(a, b)
        status = "ambiguous" if "ambiguous" in (a.status, b.status) else "not_found"
    return {
        "status": status,
        "query": text,
        "entities": [a.to_json(""), b.to_json("")],
        "text": rendered,
    }


@main.command()
def build() -> None:
    """Rebuild the fact store from the seed articles (and any ingested ones)."""
    store = Store.open(build_if_empty=False)
    seconds = _build(store)
    st = store.stats()
    entities = sum(st.entities_by_kind.values())
    click.echo(
        f"Built the fact store in {seconds:.2f} s: {st.documents} documents, {st.facts} facts, "
        f"{entities} entities with facts, {st.aliases} aliases."
    )


def stats_table(st: Stats) -> str:
    rows: list[tuple[str, str]] = [
        ("documents", str(st.documents)),
        ("facts", str(st.facts)),
        ("aliases", str(st.aliases)),
        ("places in the gazetteer", str(st.places_in_gazetteer)),
    ]
    rows += [(f"{kind} (with facts)", str(n)) for kind, n in sorted(st.entities_by_kind.items())]
    rows.append(("generation", st.generation or "not built"))
    rows.append(("built at", st.built_at or "-"))
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label.ljust(width)}  {value}" for label, value in rows)


@main.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def stats(fmt: str) -> None:
    """Counts: documents, facts, aliases, entities with facts by kind."""
    store = _open_store()
    st = store.stats()
    if fmt == "json":
        click.echo(json.dumps(dataclasses.asdict(st), ensure_ascii=False, indent=2))
    else:
        click.echo(stats_table(st))
