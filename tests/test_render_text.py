"""Plain-text rendering (the CLI, and the base of Slack fallbacks)."""

from __future__ import annotations

import render_samples as samples

from bot.render import layout, text
from store.answers import Answer, Resolution


def test_card_text_quotes_and_cites_every_fact() -> None:
    profile = samples.qingdao()
    out = text.card_text(profile)
    assert out.startswith("Qingdao\n=======\n")
    for fact in profile.facts:
        assert f'"{fact.quote}"' in out.replace("\n      ", " ").replace("\n    ", " ")
    assert out.count("— Qingdao Daily, Qingdao blockchain industry") == len(profile.facts)
    assert "Also known as: 青岛, Tsingtao" in out
    assert 'The article writes "Qinghai" here.' in out


def test_card_sections_in_order_and_each_fact_once() -> None:
    out = text.card_text(samples.qingdao())
    order = [out.index(f"\n{title}\n") for title in ("Key figures", "Policies", "Projects")]
    assert order == sorted(order)
    assert out.count("In 2017, Chain Bay opened in Shibei.") == 1
    assert '\n    2017: "In 2017, Chain Bay opened in Shibei."' in out
    assert "\nSources\n" in out and "Related: Shibei Opinions, Chain Bay, Shandong" in out


def test_cli_text_keeps_article_text_verbatim_but_slack_text_escapes_it() -> None:
    profile = samples.qingdao()
    assert "Qinghai & drew <many> guests." in text.card_text(profile)
    assert "Qinghai &amp; drew &lt;many&gt; guests." in text.card_text(profile, slack=True)


def test_layout_repeats_a_fact_only_as_a_cited_reminder() -> None:
    profile = samples.qingdao()
    fact = profile.facts[1]
    from store.answers import RelatedItem

    repeated = samples.profile(
        facts=profile.facts,
        policies=(RelatedItem(samples.POLICY, fact), RelatedItem(samples.CHAIN_BAY, fact)),
        projects=(RelatedItem(samples.CHAIN_BAY, fact),),
    )
    sections = layout.card_sections(repeated)
    policies = next(s for s in sections if s.title == "Policies")
    assert len(policies.items) == 1  # grouped by the fact that ties them
    assert [e.name for e in policies.items[0].entities] == ["Shibei Opinions", "Chain Bay"]
    projects = next(s for s in sections if s.title == "Projects")
    assert projects.items[0].repeat
    out = text.card_text(repeated)
    assert "• Chain Bay: Shibei District issued the Shibei Opinions (June 2018) — Qingdao" in out


def test_match_note_for_fuzzy_hits_only() -> None:
    fuzzy = text.answer_text(samples.found(samples.qingdao(), "qingdoa", reason="fuzzy"))
    assert '(closest match for "qingdoa")' in fuzzy
    exact = text.answer_text(samples.found(samples.qingdao(), "qingdao", reason="exact"))
    assert "closest match" not in exact


def test_place_without_facts_is_honest() -> None:
    assert text.card_text(samples.place()) == (
        "Zhangjiakou is a prefecture-level city in Hebei. The store has nothing on it yet."
    )


def test_did_you_mean_and_not_found() -> None:
    out = text.did_you_mean_text(samples.resolution("ambiguous", "qing", candidates=2))
    assert out.splitlines() == [
        '"qing" could mean more than one thing. Did you mean:',
        "  • Candidate 0 qing (city)",
        "  • Candidate 1 qing (city)",
    ]
    missing = text.not_found_text(samples.resolution("not_found", "atlantis", candidates=1))
    assert missing.startswith('"atlantis" is not in the store.')
    assert "Closest names it knows: Candidate 0 atlantis (city)." in missing
    bare = text.not_found_text(samples.resolution("not_found", "zzz", candidates=0))
    assert "Closest" not in bare


def test_query_echo_is_escaped_clean_and_short() -> None:
    assert text.echo_query("<!channel>") == "&lt;!channel&gt;"
    assert text.echo_query("a\x00b\x1b[31mc\u202ed") == "ab[31mcd"
    long = text.echo_query("word " * 1000)
    assert len(long) <= text.QUERY_ECHO_CHARS and long.endswith("…")
    answer = Answer(samples.resolution("not_found", "' OR 1=1 -- <@U1>", candidates=0))
    out = text.answer_text(answer)
    assert "<@U1>" not in out and "&lt;@U1&gt;" in out


def test_usage() -> None:
    out = text.usage_text()
    for command, _ in text.USAGE_LINES:
        assert command in out
    live = text.usage_text(examples=[samples.QINGDAO, samples.CHAIN_BAY])
    assert "/chain Qingdao" in live and "/chain compare Qingdao vs Chain Bay" in live
    too_long = text.usage_text(Resolution("usage", "x" * 5000, reason="too_long"))
    assert too_long.startswith("That query is too long")
    assert "x" * 50 not in too_long


def test_list_text() -> None:
    out = text.list_text("company", [samples.QINGDAO, samples.CHAIN_BAY], 12, offset=10)
    assert out.splitlines() == [
        "Companies in the store (11–12 of 12):",
        "  • Qingdao",
        "  • Chain Bay",
    ]
    assert text.list_text("policy", [], 0) == "The store has no policies yet."


def test_timeline_text_oldest_first() -> None:
    out = text.timeline_text(samples.qingdao())
    years = [line for line in out.splitlines() if line in ("2016", "2017", "2018", "2019")]
    assert years == ["2016", "2017", "2018", "2019"]
    empty = text.timeline_text(samples.profile(facts=(samples.fact("Undated", year=None),)))
    assert "no dated facts" in empty


def test_compare_text() -> None:
    out = text.compare_text(samples.qingdao(), samples.place())
    assert out.startswith("Qingdao vs Zhangjiakou")
    assert "Policies: Shibei Opinions" in out
    assert "Projects: none stored" in out


def test_mentions_text() -> None:
    out = text.mentions_text([samples.qingdao()])
    assert out.startswith("Named in that message (1):")
    assert "CCID" in out and "— Qingdao Daily" in out
    assert text.mentions_text([]) == "No entity the store knows is named in that message."


def test_error_text() -> None:
    assert text.error_text("Slack said <nope> & more") == "Slack said <nope> & more"
    assert text.error_text("Slack said <nope> & more", slack=True) == (
        "Slack said &lt;nope&gt; &amp; more"
    )
