"""Rendering a digest: text, the JSON shape, and Slack messages within Slack's limits, split
between items (never inside one), escaped, with a fallback, late note and archive label."""

from __future__ import annotations

import datetime as dt
import json
import re

from blockkit import assert_valid_message

from bot.render.blocks import Message
from bot.render.digest import digest_json, digest_messages, digest_text, item_mrkdwn
from store import Store
from store.answers import EntityRef, FactDate, SourceRef
from store.digest import Digest, DigestItem, DigestSection, compose_digest

WEEK = dt.date(2019, 12, 16)
SOURCE = SourceRef("weekly", "Weekly News", "Publisher & Co", FactDate(WEEK, "month"))


def item(n: int, text: str = "", *, title: str | None = None, new: bool = False) -> DigestItem:
    return DigestItem(
        title=title or f"Item {n}",
        date=FactDate(WEEK + dt.timedelta(days=n % 6), "day"),
        text=text or f"On December {16 + n % 6}, event number {n} happened.",
        source=SOURCE,
        entities=(EntityRef("city:shanghai", "Shanghai", "city"),),
        new=new,
    )


def digest(
    sections: dict[str, list[DigestItem]], *, title: str = "T", edition: str = "weekly"
) -> Digest:
    return Digest(
        week_start=WEEK,
        week_end=WEEK + dt.timedelta(days=6),
        title=title,
        lead="3 items for the week.",
        sections=tuple(
            DigestSection(name, tuple(items), f"{len(items)} items.")
            for name, items in sections.items()
        ),
        edition=edition,  # type: ignore[arg-type]
        archive_years=(2019,) if edition == "archive" else (),
    )


def block_texts(message: Message) -> str:
    out = []
    for block in message.blocks:
        if "text" in block:
            out.append(block["text"]["text"])
        for element in block.get("elements", []):
            out.append(element.get("text", ""))
    return "\n".join(out)


def item_home(messages: list[Message], rendered: str) -> list[int]:
    """Indexes of the messages whose section blocks, joined, contain the whole item."""
    homes = []
    for index, message in enumerate(messages):
        sections = [b["text"]["text"] for b in message.blocks if b["type"] == "section"]
        joined = " ".join(sections)
        compact = re.sub(r"\s+", " ", joined)
        if re.sub(r"\s+", " ", rendered) in compact:
            homes.append(index)
    return homes


# --------------------------------------------------------------------------- text and JSON


def test_json_has_exactly_the_documented_shape() -> None:
    d = digest({"Government Update": [item(1)], "Listed companies": [item(2, new=True)]})
    data = digest_json(d)
    assert {"week_start", "week_end", "title", "sections"} <= set(data)
    assert data["week_start"] == "2019-12-16" and data["week_end"] == "2019-12-22"
    for section in data["sections"]:
        assert set(section) == {"name", "items", "comment"}
        for entry in section["items"]:
            assert set(entry) == {"title", "date", "text", "source"}
    first = data["sections"][0]["items"][0]
    assert first == {
        "title": "Item 1",
        "date": "2019-12-17",
        "text": "On December 17, event number 1 happened.",
        "source": "Publisher & Co, Weekly News (December 2019)",
    }
    json.dumps(data)


def test_text_lists_sections_items_sources_and_comments() -> None:
    d = digest({"Government Update": [item(1)], "Listed companies": [item(2, new=True)]})
    text = digest_text(d, late_note="This digest is late.")
    lines = text.splitlines()
    assert lines[:3] == ["T", "Week of 16-22 December 2019", "This digest is late."]
    assert text.index("GOVERNMENT UPDATE") < text.index("LISTED COMPANIES")
    assert "* Item 2\n  2019-12-18 — On December 18, event number 2 happened." in text
    assert "Source: Publisher & Co, Weekly News (December 2019) — from a newly added" in text
    assert "1 items." in text


# --------------------------------------------------------------------------- Slack


def test_a_short_digest_is_one_valid_message() -> None:
    d = digest(
        {"Government Update": [item(1), item(2)]}, title="Industry Blockchain Weekly News 丨 X"
    )
    (message,) = digest_messages(d)
    assert_valid_message(message)
    assert message.blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Industry Blockchain Weekly News 丨 X"},
    }
    texts = block_texts(message)
    assert "Week of 16-22 December 2019" in texts
    assert "*Item 1*\n2019-12-17 — On December 17, event number 1 happened." in texts
    assert "_2 items._" in texts  # the section comment closes the section
    assert message.text.startswith("Industry Blockchain Weekly News 丨 X\nWeek of")
    assert "• Item 2" in message.text


def test_a_long_week_continues_in_the_thread_never_mid_item() -> None:
    long_text = "On December 17, " + "a long sentence about blockchain landing " * 60
    sections = {
        name: [item(n, f"{long_text} number {name[:3]}{n}.") for n in range(12)]
        for name in ("Government Update", "Application landing", "Listed companies")
    }
    d = digest(sections)
    messages = digest_messages(d)
    assert len(messages) > 3
    for message in messages:
        assert_valid_message(message)
    # Every item lives, whole, in exactly one message.
    for items in d.sections:
        for entry in items.items:
            assert len(item_home(messages, item_mrkdwn(entry))) == 1, entry.text[-20:]
    # Continuation messages say which part they are, and cut sections say "(continued)".
    assert messages[1].blocks[0]["elements"][0]["text"].endswith(f"part 2 of {len(messages)}")
    assert f"part 2 of {len(messages)}" in messages[1].text
    assert any(
        b["type"] == "header" and b["text"]["text"].endswith("(continued)")
        for m in messages[1:]
        for b in m.blocks
    )
    assert "Continued in the thread" in block_texts(messages[0])


def test_many_short_items_respect_the_block_limit() -> None:
    d = digest({"Application landing": [item(n) for n in range(120)]})
    messages = digest_messages(d)
    assert len(messages) >= 3
    for message in messages:
        assert_valid_message(message)
        assert len(message.blocks) <= 50
    shown = sum(1 for m in messages for b in m.blocks if b["type"] == "section")
    assert shown == 120 + 1  # every item, plus the lead


def test_an_item_over_3000_characters_spans_blocks_of_one_message() -> None:
    text = "On December 17, " + " ".join(f"word{n} &" for n in range(700))
    assert len(text) > 3500
    d = digest({"Application landing": [item(1, text)]})
    (message,) = digest_messages(d)
    assert_valid_message(message)
    sections = [b["text"]["text"] for b in message.blocks if b["type"] == "section"]
    rendered = item_mrkdwn(d.sections[0].items[0])
    assert len(rendered) > 6000
    assert len(sections) == 1 + -(-len(rendered) // 3000)  # the lead, then the item's blocks
    assert item_home([message], item_mrkdwn(d.sections[0].items[0])) == [0]


def test_a_long_title_is_shortened_in_the_header_only() -> None:
    title = "Industry Blockchain Weekly News 丨 " + "very long headline " * 12
    d = digest({"Government Update": [item(1)]}, title=title)
    (message,) = digest_messages(d)
    assert_valid_message(message)
    header = message.blocks[0]["text"]["text"]
    assert len(header) <= 150 and header.endswith("…")
    assert f"*{' '.join(title.split())}*" in block_texts(message)
    assert message.text.startswith(title)


def test_article_text_is_escaped_everywhere() -> None:
    evil = item(1, "On December 17, <!channel> & <@U123> met at <https://x.test|here>.")
    d = digest({"Government Update": [evil]}, title="News 丨 <!here> & more")
    (message,) = digest_messages(d, late_note="due <soon> & late")
    assert_valid_message(message)  # checks every text object and the fallback
    texts = block_texts(message)
    assert "&lt;!channel&gt; &amp; &lt;@U123&gt;" in texts
    assert "News 丨 &lt;!here&gt; &amp; more" in message.text
    assert "due &lt;soon&gt; &amp; late" in texts


def test_late_note_and_archive_label() -> None:
    late = "This digest is late: it was due Monday 09:00 Europe/Paris (08:00 UTC)."
    d = digest({"Government Update": [item(1)]}, edition="archive")
    (message,) = digest_messages(d, late_note=late)
    assert_valid_message(message)
    texts = block_texts(message)
    assert "*From the archive* · From the archive (nothing new for 16-22 December 2019)" in texts
    assert "the same week of 2019" in texts
    assert late in texts and late in message.text
    assert digest_text(d).splitlines()[1].startswith("From the archive")


def test_an_empty_week_is_one_message_saying_so() -> None:
    empty = Digest(
        week_start=WEEK,
        week_end=WEEK + dt.timedelta(days=6),
        title="Industry Blockchain Weekly News 丨 Nothing new this week",
        lead="The store has no events dated 16-22 December 2019.",
        sections=(),
    )
    (message,) = digest_messages(empty)
    assert_valid_message(message)
    assert "The store has no events dated 16-22 December 2019." in block_texts(message)
    assert "The store has no events dated" in message.text
    assert digest_json(empty)["sections"] == []


# --------------------------------------------------------------------------- the seed store


def test_seed_week_renders_within_limits(store: Store) -> None:
    d = compose_digest(store.engine, WEEK)
    messages = digest_messages(d, late_note="This digest is late.")
    assert messages
    for message in messages:
        assert_valid_message(message)
    for entry in d.items:
        assert len(item_home(messages, item_mrkdwn(entry))) == 1, entry.title
    text = digest_text(d)
    assert text.startswith("Industry Blockchain Weekly News 丨 ")
    assert all(entry.title in text for entry in d.items)
