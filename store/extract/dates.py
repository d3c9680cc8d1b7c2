"""Dates in sentences, with the year the text leaves out.

``On December 19,`` takes its year from the context: the timeline heading above it
(``2017 year``) or the article's reference year (its publication year, or the year a report
covers). A month later than the article's publication takes the year before. 002 keeps the
Chinese order, so ``4 In January`` means April (4月) and ``end 10 End of month`` October.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

MONTHS = {name.casefold(): i for i, name in enumerate(calendar.month_name) if name}
_MONTH = "(January|February|March|April|May|June|July|August|September|October|November|December)"
_ORD = r"(?:st|nd|rd|th)?"


@dataclass(frozen=True)
class FoundDate:
    value: dt.date
    precision: str  # "day" | "month" | "year"
    start: int  # where the expression starts in the sentence
    text: str
    relative: bool = False  # "the same day": the date of the sentence before


@dataclass(frozen=True)
class DateContext:
    year: int  # the year a year-less date falls in
    published: dt.date  # the article's date (a year-less month after it is last year's)
    published_precision: str
    year_is_heading: bool = False  # the year comes from a timeline heading: never shift it


_PATTERNS: tuple[tuple[str, str], ...] = (
    # (regex, kind); kinds decide how groups are read
    (rf"\b(?:[Oo]n )?{_MONTH} (\d{{1,2}}){_ORD},? (\d{{4}})\b", "mdy"),
    (rf"\b(?:[Oo]n|[Ff]rom|[Bb]y|[Ss]ince|[Aa]s of) {_MONTH} (\d{{1,2}}){_ORD}\b", "md"),
    (rf"^{_MONTH} (\d{{1,2}}){_ORD}\b", "md"),
    (
        rf"\b(?:(?:[Ii]n|[Ss]ince|[Bb]y|[Aa]s early as|[Aa]t) )?"
        rf"(?:early |late |mid-|the end of |end of )?{_MONTH},? (\d{{4}})\b",
        "my",
    ),
    (
        rf"\b(?:[Ii]n|[Ss]ince|[Bb]y|[Aa]t the end of|[Ee]nd of) (?:early |late |mid-)?{_MONTH}\b",
        "m",
    ),
    # 002's Chinese order: "4 In January" (4月), "By 8 end of the month", "2021 year 11 month"
    (
        r"\b(?:(\d{4}) year )?(1[0-2]|[1-9]) "
        r"(?:[Ii]n (?:January|May|June)\b|[Ee]nd of (?:the )?month|month\b(?!s))",
        "cn_month",
    ),
    (
        r"(?:\b[Ii]n|^|\bAt the end of|\bend of|\b[Ss]ince|\b[Bb]y|\b[Aa]s early as|\b[Ww]ith) "
        r"(\d{4})(?: [Ii]n)?\b(?! year)",
        "y",
    ),
    (r"^(\d{4})(?: year)?\b", "y"),
    (r"\b(\d{4}) year\b", "y"),
)
_COMPILED = tuple((re.compile(p), kind) for p, kind in _PATTERNS)
_SAME_DAY = re.compile(r"\b(?:[Oo]n )?the same day\b|\b[Tt]he day before\b")
_LAST_YEAR = re.compile(r"^Last year\b|\b[Ll]ast year\b")


def _clamp(ctx: DateContext, month: int, day: int | None) -> dt.date:
    year = ctx.year
    if not ctx.year_is_heading:
        limit = ctx.published
        if ctx.published_precision != "day":
            last = calendar.monthrange(limit.year, limit.month)[1]
            limit = limit.replace(day=last)
        if year == limit.year and dt.date(year, month, day or 1) > limit:
            year -= 1
    return dt.date(year, month, day or 1)


def _safe(factory: object) -> dt.date | None:
    try:
        return factory()  # type: ignore[operator]
    except ValueError:
        return None


def find_date(sentence: str, ctx: DateContext) -> FoundDate | None:
    """The first date the sentence states, or None. Quoted titles and year ranges in
    parentheses such as ``(2018-2022)`` are not dates."""
    masked = _mask_titles(sentence)
    best: FoundDate | None = None
    for regex, kind in _COMPILED:
        for match in regex.finditer(masked):
            found = _read(match, kind, sentence, ctx)
            if found is not None:
                if best is None or found.start < best.start:
                    best = found
                break
    if best is None:
        same = _SAME_DAY.search(sentence)
        if same:
            return FoundDate(dt.date(ctx.year, 1, 1), "day", same.start(), same.group(0), True)
    return best


def _read(match: re.Match[str], kind: str, sentence: str, ctx: DateContext) -> FoundDate | None:
    text = match.group(0)
    start = match.start()
    g = match.groups()
    value: dt.date | None
    if kind == "mdy":
        value = _safe(lambda: dt.date(int(g[2]), MONTHS[g[0].casefold()], int(g[1])))
        precision = "day"
    elif kind == "md":
        value = _safe(lambda: _clamp(ctx, MONTHS[g[0].casefold()], int(g[1])))
        precision = "day"
    elif kind == "my":
        value = _safe(lambda: dt.date(int(g[1]), MONTHS[g[0].casefold()], 1))
        precision = "month"
    elif kind == "m":
        value = _safe(lambda: _clamp(ctx, MONTHS[g[0].casefold()], None))
        precision = "month"
    elif kind == "cn_month":
        year = int(g[0]) if g[0] else ctx.year
        if _LAST_YEAR.search(sentence[:start]) and not g[0]:
            year -= 1
        value = _safe(lambda: dt.date(year, int(g[1]), 1))
        precision = "month"
    else:  # "y"
        year = int(g[0])
        if not 1990 <= year <= 2100:
            return None
        value = dt.date(year, 1, 1)
        precision = "year"
    if value is None:
        return None
    return FoundDate(value, precision, start, text)


_QUOTED = re.compile(r"\"[^\"]{3,200}\"|“[^”]{3,200}”|《[^》]{1,200}》|\(\d{4}-\d{4}\)")


def _mask_titles(sentence: str) -> str:
    """The sentence with quoted titles blanked (same length, so offsets hold)."""
    return _QUOTED.sub(lambda m: " " * len(m.group(0)), sentence)
