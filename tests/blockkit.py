"""A reusable Block Kit checker for tests: ``assert_valid_message(message)``.

Each block goes through slack_sdk's own block models (``Block.parse(d).to_dict()`` raises
``SlackObjectFormationError`` on many over-long fields), and this module checks the limits those
models do not: 50 blocks per message (100 for a view), non-empty section text, 3,000 characters
of section text, field count and length, context elements, action id uniqueness, and a
plain ``text`` fallback under 4,000 characters. It also checks that no text object carries an
unescaped ``<`` or ``&``: user and article text must reach Slack escaped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from slack_sdk.models.blocks import Block

# Slack's limits, written out here rather than imported from bot.render.limits: an oracle that
# shared the renderer's constants could not catch a wrong one.
MAX_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
SECTION_TEXT = 3000
HEADER_TEXT = 150
FIELDS = 10
FIELD_TEXT = 2000
CONTEXT_ELEMENTS = 10
ACTIONS_ELEMENTS = 25
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
ID_CHARS = 255
MESSAGE_TEXT = 4000

# Anything a renderer is allowed to emit with a literal "<" or "&": only the three entities.
_BAD_AMP = re.compile(r"&(?!amp;|lt;|gt;)")


def _check_escaped(text: str, where: str) -> None:
    assert "<" not in text and ">" not in text.replace("\n>", "\n").lstrip(">"), (
        f"{where}: unescaped angle bracket in {text[:120]!r}"
    )
    assert not _BAD_AMP.search(text), f"{where}: unescaped & in {text[:120]!r}"


def _texts(obj: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every (path, text) of a text object inside a block."""
    if isinstance(obj, Mapping):
        if obj.get("type") in ("mrkdwn", "plain_text") and isinstance(obj.get("text"), str):
            yield path, obj["text"]
        for key, value in obj.items():
            yield from _texts(value, f"{path}.{key}")
    elif isinstance(obj, list):
        for index, value in enumerate(obj):
            yield from _texts(value, f"{path}[{index}]")


def _action_ids(obj: Any) -> Iterator[str]:
    if isinstance(obj, Mapping):
        if isinstance(obj.get("action_id"), str):
            yield obj["action_id"]
        for value in obj.values():
            yield from _action_ids(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from _action_ids(value)


def assert_valid_block(
    block: Mapping[str, Any], where: str = "block", *, allowed: Sequence[str] = ()
) -> None:
    parsed = Block.parse(dict(block))
    assert parsed is not None, f"{where}: slack_sdk does not know block type {block.get('type')}"
    parsed.to_dict()  # raises SlackObjectFormationError on over-long fields
    kind = block["type"]
    if kind == "section":
        text = block.get("text")
        fields = block.get("fields")
        assert text or fields, f"{where}: a section needs text or fields"
        if text:
            assert text["text"].strip(), f"{where}: empty section text"
            assert len(text["text"]) <= SECTION_TEXT, (
                f"{where}: section text is {len(text['text'])} characters (max {SECTION_TEXT})"
            )
        if fields:
            assert len(fields) <= FIELDS, f"{where}: {len(fields)} fields"
            for field in fields:
                assert 1 <= len(field["text"]) <= FIELD_TEXT, f"{where}: field length"
    elif kind == "header":
        assert 1 <= len(block["text"]["text"]) <= HEADER_TEXT, f"{where}: header length"
    elif kind == "context":
        assert 1 <= len(block["elements"]) <= CONTEXT_ELEMENTS, f"{where}: context elements"
        for element in block["elements"]:
            if "text" in element:
                assert element["text"].strip(), f"{where}: empty context text"
    elif kind == "actions":
        assert 1 <= len(block["elements"]) <= ACTIONS_ELEMENTS, f"{where}: actions elements"
    for element in _buttons(block):
        assert 1 <= len(element["text"]["text"]) <= BUTTON_TEXT, f"{where}: button text"
        assert len(element.get("value", "")) <= BUTTON_VALUE, f"{where}: button value"
        assert len(element["action_id"]) <= ID_CHARS, f"{where}: action_id length"
    if "block_id" in block:
        assert len(block["block_id"]) <= ID_CHARS, f"{where}: block_id length"
    for path, text in _texts(block):
        _check_escaped(_without(text, allowed), f"{where}{path}")


def _buttons(obj: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(obj, Mapping):
        if obj.get("type") == "button":
            yield obj
        for value in obj.values():
            yield from _buttons(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from _buttons(value)


def _without(text: str, allowed: Sequence[str]) -> str:
    for markup in allowed:
        text = text.replace(markup, "")
    return text


def assert_valid_blocks(
    blocks: Sequence[Mapping[str, Any]],
    *,
    max_blocks: int = MAX_BLOCKS,
    allowed: Sequence[str] = (),
) -> None:
    assert 1 <= len(blocks) <= max_blocks, f"{len(blocks)} blocks (limit {max_blocks})"
    for index, block in enumerate(blocks):
        assert_valid_block(block, f"blocks[{index}]", allowed=allowed)
    ids = list(_action_ids(list(blocks)))
    assert len(ids) == len(set(ids)), f"action ids repeat within the message: {ids}"
    json.dumps(list(blocks))  # serialisable as sent


def assert_valid_message(message: Any, *, allowed: Sequence[str] = ()) -> None:
    """Check a ``bot.render.blocks.Message`` (or a ``{"text", "blocks"}`` dict) against
    Slack's limits and the escaping rule. ``allowed`` lists markup the caller put there on
    purpose (e.g. ``"<@U123>"`` in "Shared by <@U123>"), exempt from the escaping check."""
    payload = message if isinstance(message, Mapping) else message.payload()
    text = payload.get("text")
    assert isinstance(text, str) and text.strip(), "message needs a plain text fallback"
    assert len(text) < MESSAGE_TEXT, f"text fallback is {len(text)} characters"
    _check_escaped(_without(text, allowed), "text")
    assert_valid_blocks(payload["blocks"], allowed=allowed)


def assert_valid_view(view: Mapping[str, Any], *, allowed: Sequence[str] = ()) -> None:
    """A Home tab or modal view: up to 100 blocks."""
    assert_valid_blocks(view["blocks"], max_blocks=MAX_VIEW_BLOCKS, allowed=allowed)
