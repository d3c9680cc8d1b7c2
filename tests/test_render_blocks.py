"""Block Kit rendering: every message within Slack's limits, escaped, paged, with buttons
the listeners can decode."""

from __future__ import annotations

import itertools
import json
import re

import pytest
import render_samples as samples
from blockkit import assert_valid_message
from slack_sdk.errors import SlackObjectFormationError

from bot.render import actions, blocks, mrkdwn
from store.answers import Answer, Profile, Resolution
from store.api import Store

# --------------------------------------------------------------------------- mrkdwn


def test_escape_is_exactly_three_entities() -> None:
    assert mrkdwn.escape("a & b < c > d") == "a &amp; b &lt; c &gt; d"
    assert mrkdwn.escape("<!channel> <@U1>") == "&lt;!channel&gt; &lt;@U1&gt;"
    # Nothing else changes: quotes, asterisks, emoji, Chinese, already-escaped text.
    assert mrkdwn.escape("\"'*_~` 青岛 🚀") == "\"'*_~` 青岛 🚀"
    assert mrkdwn.escape("&amp;") == "&amp;amp;"


def test_bold_and_quote_escape_first() -> None:
    assert mrkdwn.bold("<@U1> & co") == "*&lt;@U1&gt; &amp; co*"
    assert mrkdwn.italic("a\n<b>") == "_a &lt;b&gt;_"
    assert mrkdwn.bold("") == ""
    assert mrkdwn.quote("one <\ntwo &") == ">one &lt;\n>two &amp;"


@pytest.mark.parametrize("limit", range(1, 60))
def test_truncate_never_cuts_an_entity(limit: int) -> None:
    text = mrkdwn.escape("<&>" * 30 + " tail words here")
    cut = mrkdwn.truncate(text, limit)
    assert len(cut) <= limit
    body = cut.removesuffix(mrkdwn.ELLIPSIS)
    assert re.fullmatch(r"(?:&amp;|&lt;|&gt;|[^&])*", body), cut


def test_truncate_keeps_short_text() -> None:
    assert mrkdwn.truncate("short", 10) == "short"


# --------------------------------------------------------------------------- actions


def test_action_values_round_trip() -> None:
    for value in (
        actions.CardValue("city:qingdao", 2, "timeline"),
        actions.ThreadValue("company:bubi", "C123", "1700000000.000100"),
        actions.ListValue("company", 20),
        actions.CompareValue("city:qingdao", "city:chongqing"),
    ):
        encoded = actions.encode(value)
        assert len(encoded) <= 2000
        assert actions.decode(encoded) == value


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "not json",
        "[]",
        '{"t":"card"}',
        '{"t":"card","s":"x","p":-1}',
        '{"t":"card","s":"x","p":true}',
        '{"t":"card","s":"x","v":"evil"}',
        '{"t":"nope","s":"x"}',
        '{"t":"list","k":"city","o":"3"}',
        "x" * 2001,
    ],
)
def test_malformed_values_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError):
        actions.decode(bad)


def test_action_ids_and_patterns() -> None:
    assert actions.action_id(actions.OPEN, 3) == "chain_open:3"
    assert actions.pattern(actions.OPEN).match("chain_open:3")
    assert not actions.pattern(actions.OPEN).match("chain_open_x:3")
    assert actions.base_of("chain_more:12") == actions.MORE
    with pytest.raises(ValueError):
        actions.action_id("unknown")


# --------------------------------------------------------------------------- helpers


def _buttons(message: blocks.Message) -> list[dict]:
    found = []
    for block in message.blocks:
        found += [e for e in block.get("elements", []) if e.get("type") == "button"]
        accessory = block.get("accessory")
        if accessory and accessory.get("type") == "button":
            found.append(accessory)
    return found


def _by_action(message: blocks.Message, base: str) -> list[actions.ActionValue]:
    return [
        actions.decode(b["value"])
        for b in _buttons(message)
        if actions.base_of(b["action_id"]) == base
    ]


def _all_pages(profile: Profile, view: actions.View = "card") -> list[blocks.Message]:
    return [
        blocks.render_card(profile, page=p, view=view)
        for p in range(blocks.card_page_count(profile, view))
    ]


def _section_texts(message: blocks.Message) -> str:
    return "\n".join(
        b["text"]["text"] for b in message.blocks if b["type"] == "section" and "text" in b
    )


def _dump(message: blocks.Message) -> str:
    return json.dumps(message.payload(), ensure_ascii=False)


# --------------------------------------------------------------------------- cards


def test_card_shows_every_fact_with_date_quote_and_source() -> None:
    profile = samples.qingdao()
    message = blocks.render_card(profile)
    assert_valid_message(message)
    assert message.blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Qingdao"},
    }
    dumped = _dump(message)
    for fact in profile.facts:
        assert mrkdwn.escape(fact.quote) in dumped
    # A statement is shown unless its quote already says it.
    assert "— Qingdao ranks eighth in the CCID blockchain city ranking" in dumped
    assert "— Chain Bay opened in Shibei" not in dumped
    assert "*2017*\\n>In 2017, Chain Bay opened in Shibei." in dumped
    assert dumped.count("Source: Qingdao Daily") == len(profile.facts)
    assert 'The article writes \\"Qinghai\\" here.' in dumped
    assert "*June 2018*" in dumped  # the date of the policy fact


def test_card_buttons() -> None:
    message = blocks.render_card(samples.qingdao())
    assert _by_action(message, actions.SHARE_CHANNEL) == [actions.CardValue("city:qingdao")]
    assert _by_action(message, actions.TIMELINE) == [
        actions.CardValue("city:qingdao", 0, "timeline")
    ]
    assert [v.slug for v in _by_action(message, actions.OPEN)] == [
        "policy:shibei-opinions",
        "project:chain-bay",
        "province:shandong",
    ]
    assert _by_action(message, actions.MORE) == []  # one page
    shared = blocks.render_card(samples.qingdao(), shareable=False)
    assert _by_action(shared, actions.SHARE_CHANNEL) == []


def test_long_card_pages_with_more_and_loses_nothing() -> None:
    profile = samples.huge(n_facts=60, quote_chars=400, n_related=40)
    pages = _all_pages(profile)
    assert len(pages) > 1
    seen = ""
    for index, message in enumerate(pages):
        assert_valid_message(message)
        more = _by_action(message, actions.MORE)
        if index + 1 < len(pages):
            assert more == [actions.CardValue(profile.entity.slug, index + 1, "card")]
        else:
            assert more == []
        seen += _dump(message)
    for i in range(60):
        assert f"Fact number {i} " in seen
    # Only the first page repeats nothing: summary and related buttons once, sources once.
    assert sum("*Sources*" in _dump(m) for m in pages) == 1
    assert sum(bool(_by_action(m, actions.OPEN)) for m in pages) == 1
    # An out-of-range page shows the last one rather than failing.
    assert blocks.render_card(profile, page=999).blocks == pages[-1].blocks


@pytest.mark.parametrize(
    "profile",
    [samples.qingdao(), samples.hostile(), samples.huge(n_facts=120), samples.place()],
    ids=["qingdao", "hostile", "huge", "place"],
)
@pytest.mark.parametrize("view", ["card", "timeline"])
def test_every_page_of_every_card_is_valid(profile: Profile, view: actions.View) -> None:
    for message in _all_pages(profile, view):
        assert_valid_message(message)


def test_hostile_text_is_shown_never_acted_on() -> None:
    profile = samples.hostile()
    rendered = [
        *_all_pages(profile),
        *_all_pages(profile, "timeline"),
        blocks.render_mentions([profile], channel="C1", thread_ts="1.2"),
        blocks.render_compare(profile, samples.qingdao()),
        blocks.render_error(samples.HOSTILE, detail=samples.HOSTILE),
        blocks.render_not_found(samples.resolution("not_found", samples.HOSTILE)),
        blocks.render_did_you_mean(samples.resolution("ambiguous", samples.HOSTILE)),
    ]
    for message in rendered:
        assert_valid_message(message)
        dumped = _dump(message)
        for raw in ("<!channel>", "<@U1>", "<https://evil"):
            assert raw not in dumped
    assert "&lt;!channel&gt;" in _dump(rendered[0])


def test_huge_input_stays_within_limits() -> None:
    profile = samples.huge(n_facts=300, quote_chars=6000, n_related=200)
    message = blocks.render_card(profile)
    assert_valid_message(message)
    assert len(message.text) < 4000
    header = message.blocks[0]["text"]["text"]
    assert len(header) <= 150


def test_block_checker_catches_what_slack_sdk_misses() -> None:
    ok = blocks.render_card(samples.qingdao()).payload()
    too_many = {"text": "x", "blocks": [blocks.section("x")] * 51}
    empty = {"text": "x", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": ""}}]}
    long_section = {
        "text": "x",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}],
    }
    no_fallback = {"text": "", "blocks": ok["blocks"]}
    long_fallback = {"text": "x" * 4000, "blocks": ok["blocks"]}
    unescaped = {"text": "x", "blocks": [blocks.section("<!channel>")]}
    twins = {
        "text": "x",
        "blocks": [
            blocks.actions_block([blocks.button("a", "chain_open:1", actions.CardValue("s"))] * 2)
        ],
    }
    for payload in (too_many, empty, long_section, no_fallback, long_fallback, unescaped, twins):
        with pytest.raises((AssertionError, SlackObjectFormationError)):
            assert_valid_message(payload)
    long_button = {
        "type": "actions",
        "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "x" * 76}, "action_id": "a"}
        ],
    }
    with pytest.raises((AssertionError, SlackObjectFormationError)):
        assert_valid_message({"text": "x", "blocks": [long_button]})


def test_place_without_facts() -> None:
    message = blocks.render_card(samples.place())
    assert_valid_message(message)
    assert message.blocks[1]["text"]["text"] == (
        "Zhangjiakou is a prefecture-level city in Hebei. The store has nothing on it yet."
    )
    assert _buttons(message) == []


def test_timeline_is_oldest_first_with_a_card_button() -> None:
    message = blocks.render_timeline(samples.qingdao())
    assert_valid_message(message)
    dumped = _dump(message)
    positions = [dumped.index(f"*{year}*") for year in ("2016", "2017", "June 2018", "2019")]
    assert positions == sorted(positions)
    assert _by_action(message, actions.OPEN) == [actions.CardValue("city:qingdao")]
    assert _by_action(message, actions.SHARE_CHANNEL) == [
        actions.CardValue("city:qingdao", 0, "timeline")
    ]


# --------------------------------------------------------------------------- lookups


def test_did_you_mean_offers_each_candidate() -> None:
    resolution = samples.resolution("ambiguous", "qing", candidates=3)
    message = blocks.render_did_you_mean(resolution)
    assert_valid_message(message)
    assert [v.slug for v in _by_action(message, actions.PICK)] == ["city:c0", "city:c1", "city:c2"]
    assert "“qing” could mean more than one thing" in message.blocks[0]["text"]["text"]


def test_not_found_echoes_the_query_escaped_and_suggests() -> None:
    query = "<!channel> \x07 zzz" + "y" * 200
    message = blocks.render_not_found(samples.resolution("not_found", query, candidates=2))
    assert_valid_message(message)
    first = message.blocks[0]["text"]["text"]
    assert first.startswith("“&lt;!channel&gt; zzz")
    assert first.endswith("” is not in the store.")
    assert "\x07" not in _dump(message)
    assert len(_by_action(message, actions.PICK)) == 2
    assert "not in the store" in message.text


def test_usage_lists_the_grammar_and_live_examples() -> None:
    examples = [samples.QINGDAO, samples.CHAIN_BAY]
    message = blocks.render_usage(examples=examples)
    assert_valid_message(message)
    dumped = _dump(message)
    for command in (
        "/chain &lt;name&gt;",
        "/chain help",
        "/chain list cities|provinces|policies|projects|companies",
        "/chain timeline &lt;name&gt;",
        "/chain compare &lt;a&gt; vs &lt;b&gt;",
        "/chain autolink on|off",
        "/chain subscribe",
        "/chain unsubscribe",
        "/chain subscriptions",
        "/chain digest",
    ):
        assert command in dumped
    assert [v.slug for v in _by_action(message, actions.OPEN)] == [
        "city:qingdao",
        "project:chain-bay",
    ]
    too_long = blocks.render_usage(Resolution("usage", "x" * 5000, reason="too_long"))
    assert_valid_message(too_long)
    assert "too long" in too_long.blocks[1]["text"]["text"]


def test_render_answer_dispatches_on_status() -> None:
    card = blocks.render_answer(samples.found(samples.qingdao()))
    assert card.blocks[0]["type"] == "header"
    fuzzy = blocks.render_answer(samples.found(samples.qingdao(), "qingdoa", reason="fuzzy"))
    assert "closest match for" in fuzzy.blocks[1]["text"]["text"]
    for status in ("ambiguous", "not_found", "usage"):
        message = blocks.render_answer(Answer(samples.resolution(status, "q")))
        assert_valid_message(message)


# --------------------------------------------------------------------------- lists, compare


def test_list_pages_have_prev_and_next() -> None:
    entities = [samples.QINGDAO] * 10
    first = blocks.render_list("city", entities, 25, offset=0, limit=10)
    middle = blocks.render_list("city", entities, 25, offset=10, limit=10)
    last = blocks.render_list("city", entities[:5], 25, offset=20, limit=10)
    for message in (first, middle, last):
        assert_valid_message(message)
    assert _by_action(first, actions.LIST_PAGE) == [actions.ListValue("city", 10)]
    assert _by_action(middle, actions.LIST_PAGE) == [
        actions.ListValue("city", 0),
        actions.ListValue("city", 20),
    ]
    assert _by_action(last, actions.LIST_PAGE) == [actions.ListValue("city", 10)]
    assert len(_by_action(first, actions.OPEN)) == 10
    assert "21–25 of 25" in _dump(last)
    empty = blocks.render_list("policy", [], 0)
    assert_valid_message(empty)
    assert "no policies" in empty.text


def test_compare_side_by_side() -> None:
    a, b = samples.qingdao(), samples.huge(n_facts=30)
    message = blocks.render_compare(a, b)
    assert_valid_message(message)
    fields = message.blocks[1]["fields"]
    assert len(fields) == 8
    assert fields[0]["text"].startswith("*Qingdao*")
    assert "Shibei Opinions" in fields[4]["text"]
    assert "Chain Bay" in fields[6]["text"]
    assert [v.slug for v in _by_action(message, actions.OPEN)] == ["city:qingdao", "city:qingdao"]


def test_compare_with_an_unresolved_side_offers_pairs() -> None:
    a = samples.found(samples.qingdao())
    b = Answer(samples.resolution("ambiguous", "chong", candidates=2))
    message = blocks.render_compare_unresolved(a, b)
    assert_valid_message(message)
    assert _by_action(message, actions.COMPARE) == [
        actions.CompareValue("city:qingdao", "city:c0"),
        actions.CompareValue("city:qingdao", "city:c1"),
    ]
    neither = blocks.render_compare_unresolved(
        Answer(samples.resolution("not_found", "zz", candidates=1)),
        Answer(samples.resolution("ambiguous", "yy", candidates=1)),
    )
    assert_valid_message(neither)
    assert len(_by_action(neither, actions.PICK)) == 2


# --------------------------------------------------------------------------- mentions


def test_mentions_have_share_in_thread_buttons() -> None:
    profiles = [samples.qingdao(), samples.hostile()]
    message = blocks.render_mentions(profiles, channel="C9", thread_ts="123.456")
    assert_valid_message(message)
    assert _by_action(message, actions.SHARE_THREAD) == [
        actions.ThreadValue("city:qingdao", "C9", "123.456"),
        actions.ThreadValue("company:hostile", "C9", "123.456"),
    ]
    plain = blocks.render_mentions(profiles)
    assert _by_action(plain, actions.SHARE_THREAD) == []
    many = blocks.render_mentions([samples.huge(n_facts=3)] * 30, channel="C", thread_ts="1")
    assert_valid_message(many)
    assert "Also named" in _dump(many)
    none = blocks.render_mentions([])
    assert_valid_message(none)


def test_short_card() -> None:
    message = blocks.render_short_card(samples.qingdao(), channel="C1", thread_ts="1.1")
    assert_valid_message(message)
    dumped = _dump(message)
    assert "CCID" in dumped and "Source: Qingdao Daily" in dumped


def test_error_message() -> None:
    message = blocks.render_error("Slack said: not_in_channel", detail="Invite @Chain Bot first.")
    assert_valid_message(message)
    assert message.text == "Slack said: not_in_channel"


# --------------------------------------------------------------------------- the seed store


def test_every_seed_entity_renders_within_limits(store: Store) -> None:
    from store.profile import LIST_KINDS

    slugs: list[str] = []
    for kind in LIST_KINDS:
        offset = 0
        while True:
            page, total = store.list_entities(kind, offset=offset, limit=10)
            message = blocks.render_list(kind, page, total, offset=offset, limit=10)
            assert_valid_message(message)
            slugs += [e.slug for e in page]
            offset += 10
            if offset >= total:
                break
    slugs = sorted(set(slugs))
    assert len(slugs) > 100
    profiles = [store.profile(slug) for slug in slugs]
    for profile in profiles:
        for view in ("card", "timeline"):
            pages = _all_pages(profile, view)
            for message in pages:
                assert_valid_message(message)
            if view == "card":
                # Every fact of the entity is quoted on one of its pages.
                shown = "".join(_section_texts(m) for m in pages)
                for fact in profile.facts:
                    assert mrkdwn.escape(fact.quote[:200]) in shown, (profile.entity.slug, fact)
        assert_valid_message(blocks.render_short_card(profile, channel="C1", thread_ts="1.0"))
    assert_valid_message(blocks.render_mentions(profiles, channel="C1", thread_ts="1.0"))
    for a, b in itertools.pairwise(profiles):
        assert_valid_message(blocks.render_compare(a, b))


def test_seed_qingdao_card(store: Store) -> None:
    profile = store.profile("city:qingdao")
    pages = _all_pages(profile)
    assert len(pages) > 1  # a long card pages with "More"
    first = pages[0]
    assert first.blocks[0]["text"]["text"] == "Qingdao"
    assert "more than 100 blockchain-related companies" in first.blocks[1]["text"]["text"]
    dumped = "".join(_dump(m) for m in pages)
    assert "Qingdao ranked eighth" in dumped
    assert "Qingdao Fintech Center" in dumped and "Chain Bay" in dumped
    assert 'The article writes \\"Qinghai\\" here.' in dumped
    assert _by_action(first, actions.MORE) == [actions.CardValue("city:qingdao", 1, "card")]


def test_checker_allows_deliberate_markup_only() -> None:
    message = blocks.render_card(samples.qingdao())
    shared = {
        "text": message.text,
        "blocks": [*message.blocks, blocks.context(["Shared by <@U123>"])],
    }
    assert_valid_message(shared, allowed=["<@U123>"])
    with pytest.raises(AssertionError):
        assert_valid_message(shared)


def test_compare_of_two_mentions_is_escaped_and_said_once(store: Store) -> None:
    message = blocks.render_compare_unresolved(store.answer("<!channel>"), store.answer("<!here>"))
    assert_valid_message(message)
    assert message.text.count("Name two entities") == 1
    assert "&lt;a&gt; vs &lt;b&gt;" in message.text
