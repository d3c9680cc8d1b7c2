"""The interactive contract between the renderers and the Slack listeners.

Every button the renderers draw has an ``action_id`` of the form ``<base>:<index>`` (Slack
requires action ids to be unique within a message, so the index tells twin buttons apart) and
a ``value`` that is small JSON (always well under Slack's 2,000 characters). Listeners register
with ``pattern(BASE)`` and read the value with ``decode(value)``::

    @app.action(actions.pattern(actions.OPEN))
    def open_card(ack, body, respond):
        value = actions.decode(body["actions"][0]["value"])  # a CardValue
        ...

Constants (``base`` of the action id) and the value each carries:

=================  ==================  ===============================================
``SHARE_CHANNEL``  ``CardValue``       post this card/timeline page for everyone
``SHARE_THREAD``   ``ThreadValue``     post the entity's short card in the thread
``PICK``           ``CardValue``       a "did you mean" candidate was chosen
``OPEN``           ``CardValue``       a related entity (or a list entry) was clicked
``MORE``           ``CardValue``       next page of a long card or timeline
``TIMELINE``       ``CardValue``       show the entity's timeline (``view="timeline"``)
``LIST_PAGE``      ``ListValue``       previous/next page of ``list <kind>``
``COMPARE``        ``CompareValue``    compare two entities (a "did you mean" in compare)
=================  ==================  ===============================================
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

SHARE_CHANNEL = "chain_share_channel"
SHARE_THREAD = "chain_share_thread"
PICK = "chain_pick"
OPEN = "chain_open"
MORE = "chain_more"
TIMELINE = "chain_timeline"
LIST_PAGE = "chain_list_page"
COMPARE = "chain_compare"

ALL_ACTIONS = (SHARE_CHANNEL, SHARE_THREAD, PICK, OPEN, MORE, TIMELINE, LIST_PAGE, COMPARE)

MAX_VALUE_CHARS = 2000

View = Literal["card", "timeline"]


def action_id(base: str, index: int = 0) -> str:
    """``chain_open:3``: the base plus an index that keeps ids unique within a message."""
    if base not in ALL_ACTIONS:
        raise ValueError(f"unknown action {base!r}")
    return f"{base}:{index}"


def pattern(base: str) -> re.Pattern[str]:
    """The regex a listener registers for every button of one kind."""
    return re.compile(rf"^{re.escape(base)}:\d+$")


def base_of(action_id_text: str) -> str:
    """``chain_open:3`` -> ``chain_open``."""
    return action_id_text.rsplit(":", 1)[0]


@dataclass(frozen=True)
class CardValue:
    """Which entity to show, in which view and from which page (0-based)."""

    slug: str
    page: int = 0
    view: View = "card"

    def to_dict(self) -> dict[str, Any]:
        return {"t": "card", "s": self.slug, "p": self.page, "v": self.view}


@dataclass(frozen=True)
class ThreadValue:
    """Share an entity's short card as a reply in ``thread_ts`` of ``channel``."""

    slug: str
    channel: str
    thread_ts: str

    def to_dict(self) -> dict[str, Any]:
        return {"t": "thread", "s": self.slug, "c": self.channel, "ts": self.thread_ts}


@dataclass(frozen=True)
class ListValue:
    """A page of ``list <kind>``: ``kind`` as the store names it (``city``, ``policy`` ...)."""

    kind: str
    offset: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"t": "list", "k": self.kind, "o": self.offset}


@dataclass(frozen=True)
class CompareValue:
    """Compare two entities by slug."""

    a: str
    b: str

    def to_dict(self) -> dict[str, Any]:
        return {"t": "compare", "a": self.a, "b": self.b}


ActionValue = CardValue | ThreadValue | ListValue | CompareValue


def encode(value: ActionValue) -> str:
    """Compact JSON for a button's ``value``."""
    text = json.dumps(value.to_dict(), ensure_ascii=False, separators=(",", ":"))
    if len(text) > MAX_VALUE_CHARS:
        raise ValueError("button value over Slack's 2,000 characters")
    return text


def _text(data: dict[str, Any], key: str, limit: int = 300) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value or len(value) > limit:
        raise ValueError(f"bad {key!r} in button value")
    return value


def _int(data: dict[str, Any], key: str) -> int:
    value = data.get(key, 0)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100_000:
        raise ValueError(f"bad {key!r} in button value")
    return value


def decode(value: str) -> ActionValue:
    """Parse a button value back. Raises ``ValueError`` on anything malformed, since button
    values come back from the network and are not to be trusted."""
    if not isinstance(value, str) or len(value) > MAX_VALUE_CHARS:
        raise ValueError("bad button value")
    try:
        data = json.loads(value)
    except json.JSONDecodeError:
        raise ValueError("bad button value") from None
    if not isinstance(data, dict):
        raise ValueError("bad button value")
    tag = data.get("t")
    if tag == "card":
        view = data.get("v", "card")
        if view not in ("card", "timeline"):
            raise ValueError("bad view in button value")
        return CardValue(slug=_text(data, "s"), page=_int(data, "p"), view=view)
    if tag == "thread":
        return ThreadValue(
            slug=_text(data, "s"), channel=_text(data, "c", 64), thread_ts=_text(data, "ts", 64)
        )
    if tag == "list":
        return ListValue(kind=_text(data, "k", 32), offset=_int(data, "o"))
    if tag == "compare":
        return CompareValue(a=_text(data, "a"), b=_text(data, "b"))
    raise ValueError("unknown button value")
