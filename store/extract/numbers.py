"""Figures in sentences: money, counts, percentages, ranks, areas.

Machine translation from Chinese leaves traces the rules read on purpose: ``One hundred
million yuan`` is 亿 (10^8), ``N Thousands of`` is 万 (10^4), and classifiers stand for
the noun (``24、20、11 individual``, ``34 A project``, ``906 home`` for companies).
"""

from __future__ import annotations

import re
from typing import Any

_NUM = r"(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)"
_APPROX = r"(?:(?:more than|over|nearly|about|up to|almost|exceeded|exceeds|super) )?"
_SCALES = {
    "thousand": 1e3,
    "million": 1e6,
    "billion": 1e9,
    "one hundred million": 1e8,
    "thousands of": 1e4,
    "ten thousand": 1e4,
}
_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5,
    "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10,
}  # fmt: skip
_CLASSIFIERS = {"individual": "count", "home": "companies", "a project": "projects"}

_MONEY = re.compile(
    rf"{_APPROX}{_NUM}\s*(one hundred million|million|billion|thousand)?\s*(yuan|dollars|RMB)\b",
    re.I,
)
_PERCENT = re.compile(rf"{_APPROX}{_NUM}\s*%")
_AREA = re.compile(rf"{_APPROX}{_NUM}\s*(million |thousand )?square (?:meters|kilometers)", re.I)
_LIST = re.compile(r"(\d+(?:、\d+)+) (individual|home|A project)\b")
_CLASSIFIED = re.compile(
    rf"{_APPROX}{_NUM} (thousands of |ten thousand )?(individual|home|A project|[Pp]rojects)\b"
)
_COUNT = re.compile(
    rf"{_APPROX}(?<![\d.,]){_NUM} ((?:[\w-]+ ){{0,4}}?)"
    r"(companies|enterprises|experts|projects|people|guests|institutions|cities|units|programs"
    r"|occupations|measures|banks|merchants|varieties|scenarios|applications|offices|members"
    r"|families|copies|persons|parks)\b",
    re.I,
)
_RANK = re.compile(
    r"\b(?:ranked|ranks|ranking|in(?: the)?|tied for|with [\d.]+% in the) "
    r"(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth)(?: place)?\b",
    re.I,
)


def _value(number: str) -> float:
    return float(number.replace(",", ""))


def find_numbers(sentence: str, *, chinese_scales: bool = False) -> list[dict[str, Any]]:
    """``[{"value", "unit", "text"}]`` in the order the sentence gives them.

    ``chinese_scales``: the article renders 万 as ``Thousands of`` (10^4), as 002 does.
    """
    found: list[tuple[int, dict[str, Any]]] = []
    taken: list[tuple[int, int]] = []

    def add(start: int, end: int, value: float | list[float], unit: str) -> None:
        if any(s < end and start < e for s, e in taken):
            return
        taken.append((start, end))
        for one in value if isinstance(value, list) else [value]:
            found.append((start, {"value": one, "unit": unit, "text": sentence[start:end]}))

    for m in _MONEY.finditer(sentence):
        scale = _SCALES.get((m.group(2) or "").casefold(), 1.0)
        unit = "dollars" if m.group(3).casefold() == "dollars" else "yuan"
        add(m.start(), m.end(), _value(m.group(1)) * scale, unit)
    for m in _AREA.finditer(sentence):
        scale = _SCALES.get((m.group(2) or "").strip().casefold(), 1.0)
        add(m.start(), m.end(), _value(m.group(1)) * scale, "square meters")
    for m in _PERCENT.finditer(sentence):
        add(m.start(), m.end(), _value(m.group(1)), "percent")
    for m in _LIST.finditer(sentence):
        values = [float(part) for part in m.group(1).split("、")]
        add(m.start(), m.end(), values, _CLASSIFIERS[m.group(2).casefold()])
    for m in _CLASSIFIED.finditer(sentence):
        scale = 1e4 if chinese_scales and m.group(2) else 1.0
        unit = _CLASSIFIERS.get(m.group(3).casefold(), m.group(3).casefold())
        add(m.start(), m.end(), _value(m.group(1)) * scale, unit)
    for m in _COUNT.finditer(sentence):
        value = _value(m.group(1))
        if 1900 <= value <= 2100 and "." not in m.group(1):
            continue  # a year, as in "2020 China Industrial Blockchain Summit"
        between = m.group(2).casefold()
        if chinese_scales and between.startswith(("thousands of ", "ten thousand ")):
            value *= 1e4
        add(m.start(), m.end(), value, m.group(3).casefold())
    for m in _RANK.finditer(sentence):
        add(m.start(), m.end(), float(_ORDINALS[m.group(1).casefold()]), "rank")
    found.sort(key=lambda item: item[0])
    return [item for _, item in found]
