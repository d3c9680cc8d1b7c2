"""Cutting a document into passages: headings, roundup item titles and sentences, each with
exact character offsets into the document text and the headings that govern it.

Articles here are one paragraph per line. What a line is:

* a timeline year heading (``2017 year``) starts a timeline section;
* in a roundup, a line starting with one of the roundup's section names is a section heading,
  and a short unpunctuated line inside a section is an item's bold title; the paragraph right
  after it is the item, later paragraphs are the editor's comment;
* any other short line without closing punctuation is a heading;
* a line entirely in parentheses is a byline; a line in the header is metadata;
* everything else is split into sentences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from store.extract.source import SourceDocument

_TIMELINE_YEAR = re.compile(r"^(\d{4}) year$")
_TERMINAL = re.compile(r"[.!;:。…]['\"”’)]*$")
# A sentence ends at . ! ? followed by space and something that can start a sentence.
_SENTENCE_END = re.compile(r"[.!?。](?:['\"”’)])?\s+(?=['\"“‘(]?[A-Z0-9▲\u4e00-\u9fff])")
_HEADING_MAX = 160
_ITEM_TITLE_MAX = 300  # a roundup's bold item titles run long
# "Co., Ltd. Guangshun" never occurs, but "Co., Ltd. opened" does: abbreviations that do
# not end a sentence when a lowercase word follows are already safe; these never end one.
_NO_BREAK_BEFORE = ("Co.", "No.", "Mr.", "Dr.", "St.", "U.S.")


@dataclass
class Segment:
    paragraph: int
    start: int
    end: int
    text: str
    kind: str  # "heading" | "title" | "sentence"
    section: str | None = None  # roundup section or timeline year ("2017 year")
    item_title: str | None = None
    first_in_paragraph: bool = False
    in_timeline: bool = False
    minable: bool = False  # a sentence of the article proper


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans inside ``text``, trimmed; a piece with no letter or digit joins the
    sentence before it (the articles have stray ``. .``)."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        head = text[start : match.start() + 1]
        if head.endswith(_NO_BREAK_BEFORE):
            continue
        cut = match.end()
        spans.append((start, cut))
        start = cut
    spans.append((start, len(text)))
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        piece = text[s:e]
        if merged and not any(ch.isalnum() for ch in piece):
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    out = []
    for s, e in merged:
        piece = text[s:e]
        lead = len(piece) - len(piece.lstrip())
        trail = len(piece) - len(piece.rstrip())
        if e - trail > s + lead:
            out.append((s + lead, e - trail))
    return out


def _is_heading_like(line: str, limit: int = _HEADING_MAX) -> bool:
    if len(line) > limit or line.startswith("▲"):
        return False
    if line.endswith("?"):
        return len(line) < 100
    return not _TERMINAL.search(line)


def _roundup_section(line: str, sections: tuple[str, ...]) -> str | None:
    folded = line.casefold()
    for name in sections:
        if folded.startswith(name.casefold()):
            return name
    return None


def segment(doc: SourceDocument, roundup_sections: tuple[str, ...] = ()) -> list[Segment]:
    """Passages of ``doc`` up to ``body_end`` (the boilerplate after it gets none)."""
    segments: list[Segment] = []
    text = doc.text
    pos = 0
    paragraph = -1
    section: str | None = None
    in_timeline = False
    item_title: str | None = None
    after_title = False
    for raw_line in text[: doc.body_end].splitlines(keepends=True):
        line_start = pos
        pos += len(raw_line)
        line = raw_line.strip()
        if not line:
            continue
        paragraph += 1
        start = line_start + (len(raw_line) - len(raw_line.lstrip()))
        end = start + len(line)
        if start < doc.body_start or (line.startswith("(") and line.endswith(")")):
            segments.append(Segment(paragraph, start, end, line, "heading"))
            continue
        year = _TIMELINE_YEAR.match(line)
        if year:
            in_timeline, section = True, line
            segments.append(Segment(paragraph, start, end, line, "heading", section))
            continue
        roundup_name = _roundup_section(line, roundup_sections) if doc.is_roundup else None
        if roundup_name:
            section, item_title, after_title = roundup_name, None, False
            segments.append(Segment(paragraph, start, end, line, "heading", section))
            continue
        in_section = doc.is_roundup and section is not None
        if _is_heading_like(line, _ITEM_TITLE_MAX if in_section else _HEADING_MAX):
            if in_section:
                item_title, after_title = line, True
                segments.append(Segment(paragraph, start, end, line, "title", section, line))
            else:
                in_timeline = False
                if not doc.is_roundup:
                    section = None
                segments.append(Segment(paragraph, start, end, line, "heading"))
            continue
        if doc.is_roundup and not after_title:
            item_title = None  # the editor's comment closing a section
        after_title = False
        for index, (s, e) in enumerate(split_sentences(line)):
            segments.append(
                Segment(
                    paragraph,
                    start + s,
                    start + e,
                    line[s:e],
                    "sentence",
                    section,
                    item_title,
                    first_in_paragraph=index == 0,
                    in_timeline=in_timeline,
                    minable=True,
                )
            )
    return segments
