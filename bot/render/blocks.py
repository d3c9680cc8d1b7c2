"""Store answers as Slack messages (Block Kit plus a plain ``text`` fallback).

Every renderer returns a ``Message`` that fits Slack's limits (``bot.render.limits``): long
cards are cut into pages at fact boundaries and carry a "More" button, never a truncated fact.
All user and article text is mrkdwn-escaped. Buttons use the ids and values of
``bot.render.actions``. The same answers render to text in ``bot.render.text``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.render import actions, layout, limits
from bot.render import text as plain
from bot.render.mrkdwn import bold, escape, quote, truncate
from store.answers import Answer, EntityRef, FactView, Profile, Resolution

Block = dict[str, Any]

# Page budget for cards and timelines: readable pages, far from Slack's hard limits.
PAGE_ITEMS = 12
PAGE_CHARS = 9000
FALLBACK_CHARS = 3000
RELATED_BUTTONS = 15
MENTIONS_MAX = 10
QUOTE_CHARS = 1500
NAMES_CHARS = 900


@dataclass(frozen=True)
class Message:
    """A Slack message: ``text`` is the plain fallback (always set, under 4,000 characters,
    already escaped), ``blocks`` the Block Kit. Where it goes (ephemeral, in channel, in a
    thread, replacing another) is the caller's choice."""

    text: str
    blocks: list[Block] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        """``{"text": ..., "blocks": ...}`` for chat.postMessage, respond() or say()."""
        return {"text": self.text, "blocks": self.blocks}


class _Ids:
    """Hands out action ids unique within one message."""

    def __init__(self) -> None:
        self._next = 0

    def __call__(self, base: str) -> str:
        self._next += 1
        return actions.action_id(base, self._next)


# --------------------------------------------------------------------------- block helpers


def _fallback(text: str) -> str:
    """The message ``text``: already escaped, non-empty, well under 4,000 characters."""
    return truncate(text.strip() or "Chain Bot", FALLBACK_CHARS)


def header(text: str) -> Block:
    return {
        "type": "header",
        "text": {"type": "plain_text", "text": truncate(escape(text), limits.HEADER_TEXT)},
    }


def section(mrkdwn: str, accessory: Block | None = None) -> Block:
    """A mrkdwn section; ``mrkdwn`` must already be escaped."""
    block: Block = {
        "type": "section",
        "text": {"type": "mrkdwn", "text": truncate(mrkdwn, limits.SECTION_TEXT) or " "},
    }
    if accessory is not None:
        block["accessory"] = accessory
    return block


def context(elements: Sequence[str]) -> Block:
    """A context block of escaped mrkdwn strings (at most ten)."""
    return {
        "type": "context",
        "elements": [
            {"type": "mrkdwn", "text": truncate(e, limits.CONTEXT_TEXT)}
            for e in elements[: limits.CONTEXT_ELEMENTS]
            if e
        ],
    }


def button(
    label: str, action_id: str, value: actions.ActionValue, style: str | None = None
) -> Block:
    block: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": truncate(escape(label), limits.BUTTON_TEXT)},
        "action_id": action_id,
        "value": actions.encode(value),
    }
    if style:
        block["style"] = style
    return block


def actions_block(buttons: Sequence[Block]) -> Block:
    return {"type": "actions", "elements": list(buttons[: limits.ACTIONS_ELEMENTS])}


def _names(entities: Sequence[EntityRef]) -> str:
    """``*A*, *B* and 12 more``, kept within NAMES_CHARS."""
    shown: list[str] = []
    used = 0
    for entity in entities:
        part = bold(entity.name)
        if used + len(part) > NAMES_CHARS and shown:
            break
        shown.append(part)
        used += len(part) + 2
    rest = len(entities) - len(shown)
    return ", ".join(shown) + (f" and {rest} more" if rest else "")


def fact_mrkdwn(fact: FactView) -> str:
    """Date and statement, the verbatim quote, a garble note when any, the source line."""
    said = layout.statement(fact)
    date = bold(fact.date.label()) if fact.date else ""
    lines = []
    if said is not None:
        lines.append(f"{date} — {escape(said)}" if date else escape(said))
    elif date:
        lines.append(date)
    lines.append(quote(truncate_quote(fact.quote)))
    note = layout.literal_note(fact)
    if note:
        lines.append(f"_{escape(note)}_")
    lines.append(f"Source: {escape(fact.source.label())}")
    return "\n".join(lines)


def truncate_quote(text: str) -> str:
    if len(text) <= QUOTE_CHARS:
        return text
    return text[: QUOTE_CHARS - 1].rstrip() + "…"


def item_mrkdwn(item: layout.Item) -> str:
    names = _names(item.entities) if item.entities else ""
    if item.fact is None:
        return f"• {names}"
    if item.repeat:
        date = f" ({item.fact.date.label()})" if item.fact.date else ""
        lead = f"{names}: " if names else ""
        return (
            f"• {lead}{escape(layout.reminder(item.fact))}{date}"
            f" — Source: {escape(item.fact.source.label())}"
        )
    body = fact_mrkdwn(item.fact)
    return f"{names}\n{body}" if names else body


# --------------------------------------------------------------------------- paging


@dataclass(frozen=True)
class _Entry:
    """One item on a page; ``heading`` is the section title shown above it, if any."""

    heading: str | None
    item: layout.Item
    block: Block


def _paginate(sections: Sequence[layout.Section]) -> list[list[_Entry]]:
    """Cut sections into pages of whole items. A section title travels with the item after
    it; a section continued on a new page repeats its title."""
    pages: list[list[_Entry]] = []
    page: list[_Entry] = []
    chars = 0
    for sec in sections:
        for index, item in enumerate(sec.items):
            block = section(item_mrkdwn(item))
            size = len(block["text"]["text"])
            if page and (len(page) >= PAGE_ITEMS or chars + size > PAGE_CHARS):
                pages.append(page)
                page, chars = [], 0
            heading = None
            if index == 0 or not page:
                heading = sec.title if index == 0 else f"{sec.title} (continued)"
            page.append(_Entry(heading, item, block))
            chars += size
    if page:
        pages.append(page)
    return pages


def _page_blocks(entries: Sequence[_Entry]) -> list[Block]:
    blocks: list[Block] = []
    for entry in entries:
        if entry.heading:
            blocks.append(section(bold(entry.heading)))
        blocks.append(entry.block)
    return blocks


def _page_fallback(head: Sequence[str], entries: Sequence[_Entry]) -> str:
    """The page as escaped plain text, stopping once the fallback budget is used."""
    lines = list(head)
    used = sum(len(line) + 1 for line in lines)
    for entry in entries:
        chunk = ([entry.heading] if entry.heading else []) + plain.item_lines(
            entry.item, slack=True
        )
        used += sum(len(line) + 1 for line in chunk)
        if used > FALLBACK_CHARS:
            lines.append("…")
            break
        lines += chunk
    return "\n".join(lines)


def card_page_count(profile: Profile, view: actions.View = "card") -> int:
    return max(1, len(_paginate(_view_sections(profile, view))))


def _view_sections(profile: Profile, view: actions.View) -> list[layout.Section]:
    if view == "timeline":
        return layout.timeline_sections(profile)
    return layout.card_sections(profile)


# --------------------------------------------------------------------------- cards


def _summary_block(profile: Profile, resolution: Resolution | None) -> Block:
    lines = []
    note = plain.match_note(resolution)
    if note:
        lines.append(f"_{note}_")  # echo_query already escaped the query
    lines.append(escape(profile.summary))
    names = layout.other_names(profile)
    if names:
        lines.append("Also known as: " + ", ".join(escape(n) for n in names))
    return section("\n".join(lines))


def _sources_block(profile: Profile) -> Block | None:
    if not profile.sources:
        return None
    labels = [escape(s.label()) for s in profile.sources]
    if len(labels) > limits.CONTEXT_ELEMENTS - 1:
        keep = limits.CONTEXT_ELEMENTS - 2
        labels = [*labels[:keep], f"and {len(labels) - keep} more"]
    return context(["*Sources*", *labels])


def _related_buttons(profile: Profile, ids: _Ids) -> Block | None:
    if not profile.related:
        return None
    return actions_block(
        [
            button(entity.name, ids(actions.OPEN), actions.CardValue(entity.slug))
            for entity in profile.related[:RELATED_BUTTONS]
        ]
    )


def render_card(
    profile: Profile,
    *,
    page: int = 0,
    view: actions.View = "card",
    shareable: bool = True,
    resolution: Resolution | None = None,
) -> Message:
    """An entity card (``view="card"``) or its timeline (``view="timeline"``), one page.

    Page 0 has the summary and the related-entity buttons; the last page has the sources;
    every page but the last has a "More" button. ``shareable`` adds "Share in channel" (off
    for a card that is already shared). A place with no facts gets its honest short answer.
    """
    if not profile.has_facts:
        return render_place(profile, resolution=resolution)
    slug = profile.entity.slug
    pages = _paginate(_view_sections(profile, view))
    if not pages:  # a timeline with no dated facts
        note = f"The store has no dated facts about {profile.entity.name}."
        return Message(
            text=_fallback(escape(note)),
            blocks=[header(f"Timeline: {profile.entity.name}"), section(escape(note))],
        )
    page = min(max(page, 0), len(pages) - 1)
    ids = _Ids()
    title = profile.entity.name if view == "card" else f"Timeline: {profile.entity.name}"
    blocks: list[Block] = [header(title)]
    facts_line = escape(layout.profile_facts_line(profile))
    if len(pages) > 1:
        facts_line += f" · page {page + 1} of {len(pages)}"
    if page == 0 and view == "card":
        blocks.append(_summary_block(profile, resolution))
        blocks.extend(_also_meant_blocks(resolution, ids))
    blocks.append(context([facts_line]))
    blocks.extend(_page_blocks(pages[page]))
    if page == len(pages) - 1:
        sources = _sources_block(profile)
        if sources:
            blocks.append(sources)
    if page == 0 and view == "card":
        related = _related_buttons(profile, ids)
        if related:
            blocks.append(section("*Related*"))
            blocks.append(related)
    controls = []
    if page + 1 < len(pages):
        controls.append(
            button(
                f"More ({page + 2} of {len(pages)})",
                ids(actions.MORE),
                actions.CardValue(slug, page + 1, view),
                style="primary",
            )
        )
    if view == "card" and profile.timeline:
        controls.append(
            button("Timeline", ids(actions.TIMELINE), actions.CardValue(slug, 0, "timeline"))
        )
    if view == "timeline":
        controls.append(button("Card", ids(actions.OPEN), actions.CardValue(slug)))
    if shareable:
        controls.append(
            button(
                "Share in channel", ids(actions.SHARE_CHANNEL), actions.CardValue(slug, page, view)
            )
        )
    if controls:
        blocks.append(actions_block(controls))
    head = [escape(title) + (f" (page {page + 1} of {len(pages)})" if len(pages) > 1 else "")]
    if page == 0 and view == "card":
        note = plain.match_note(resolution)
        head += [note] if note else []
        head.append(escape(profile.summary))
    fallback = _page_fallback(head, pages[page])
    return Message(text=_fallback(fallback), blocks=blocks)


def render_timeline(profile: Profile, *, page: int = 0, shareable: bool = True) -> Message:
    return render_card(profile, page=page, view="timeline", shareable=shareable)


def render_place(profile: Profile, *, resolution: Resolution | None = None) -> Message:
    """A real place the articles never name: what it is, and that the store has nothing."""
    line = escape(plain.place_text(profile))
    blocks = [header(profile.entity.name), section(line), *_also_meant_blocks(resolution, _Ids())]
    also = plain.also_meant_text(resolution)
    text = f"{line}\n{escape(also)}" if also else line
    return Message(text=_fallback(text), blocks=blocks)


def _also_meant_blocks(resolution: Resolution | None, ids: _Ids) -> list[Block]:
    """ "Not what you meant?" and a button per easily confused name, for a found answer."""
    if resolution is None or resolution.status != "found":
        return []
    buttons = _candidate_buttons(resolution, ids)
    return [context(["Not what you meant?"]), buttons] if buttons else []


# --------------------------------------------------------------------------- lookups


def _candidate_buttons(resolution: Resolution, ids: _Ids) -> Block | None:
    if not resolution.candidates:
        return None
    return actions_block(
        [
            button(
                f"{c.entity.name} ({layout.kind_label(c.entity.kind).lower()})",
                ids(actions.PICK),
                actions.CardValue(c.entity.slug),
            )
            for c in resolution.candidates
        ]
    )


def render_did_you_mean(resolution: Resolution) -> Message:
    ids = _Ids()
    lead = f"“{plain.echo_query(resolution.query)}” could mean more than one thing. Did you mean:"
    blocks = [section(lead)]
    buttons = _candidate_buttons(resolution, ids)
    if buttons:
        blocks.append(buttons)
    return Message(text=_fallback(plain.did_you_mean_text(resolution, slack=True)), blocks=blocks)


def render_not_found(resolution: Resolution) -> Message:
    ids = _Ids()
    blocks = [section(f"“{plain.echo_query(resolution.query)}” is not in the store.")]
    buttons = _candidate_buttons(resolution, ids)
    if buttons:
        blocks.append(section("Closest names it knows:"))
        blocks.append(buttons)
    blocks.append(
        context(["Browse with `/chain list cities` (or provinces, policies, projects, companies)."])
    )
    return Message(text=_fallback(plain.not_found_text(resolution, slack=True)), blocks=blocks)


def render_usage(
    resolution: Resolution | None = None, *, examples: Sequence[EntityRef] = ()
) -> Message:
    """Short usage with the grammar; ``examples`` from the store become buttons."""
    ids = _Ids()
    blocks: list[Block] = [header("Chain Bot")]
    reason = plain.usage_reason(resolution)
    if reason:
        blocks.append(section(escape(reason)))
    blocks.append(
        section("Chain Bot answers from five articles on China's blockchain industry, citing each.")
    )
    grammar = "\n".join(f"`{escape(cmd)}` {escape(what)}" for cmd, what in plain.USAGE_LINES)
    blocks.append(section(grammar))
    if examples:
        blocks.append(section("*Try:*"))
        blocks.append(
            actions_block(
                [button(e.name, ids(actions.OPEN), actions.CardValue(e.slug)) for e in examples[:5]]
            )
        )
    return Message(
        text=_fallback(plain.usage_text(resolution, examples=examples, slack=True)), blocks=blocks
    )


def render_answer(
    answer: Answer,
    *,
    page: int = 0,
    shareable: bool = True,
    examples: Sequence[EntityRef] = (),
) -> Message:
    """``/chain QUERY``: the card, did-you-mean, not found, or usage."""
    if answer.status == "found" and answer.profile is not None:
        return render_card(
            answer.profile, page=page, shareable=shareable, resolution=answer.resolution
        )
    if answer.status == "ambiguous":
        return render_did_you_mean(answer.resolution)
    if answer.status == "not_found":
        return render_not_found(answer.resolution)
    return render_usage(answer.resolution, examples=examples)


# --------------------------------------------------------------------------- lists


def render_list(
    kind: str, entities: Sequence[EntityRef], total: int, *, offset: int = 0, limit: int = 10
) -> Message:
    """One page of ``list <kind>``: each entity with an "Open" button, then prev/next."""
    ids = _Ids()
    label = layout.plural(kind)
    if total == 0:
        line = escape(f"The store has no {label} yet.")
        return Message(text=_fallback(line), blocks=[section(line)])
    shown = list(entities[: min(limit, 40)])
    blocks: list[Block] = [
        header(f"{label.capitalize()} in the store"),
        context([f"{offset + 1}–{offset + len(shown)} of {total}"]),
    ]
    for entity in shown:
        blocks.append(
            section(
                bold(entity.name),
                accessory=button("Open", ids(actions.OPEN), actions.CardValue(entity.slug)),
            )
        )
    nav = []
    if offset > 0:
        nav.append(
            button(
                "Previous", ids(actions.LIST_PAGE), actions.ListValue(kind, max(0, offset - limit))
            )
        )
    if offset + len(shown) < total:
        nav.append(
            button("Next", ids(actions.LIST_PAGE), actions.ListValue(kind, offset + len(shown)))
        )
    if nav:
        blocks.append(actions_block(nav))
    fallback = plain.list_text(kind, shown, total, offset, slack=True)
    return Message(text=_fallback(fallback), blocks=blocks)


# --------------------------------------------------------------------------- compare


def _bullets(names: Sequence[str]) -> str:
    unique = list(dict.fromkeys(names))
    if not unique:
        return "_none stored_"
    return truncate("\n".join(f"• {escape(n)}" for n in unique), limits.FIELD_TEXT)


def render_compare(a: Profile, b: Profile) -> Message:
    """Two entities side by side: summaries, policies and projects in two columns, then each
    one's key figures with quotes and sources."""
    ids = _Ids()
    fields = []
    for profile in (a, b):
        fields.append(f"{bold(profile.entity.name)}\n{escape(layout.profile_facts_line(profile))}")
    for profile in (a, b):
        fields.append(escape(profile.summary))
    for title, attr in (("Policies", "policies"), ("Projects", "projects")):
        for profile in (a, b):
            names = [r.entity.name for r in getattr(profile, attr)]
            fields.append(f"*{title}*\n{_bullets(names)}")
    blocks: list[Block] = [
        header(f"{a.entity.name} vs {b.entity.name}"),
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": truncate(f, limits.FIELD_TEXT) or " "} for f in fields
            ],
        },
    ]
    for profile in (a, b):
        figures = profile.key_figures[: layout.COMPARE_FACTS]
        if not figures:
            continue
        more = len(profile.key_figures) - len(figures)
        title = f"*Key figures: {escape(profile.entity.name)}*"
        if more:
            title += f" (and {more} more on the card)"
        blocks.append(section(title))
        blocks.extend(section(fact_mrkdwn(f)) for f in figures)
    blocks.append(
        actions_block(
            [
                button(p.entity.name, ids(actions.OPEN), actions.CardValue(p.entity.slug))
                for p in (a, b)
            ]
        )
    )
    return Message(text=_fallback(plain.compare_text(a, b, slack=True)), blocks=blocks)


def render_compare_unresolved(a: Answer, b: Answer) -> Message:
    """``compare X vs Y`` when a side did not name one entity: says which, and offers
    buttons that compare each candidate with the side that did resolve."""
    ids = _Ids()
    blocks: list[Block] = []
    lines: list[str] = []
    for answer, other, line in plain.compare_unresolved(a, b, slack=True):
        lines.append(line)
        blocks.append(section(line))
        other_slug = other.profile.entity.slug if other.profile is not None else None
        buttons = []
        for candidate in answer.resolution.candidates:
            label = f"{candidate.entity.name} ({layout.kind_label(candidate.entity.kind).lower()})"
            if other_slug is not None:
                pair = (
                    (candidate.entity.slug, other_slug)
                    if answer is a
                    else (other_slug, candidate.entity.slug)
                )
                buttons.append(
                    button(label, ids(actions.COMPARE), actions.CompareValue(pair[0], pair[1]))
                )
            else:
                value = actions.CardValue(candidate.entity.slug)
                buttons.append(button(label, ids(actions.PICK), value))
        if buttons:
            blocks.append(actions_block(buttons))
    return Message(text=_fallback("\n".join(lines)), blocks=blocks)


# --------------------------------------------------------------------------- mentions


def _short_card_block(profile: Profile, accessory: Block | None) -> Block:
    head = f"{bold(profile.entity.name)} ({escape(layout.kind_label(profile.entity.kind).lower())})"
    lines = [head, escape(profile.summary)]
    lead = plain.lead_fact(profile)
    if lead is not None:
        lines.append(fact_mrkdwn(lead))
    return section("\n".join(lines), accessory=accessory)


def render_short_card(
    profile: Profile, *, channel: str | None = None, thread_ts: str | None = None
) -> Message:
    """One entity, briefly (an autolink reply). With ``channel`` and ``thread_ts`` it has a
    "Share in thread" button."""
    return render_mentions([profile], channel=channel, thread_ts=thread_ts, heading=False)


def render_mentions(
    profiles: Sequence[Profile],
    *,
    channel: str | None = None,
    thread_ts: str | None = None,
    heading: bool = True,
) -> Message:
    """The entities named in a message, each as a short card; with ``channel`` and
    ``thread_ts`` (the message looked up) each gets a "Share in thread" button."""
    ids = _Ids()
    if not profiles:
        line = escape(plain.mentions_text([]))
        return Message(text=_fallback(line), blocks=[section(line)])
    shown = list(profiles[:MENTIONS_MAX])
    blocks: list[Block] = []
    if heading:
        blocks.append(context([f"Named in that message: {len(profiles)}"]))
    for profile in shown:
        accessory = None
        if channel and thread_ts:
            accessory = button(
                "Share in thread",
                ids(actions.SHARE_THREAD),
                actions.ThreadValue(profile.entity.slug, channel, thread_ts),
            )
        blocks.append(_short_card_block(profile, accessory))
    if len(profiles) > len(shown):
        rest = [p.entity.name for p in profiles[len(shown) :]]
        blocks.append(context([escape("Also named: " + ", ".join(rest))]))
    if heading:
        fallback = plain.mentions_text(shown, slack=True)
    else:
        fallback = "\n\n".join(plain.short_card_text(p, slack=True) for p in shown)
    return Message(text=_fallback(fallback), blocks=blocks)


# --------------------------------------------------------------------------- errors


def render_error(message: str, *, detail: str | None = None) -> Message:
    """An explanation for the user (a Slack error, a bad button): ``message`` is shown as
    plain words (escaped), ``detail`` as a smaller line."""
    blocks = [section(f":warning: {escape(message)}")]
    if detail:
        blocks.append(context([escape(detail)]))
    return Message(text=_fallback(escape(message)), blocks=blocks)
