"""Text normalisation shared by extraction and lookup, so both build the same keys."""

from __future__ import annotations

import html
import re
import unicodedata

_SLACK_ENTITIES = re.compile(r"&(amp|lt|gt);")
_WS = re.compile(r"\s+")


def unescape_slack(text: str) -> str:
    """Undo Slack's escaping of ``&``, ``<`` and ``>`` in slash-command text."""
    return _SLACK_ENTITIES.sub(lambda m: html.unescape(m.group(0)), text)


def strip_controls(text: str) -> str:
    """Drop control and format characters (keeps ordinary whitespace as a space)."""
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch.isspace():
            out.append(" ")
        elif cat[0] != "C":
            out.append(ch)
    return "".join(out)


def fold(text: str) -> str:
    """NFKC, case-folded, accents stripped, whitespace collapsed: ``Xī'ān`` -> ``xi'an``."""
    text = unicodedata.normalize("NFKC", strip_controls(text)).casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _WS.sub(" ", unicodedata.normalize("NFC", text)).strip()


def compact_key(text: str) -> str:
    """The comparison key: folded, with everything but letters and digits removed.

    ``Chong Qing``, ``chongqing`` and ``Chong-qing`` share ``chongqing``; Chinese characters
    are letters and stay.
    """
    return "".join(ch for ch in fold(text) if ch.isalnum())


def has_letters(text: str) -> bool:
    return any(ch.isalpha() for ch in text)
