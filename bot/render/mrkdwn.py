"""Slack mrkdwn helpers. Every piece of user or article text goes through ``escape`` before it
reaches a Block Kit text object or a message's ``text`` fallback.

Slack asks for exactly three entities (``&amp;``, ``&lt;``, ``&gt;``) and nothing else; with
them escaped, ``<!channel>`` or ``<@U123>`` typed by a user is shown, never acted on.
"""

from __future__ import annotations

import re

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
# A mrkdwn entity we may have produced; truncation must never cut one in half.
_ENTITY_TAIL = re.compile(r"&[a-z]{0,3}$")
ELLIPSIS = "…"


def escape(text: str) -> str:
    """``&`` -> ``&amp;``, ``<`` -> ``&lt;``, ``>`` -> ``&gt;``; nothing else changes."""
    return text.translate(_ESCAPES)


def _plain_inline(text: str) -> str:
    """One line of escaped text, safe inside ``*...*`` or ``_..._`` (no line breaks)."""
    return escape(" ".join(text.split()))


def bold(text: str) -> str:
    """``*text*`` with ``text`` escaped (empty text gives an empty string, not ``**``)."""
    inner = _plain_inline(text)
    return f"*{inner}*" if inner else ""


def italic(text: str) -> str:
    inner = _plain_inline(text)
    return f"_{inner}_" if inner else ""


def quote(text: str) -> str:
    """A block quote: every line of ``text`` (escaped) prefixed with ``>``."""
    lines = escape(text).splitlines() or [""]
    return "\n".join(f">{line}" for line in lines)


def truncate(mrkdwn: str, limit: int) -> str:
    """Cut already-escaped mrkdwn to at most ``limit`` characters at a safe boundary.

    Never inside an ``&amp;``-style entity; prefers a line break or a space near the end, and
    marks the cut with an ellipsis.
    """
    if len(mrkdwn) <= limit:
        return mrkdwn
    if limit <= len(ELLIPSIS):
        return ELLIPSIS[:limit]
    cut = mrkdwn[: limit - len(ELLIPSIS)]
    cut = _ENTITY_TAIL.sub("", cut)
    # Prefer a whitespace boundary if one is reasonably close to the end.
    window = max(len(cut) - 200, len(cut) * 3 // 4)
    boundary = max(cut.rfind("\n", window), cut.rfind(" ", window))
    if boundary > 0:
        cut = cut[:boundary]
    return cut.rstrip() + ELLIPSIS


def truncate_plain(text: str, limit: int) -> str:
    """Cut plain (unescaped) text to ``limit`` characters, marking the cut with an ellipsis."""
    if len(text) <= limit:
        return text
    if limit <= len(ELLIPSIS):
        return ELLIPSIS[:limit]
    cut = text[: limit - len(ELLIPSIS)]
    boundary = cut.rfind(" ", max(0, len(cut) - 30))
    if boundary > 0:
        cut = cut[:boundary]
    return cut.rstrip() + ELLIPSIS
