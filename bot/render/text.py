"""Store answers as plain text: what the CLI prints, and the base of every Slack ``text``
fallback.

Every function takes ``slack``: when False (the CLI) article text is printed verbatim; when
True (a Slack fallback) every piece of user or article text is mrkdwn-escaped. A user's query
is escaped in both, so ``<!channel>`` is never echoed as typed.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence

from bot.render import layout
from bot.render.mrkdwn import escape, truncate_plain
from store.answers import Answer, Candidate, EntityRef, FactView, Profile, Resolution
from store.textnorm import strip_controls

WIDTH = 100
QUERY_ECHO_CHARS = 80
USAGE_COLUMN = 30

USAGE_LINES = (
    ("/chain <name>", "the card of a city, province, policy, project or company"),
    ("/chain help", "this help"),
    ("/chain list cities|provinces|policies|projects|companies", "browse what the store knows"),
    ("/chain timeline <name>", "dated facts, oldest first"),
    ("/chain compare <a> vs <b>", "two entities side by side"),
    ("/chain autolink on|off", "short replies when this channel names a known company"),
    (
        "/chain subscribe [weekday] [HH:MM] [time zone] [always]",
        "a weekly digest in this channel",
    ),
    ("/chain unsubscribe", "stop this channel's digest"),
    ("/chain subscriptions", "this channel's digest settings"),
    ("/chain digest [YYYY-MM-DD]", "preview the digest for a week"),
)


def usage_line(subcommand: str) -> str:
    """The help's usage for one subcommand (``/chain subscribe [weekday] ...``), so error
    messages and the dispatcher's registry quote the help instead of retyping it."""
    prefix = f"/chain {subcommand}"
    for usage, _meaning in USAGE_LINES:
        if usage == prefix or usage.startswith(prefix + " "):
            return usage
    raise KeyError(subcommand)


_USAGE_REASONS = {
    "empty": "",
    "too_long": "That query is too long to be a name.",
    "no_letters": "That query has no letters in it, so it cannot name anything.",
}


def _identity(text: str) -> str:
    return text


def _esc(slack: bool) -> Callable[[str], str]:
    return escape if slack else _identity


def echo_query(query: str) -> str:
    """A user's query, safe to show: control characters dropped, whitespace collapsed,
    shortened, and mrkdwn-escaped."""
    clean = " ".join(strip_controls(query).split())
    return escape(truncate_plain(clean, QUERY_ECHO_CHARS))


def _wrap(text: str, indent: str, hang: str = "") -> str:
    """Wrap to WIDTH; continuation lines get ``hang`` more indentation (under a bullet)."""
    return textwrap.fill(
        text,
        WIDTH,
        initial_indent=indent,
        subsequent_indent=indent + hang,
        break_long_words=True,
        break_on_hyphens=False,
    )


def fact_lines(
    fact: FactView, *, slack: bool = False, indent: str = "  ", bullet: str = "• "
) -> list[str]:
    """``• 2019 — statement`` then the verbatim quote and its source, indented."""
    esc = _esc(slack)
    hang = " " * len(bullet)
    said = layout.statement(fact)
    quoted = f'"{esc(fact.quote)}"'
    if said is None:  # the quote says it all: date, then the quote itself
        date = f"{fact.date.label()}: " if fact.date else ""
        lines = [_wrap(f"{bullet}{date}{quoted}", indent, hang)]
    else:
        date = f"{fact.date.label()} — " if fact.date else ""
        lines = [_wrap(f"{bullet}{date}{esc(said)}", indent, hang), _wrap(quoted, indent + "  ")]
    note = layout.literal_note(fact)
    if note:
        lines.append(_wrap(esc(note), indent + "  "))
    lines.append(_wrap(f"— {esc(fact.source.label())}", indent + "  "))
    return lines


def item_lines(item: layout.Item, *, slack: bool = False) -> list[str]:
    """One card item: the entities it ties (if any) and its fact, quoted and cited."""
    esc = _esc(slack)
    names = ", ".join(esc(e.name) for e in item.entities)
    if item.fact is None:
        return [_wrap(f"• {names}", "  ", "  ")]
    if item.repeat:
        date = f" ({item.fact.date.label()})" if item.fact.date else ""
        head = f"• {names}: " if names else "• "
        reminder = esc(layout.reminder(item.fact))
        return [_wrap(f"{head}{reminder}{date} — {esc(item.fact.source.title)}", "  ", "  ")]
    if not names:
        return fact_lines(item.fact, slack=slack)
    return [
        _wrap(f"• {names}", "  ", "  "),
        *fact_lines(item.fact, slack=slack, indent="    ", bullet=""),
    ]


def _sections_lines(sections: Sequence[layout.Section], *, slack: bool) -> list[str]:
    lines: list[str] = []
    for section in sections:
        lines.append("")
        lines.append(f"{section.title}")
        for item in section.items:
            lines.extend(item_lines(item, slack=slack))
    return lines


def _heading(name: str) -> list[str]:
    return [name, "=" * min(len(name), WIDTH)]


def _head_lines(profile: Profile, *, slack: bool, note: str | None = None) -> list[str]:
    esc = _esc(slack)
    lines = _heading(esc(profile.entity.name))
    if note:
        lines.append(note)
    lines.append(_wrap(esc(profile.summary), ""))
    facts_line = layout.profile_facts_line(profile)
    lines.append(esc(facts_line))
    names = layout.other_names(profile)
    if names:
        lines.append(_wrap("Also known as: " + ", ".join(esc(n) for n in names), ""))
    return lines


def _sources_lines(profile: Profile, *, slack: bool) -> list[str]:
    esc = _esc(slack)
    if not profile.sources:
        return []
    return ["", "Sources"] + [_wrap(f"• {esc(s.label())}", "  ") for s in profile.sources]


def _related_lines(profile: Profile, *, slack: bool) -> list[str]:
    esc = _esc(slack)
    if not profile.related:
        return []
    names = ", ".join(esc(e.name) for e in profile.related)
    return ["", _wrap(f"Related: {names}", "")]


def match_note(resolution: Resolution | None) -> str | None:
    """Says how a non-exact hit matched, so a typo or garble is never silently absorbed."""
    if resolution is None or resolution.reason not in ("fuzzy", "prefix"):
        return None
    return f'(closest match for "{echo_query(resolution.query)}")'


def also_meant_text(resolution: Resolution | None, *, slack: bool = False) -> str | None:
    """A found name that is easily confused with another (Qinghai and Qingdao) names the
    other too, so a garble or a slip of the keyboard is never silently taken at its word."""
    if resolution is None or resolution.status != "found" or not resolution.candidates:
        return None
    names = ", ".join(_candidate_label(c, slack=slack) for c in resolution.candidates)
    return f"Not what you meant? Also: {names}."


def card_text(
    profile: Profile, *, slack: bool = False, resolution: Resolution | None = None
) -> str:
    """The whole entity card: head, sections of cited facts, related entities, sources."""
    if not profile.has_facts:
        return place_text(profile, slack=slack, resolution=resolution)
    lines = _head_lines(profile, slack=slack, note=match_note(resolution))
    also = also_meant_text(resolution, slack=slack)
    if also:
        lines.append(also)
    lines += _sections_lines(layout.card_sections(profile), slack=slack)
    lines += _related_lines(profile, slack=slack)
    lines += _sources_lines(profile, slack=slack)
    return "\n".join(lines)


def place_text(
    profile: Profile, *, slack: bool = False, resolution: Resolution | None = None
) -> str:
    """A real place the articles never name: what it is, and that nothing is stored."""
    esc = _esc(slack)
    summary = profile.summary.strip().rstrip(".")
    name = esc(profile.entity.name)
    # A gazetteer description reads "a city in Hebei province": make it a sentence.
    if summary.split(" ", 1)[0] in ("a", "an", "the"):
        line = f"{name} is {esc(summary)}. The store has nothing on it yet."
    else:
        line = f"{name}: {esc(summary)}. The store has nothing on it yet."
    also = also_meant_text(resolution, slack=slack)
    return f"{line}\n{also}" if also else line


def timeline_text(profile: Profile, *, slack: bool = False) -> str:
    esc = _esc(slack)
    lines = _heading(f"Timeline: {esc(profile.entity.name)}")
    sections = layout.timeline_sections(profile)
    if not sections:
        lines.append(f"The store has no dated facts about {esc(profile.entity.name)}.")
        return "\n".join(lines)
    lines += _sections_lines(sections, slack=slack)
    return "\n".join(lines)


def _candidate_label(candidate: Candidate, *, slack: bool) -> str:
    esc = _esc(slack)
    return f"{esc(candidate.entity.name)} ({layout.kind_label(candidate.entity.kind).lower()})"


def did_you_mean_text(resolution: Resolution, *, slack: bool = False) -> str:
    lines = [f'"{echo_query(resolution.query)}" could mean more than one thing. Did you mean:']
    lines += [f"  • {_candidate_label(c, slack=slack)}" for c in resolution.candidates]
    return "\n".join(lines)


def not_found_text(resolution: Resolution, *, slack: bool = False) -> str:
    lines = [f'"{echo_query(resolution.query)}" is not in the store.']
    if resolution.candidates:
        names = ", ".join(_candidate_label(c, slack=slack) for c in resolution.candidates)
        lines.append(f"Closest names it knows: {names}.")
    lines.append("Try /chain list cities (or provinces, policies, projects, companies).")
    return "\n".join(lines)


def usage_reason(resolution: Resolution | None) -> str:
    """Why a query got the usage answer ("too long", "no letters"); empty for plain help."""
    return _USAGE_REASONS.get(resolution.reason, "") if resolution else ""


def usage_text(
    resolution: Resolution | None = None,
    *,
    examples: Sequence[EntityRef] = (),
    slack: bool = False,
) -> str:
    """Short usage. ``examples`` (entities from the store) make the examples live."""
    esc = _esc(slack)
    lines = []
    reason = usage_reason(resolution)
    if reason:
        lines.append(reason)
    lines.append("Chain Bot answers from five articles on China's blockchain industry.")
    lines.append("")
    for cmd, what in USAGE_LINES:
        if len(cmd) <= USAGE_COLUMN:
            lines.append(f"  {esc(cmd.ljust(USAGE_COLUMN))}  {what}")
        else:  # too long for the column: the description goes under it
            lines += [f"  {esc(cmd)}", f"  {' ' * USAGE_COLUMN}  {what}"]
    if examples:
        lines.append("")
        lines.append("Try:")
        lines += [f"  /chain {esc(e.name)}" for e in examples[:3]]
        lines.append(f"  /chain timeline {esc(examples[0].name)}")
        if len(examples) >= 2:
            lines.append(f"  /chain compare {esc(examples[0].name)} vs {esc(examples[1].name)}")
    return "\n".join(lines)


def list_text(
    kind: str,
    entities: Sequence[EntityRef],
    total: int,
    offset: int = 0,
    *,
    slack: bool = False,
) -> str:
    esc = _esc(slack)
    label = layout.plural(kind)
    if total == 0:
        return f"The store has no {label} yet."
    first, last = offset + 1, offset + len(entities)
    lines = [f"{label.capitalize()} in the store ({first}–{last} of {total}):"]
    lines += [f"  • {esc(e.name)}" for e in entities]
    return "\n".join(lines)


def compare_unresolved(
    a: Answer, b: Answer, *, slack: bool = False
) -> list[tuple[Answer, Answer, str]]:
    """``compare X vs Y`` when a side did not name one entity: for each such side, the side,
    the other side, and what to say (one line when both sides are empty)."""
    said: list[tuple[Answer, Answer, str]] = []
    for answer, other in ((a, b), (b, a)):
        if answer.status == "found" and answer.profile is not None:
            continue
        query = echo_query(answer.resolution.query)
        if answer.status == "ambiguous":
            line = f"“{query}” could mean more than one thing."
        elif answer.status == "not_found":
            line = f"“{query}” is not in the store."
        else:
            line = f"Name two entities: `{_esc(slack)('/chain compare <a> vs <b>')}`."
            if any(line == seen for _, _, seen in said):
                continue
        said.append((answer, other, line))
    return said


def compare_unresolved_text(a: Answer, b: Answer, *, slack: bool = False) -> str:
    """The text of :func:`compare_unresolved`, each side's candidates named (Slack shows them
    as buttons)."""
    lines = []
    for side, _other, line in compare_unresolved(a, b, slack=slack):
        lines.append(line if slack else line.replace("`", ""))
        if side.resolution.candidates:
            names = ", ".join(_candidate_label(c, slack=slack) for c in side.resolution.candidates)
            lines.append(f"  Did you mean: {names}")
    return "\n".join(lines)


def compare_text(a: Profile, b: Profile, *, slack: bool = False) -> str:
    """Two entities side by side: summary, policies, projects, then each one's first key
    figures, quoted and cited."""
    esc = _esc(slack)
    lines = _heading(f"{esc(a.entity.name)} vs {esc(b.entity.name)}")
    for profile in (a, b):
        lines.append("")
        lines.append(f"{esc(profile.entity.name)} — {esc(layout.profile_facts_line(profile))}")
        lines.append(_wrap(esc(profile.summary), "  "))
        for title, related in (("Policies", profile.policies), ("Projects", profile.projects)):
            names = list(dict.fromkeys(r.entity.name for r in related))
            shown = "; ".join(esc(n) for n in names) if names else "none stored"
            lines.append(_wrap(f"{title}: {shown}", "  ", "  "))
        figures = profile.key_figures[: layout.COMPARE_FACTS]
        if figures:
            more = len(profile.key_figures) - len(figures)
            lines.append("  Key figures" + (f" (and {more} more on the card):" if more else ":"))
            for fact in figures:
                lines += fact_lines(fact, slack=slack, indent="  ")
    return "\n".join(lines)


def short_card_text(profile: Profile, *, slack: bool = False) -> str:
    """A name, its summary, and its first key fact with the source."""
    esc = _esc(slack)
    lines = [f"{esc(profile.entity.name)} ({layout.kind_label(profile.entity.kind).lower()})"]
    lines.append(_wrap(esc(profile.summary), "  "))
    lead = lead_fact(profile)
    if lead is not None:
        lines += fact_lines(lead, slack=slack)
    return "\n".join(lines)


def lead_fact(profile: Profile) -> FactView | None:
    """The fact a short card shows: the first key figure, else the first fact."""
    if profile.key_figures:
        return profile.key_figures[0]
    return profile.facts[0] if profile.facts else None


def mentions_text(profiles: Sequence[Profile], *, slack: bool = False) -> str:
    if not profiles:
        return "No entity the store knows is named in that message."
    lines = [f"Named in that message ({len(profiles)}):"]
    for profile in profiles:
        lines.append("")
        lines.append(short_card_text(profile, slack=slack))
    return "\n".join(lines)


def error_text(message: str, *, slack: bool = False) -> str:
    return _esc(slack)(message)


def answer_text(answer: Answer, *, slack: bool = False, examples: Sequence[EntityRef] = ()) -> str:
    """The text for ``/chain QUERY``: a card, did-you-mean, not found, or usage."""
    resolution = answer.resolution
    if answer.status == "found" and answer.profile is not None:
        return card_text(answer.profile, slack=slack, resolution=resolution)
    if answer.status == "ambiguous":
        return did_you_mean_text(resolution, slack=slack)
    if answer.status == "not_found":
        return not_found_text(resolution, slack=slack)
    return usage_text(resolution, examples=examples, slack=slack)
