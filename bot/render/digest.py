"""A weekly digest (``store.digest.Digest``) as text for the CLI, as JSON, and as Slack
messages.

Slack: the first message is the top-level post (header, week, any late note or archive
label, lead paragraph, then as many items as fit); the rest continue in its thread. Messages
are cut between items, never inside one: a message holds at most ``limits.MAX_BLOCKS`` blocks
and about ``PAGE_CHARS`` characters of mrkdwn, and an item longer than a section block's 3,000
characters spans several blocks of the same message. A section cut between messages repeats
its heading, marked "(continued)". Every message has a plain-text fallback (title, part and the
titles it carries). All article text is mrkdwn-escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.render import limits
from bot.render.blocks import Block, Message
from bot.render.mrkdwn import bold, escape, italic, truncate
from store.digest import ARCHIVE_LABEL, Digest, DigestItem, DigestSection, week_label

# A readable message: far from Slack's hard limits, and a few items per screen.
PAGE_CHARS = 9000
FALLBACK_CHARS = 3000
# A "sentence" longer than this (only noise from an ingested file could be) is cut, marked,
# so that one item always fits one message.
ITEM_CHARS = 12000
CUT_MARK = " […] (continues in the source)"
NEW_MARK = "from a newly added article"


# --------------------------------------------------------------------------- text and JSON


def _date_label(item: DigestItem) -> str:
    return item.date.label() if item.date is not None else "undated"


def _edition_line(digest: Digest) -> str:
    week = week_label(digest.week_start, digest.week_end)
    if digest.edition == "archive":
        years = ", ".join(str(y) for y in digest.archive_years)
        earlier = f": the same week of {years}" if years else ""
        return f"{ARCHIVE_LABEL} (nothing new for {week}){earlier}"
    return f"Week of {week}"


def digest_text(digest: Digest, *, late_note: str | None = None) -> str:
    """The digest as plain text (the CLI's default output)."""
    lines = [digest.title, _edition_line(digest)]
    if late_note:
        lines.append(late_note)
    lines += ["", digest.lead]
    for section in digest.sections:
        lines += ["", section.name.upper(), ""]
        for item in section.items:
            lines.append(f"* {item.title}")
            lines.append(f"  {_date_label(item)} — {item.text}")
            new = f" — {NEW_MARK}" if item.new else ""
            lines.append(f"  Source: {item.source.label()}{new}")
            lines.append("")
        lines.append(section.comment)
    return "\n".join(lines).rstrip() + "\n"


def digest_json(digest: Digest) -> dict[str, Any]:
    """``{"week_start", "week_end", "title", "sections": [{"name", "items": [{"title",
    "date", "text", "source"}], "comment"}]}`` plus ``lead``, ``edition`` and
    ``archive_years``."""
    return {
        "week_start": digest.week_start.isoformat(),
        "week_end": digest.week_end.isoformat(),
        "title": digest.title,
        "lead": digest.lead,
        "edition": digest.edition,
        "archive_years": list(digest.archive_years),
        "sections": [
            {
                "name": section.name,
                "items": [
                    {
                        "title": item.title,
                        "date": item.date.label() if item.date is not None else None,
                        "text": item.text,
                        "source": item.source.label(),
                    }
                    for item in section.items
                ],
                "comment": section.comment,
            }
            for section in digest.sections
        ],
    }


# --------------------------------------------------------------------------- Slack


def item_mrkdwn(item: DigestItem) -> str:
    """``*Title*`` / ``2019-12-18 — sentence`` / ``_source_``, all escaped."""
    source = f"Source: {item.source.label()}"
    if item.new:
        source += f" — {NEW_MARK}"
    text = escape(item.text)
    if len(text) > ITEM_CHARS:
        text = truncate(text, ITEM_CHARS).removesuffix("…") + CUT_MARK
    return f"{bold(item.title)}\n{_date_label(item)} — {text}\n{italic(source)}"


def _split(mrkdwn: str, limit: int) -> list[str]:
    """Cut escaped mrkdwn into pieces of at most ``limit`` characters at whitespace, so an
    entity (``&amp;``) or a word is never split; nothing is dropped."""
    pieces = []
    rest = mrkdwn
    while len(rest) > limit:
        cut = max(rest.rfind("\n", 0, limit), rest.rfind(" ", 0, limit))
        if cut <= 0:
            # An unbroken run: cut at the limit, but before an entity that straddles it.
            amp = rest.rfind("&", limit - 4, limit)
            cut = amp if amp > 0 else limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    pieces.append(rest)
    return [p for p in pieces if p]


def _section_block(mrkdwn: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}}


def _header(text: str) -> Block:
    return {
        "type": "header",
        "text": {"type": "plain_text", "text": truncate(escape(text), limits.HEADER_TEXT)},
    }


def _context(mrkdwn: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": mrkdwn}]}


@dataclass
class _Unit:
    """Blocks that must stay in one message: a section heading with its first item, an
    item, or the last item with the section's comment."""

    section: str
    blocks: list[Block]
    titles: list[str]
    first_of_section: bool

    @property
    def chars(self) -> int:
        return sum(len(t["text"]) for b in self.blocks for t in _text_objects(b))


def _text_objects(block: Block) -> list[dict[str, Any]]:
    if block["type"] == "context":
        return list(block["elements"])
    return [block["text"]] if "text" in block else []


def _units(sections: Sequence[DigestSection]) -> list[_Unit]:
    units: list[_Unit] = []
    for section in sections:
        for position, item in enumerate(section.items):
            blocks: list[Block] = []
            if position == 0:
                blocks += [{"type": "divider"}, _header(section.name)]
            blocks += [_section_block(p) for p in _split(item_mrkdwn(item), limits.SECTION_TEXT)]
            if position == len(section.items) - 1 and section.comment:
                blocks.append(_context(italic(section.comment)))
            units.append(_Unit(section.name, blocks, [item.title], position == 0))
    return units


def _opening(digest: Digest, late_note: str | None) -> tuple[list[Block], bool]:
    """The top-level post's first blocks; and whether the header had to be shortened."""
    header = _header(digest.title)
    shortened = header["text"]["text"] != escape(digest.title)
    blocks: list[Block] = [header, _context(escape(_edition_line(digest)))]
    if digest.edition == "archive":
        blocks[1] = _context(f"{bold(ARCHIVE_LABEL)} · {escape(_edition_line(digest))}")
    if late_note:
        blocks.append(_section_block(f":hourglass: {escape(late_note)}"))
    lead = escape(digest.lead)
    if shortened:
        lead = f"{bold(digest.title)}\n{lead}"
    blocks += [_section_block(p) for p in _split(lead, limits.SECTION_TEXT)]
    return blocks, shortened


@dataclass
class _Page:
    blocks: list[Block] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    chars: int = 0


def _paginate(opening: list[Block], units: list[_Unit]) -> list[_Page]:
    # Room for the "part n of m" context that continuation pages start with.
    budget = limits.MAX_BLOCKS - 1
    first = _Page(
        blocks=list(opening),
        chars=sum(len(t["text"]) for b in opening for t in _text_objects(b)),
    )
    pages = [first]
    for unit in units:
        page = pages[-1]
        fits = (
            len(page.blocks) + len(unit.blocks) <= budget and page.chars + unit.chars <= PAGE_CHARS
        )
        if not fits and (page.titles or page is not first):
            page = _Page()
            pages.append(page)
            if not unit.first_of_section:
                page.blocks.append(_header(f"{unit.section} (continued)"))
        page.blocks += unit.blocks
        page.titles += unit.titles
        page.chars += unit.chars
    return pages


def _fallback(digest: Digest, page: _Page, part: int, parts: int, late_note: str | None) -> str:
    head = digest.title if parts == 1 else f"{digest.title} (part {part} of {parts})"
    lines = [head]
    if part == 1:
        lines.append(_edition_line(digest))
        if late_note:
            lines.append(late_note)
        if not page.titles:
            lines.append(digest.lead)
    lines += [f"• {title}" for title in page.titles]
    return truncate(escape("\n".join(lines)), FALLBACK_CHARS)


def digest_messages(digest: Digest, *, late_note: str | None = None) -> list[Message]:
    """The digest as Slack messages: ``[top-level post, thread replies...]``.

    ``late_note``, when the clock delivers late, is shown under the header (e.g. "This digest
    is late: it was due Monday 09:00 ..."). An empty digest is one message saying so.
    """
    opening, _ = _opening(digest, late_note)
    pages = _paginate(opening, _units(digest.sections))
    parts = len(pages)
    messages = []
    for part, page in enumerate(pages, start=1):
        blocks = page.blocks
        if part > 1:
            marker = f"{escape(digest.title)} · part {part} of {parts}"
            blocks = [_context(truncate(marker, limits.CONTEXT_TEXT)), *blocks]
        elif parts > 1:
            blocks = [*blocks, _context(f"Continued in the thread ({parts - 1} more).")]
        messages.append(
            Message(text=_fallback(digest, page, part, parts, late_note), blocks=blocks)
        )
    return messages
