"""The extractor's parts on their own: article parsing, sentences, dates, numbers, names."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from store.errors import StoreError
from store.extract.dates import DateContext, find_date
from store.extract.numbers import find_numbers
from store.extract.rules import find_names, find_people, find_policy_titles
from store.extract.segment import split_sentences
from store.extract.source import MAX_ARTICLE_BYTES, parse_article, read_article_file

DEC_2019 = DateContext(year=2019, published=dt.date(2019, 12, 1), published_precision="month")
REPORT_2021 = DateContext(
    year=2021, published=dt.date(2022, 2, 3), published_precision="day", year_is_heading=True
)

# ----------------------------------------------------------------------------- articles

FRONT_MATTER = b"""---
title: Qingdao opens a lab
source: Example Daily
date: 2020-05-12
---
On May 10, Bubi opened a blockchain lab in Laoshan District. It has 30 staff.
"""
HEADER_LINES = b"""Title: Chengdu news
Source: Example Times
Date: March 31, 2020

On March 30, the Chengdu Blockchain Talents Special Committee met in Chengdu.
"""


def test_front_matter_article() -> None:
    doc = parse_article(FRONT_MATTER, "lab.md")
    assert (doc.title, doc.source, doc.published, doc.precision) == (
        "Qingdao opens a lab",
        "Example Daily",
        dt.date(2020, 5, 12),
        "day",
    )
    assert doc.origin == "ingested"
    assert doc.text[doc.body_start :].startswith("On May 10, Bubi")
    assert doc.slug.startswith("ingested-2020-05-12-qingdao-opens-a-lab-")


def test_header_lines_article() -> None:
    doc = parse_article(HEADER_LINES, "chengdu.txt")
    assert (doc.title, doc.source, doc.published) == (
        "Chengdu news",
        "Example Times",
        dt.date(2020, 3, 31),
    )
    assert doc.text[doc.body_start :].startswith("On March 30")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"Title: x\n\nNo date in this header at all, only words.", "no date"),
        (b"Title: x\nDate: someday\n\nA body with enough letters to count.", "not a date"),
        (b"Date: 2020-01-01\n\n\xff\xfe broken bytes", "not UTF-8"),
        (b"Date: 2020-01-01\n\n", "no article body"),
        (b"Date: 2020-01-01\n\nok\x00\x00binary", "binary"),
        (b"---\ntitle: [unclosed\n---\nbody text here for sure", "not valid YAML"),
    ],
)
def test_bad_articles_are_one_clear_line(raw: bytes, message: str) -> None:
    with pytest.raises(StoreError) as err:
        parse_article(raw, "bad.txt")
    text = str(err.value)
    assert message in text and text.startswith("bad.txt:") and "\n" not in text


def test_too_large_is_refused_before_reading(tmp_path: Path) -> None:
    noise = tmp_path / "noise.bin"
    with noise.open("wb") as handle:  # 50 MB, sparse: refusing it must not read it
        handle.truncate(50 * 1024 * 1024)
    with pytest.raises(StoreError, match="too large"):
        read_article_file(noise)
    with pytest.raises(StoreError, match="too large"):
        parse_article(b"x" * (MAX_ARTICLE_BYTES + 1), "big.txt")


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot read"):
        read_article_file(tmp_path / "missing.txt")
    with pytest.raises(StoreError, match="not a file"):
        read_article_file(tmp_path)


# ----------------------------------------------------------------------------- sentences


def test_sentences_keep_company_suffixes_and_merge_stray_dots() -> None:
    text = (
        "Qingdao Metro Commercial Factoring Co., Ltd. opened a model. It cooperated with "
        "Qilu Bank. . As an incubator, it grew."
    )
    pieces = [text[s:e] for s, e in split_sentences(text)]
    assert pieces == [
        "Qingdao Metro Commercial Factoring Co., Ltd. opened a model.",
        "It cooperated with Qilu Bank. .",
        "As an incubator, it grew.",
    ]


# ----------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("sentence", "ctx", "expected"),
    [
        ("On December 19, Hang Seng Electronics held", DEC_2019, ("2019-12-19", "day")),
        ("On October 24th, the Political Bureau", DEC_2019, ("2019-10-24", "day")),
        ("In May 2018, the leadership set up", DEC_2019, ("2018-05-01", "month")),
        ("As early as September 2017, the conference", DEC_2019, ("2017-09-01", "month")),
        ("held on January 12, 2019.", DEC_2019, ("2019-01-12", "day")),
        ("At the end of 2018, CCID released", DEC_2019, ("2018-01-01", "year")),
        # 002's Chinese word order: 4月 comes out as "4 In January", 3月 as "3 In June"
        (
            "Xiong'an new district was established this year 4 In January",
            REPORT_2021,
            ("2021-04-01", "month"),
        ),
        ("Jiangsu this year 3 In June, it took the lead", REPORT_2021, ("2021-03-01", "month")),
        (
            "By 7 End of month , Accumulated uplink 146 Projects",
            REPORT_2021,
            ("2021-07-01", "month"),
        ),
        (
            "And the day before ,2021 year 11 month , The trade",
            REPORT_2021,
            ("2021-11-01", "month"),
        ),
    ],
)
def test_dates(sentence: str, ctx: DateContext, expected: tuple[str, str]) -> None:
    found = find_date(sentence, ctx)
    assert found is not None
    assert (found.value.isoformat(), found.precision) == expected


def test_year_comes_from_the_timeline_heading() -> None:
    heading_2017 = DateContext(2017, dt.date(2019, 12, 1), "month", year_is_heading=True)
    found = find_date("On September 12th, the conference was held.", heading_2017)
    assert found is not None and found.value == dt.date(2017, 9, 12)


def test_a_month_after_publication_is_last_year() -> None:
    march_2020 = DateContext(2020, dt.date(2020, 3, 1), "month")
    found = find_date("In August, the new area was set up.", march_2020)
    assert found is not None and found.value == dt.date(2019, 8, 1)


def test_titles_and_year_ranges_are_not_dates() -> None:
    assert find_date('It issued the "Three-year Action Plan (2020-2022)".', DEC_2019) is None
    assert find_date("The plan (2018-2022) was cited.", DEC_2019) is None


# ----------------------------------------------------------------------------- numbers


def _values(sentence: str, **kwargs: bool) -> list[tuple[float, str]]:
    return [(n["value"], n["unit"]) for n in find_numbers(sentence, **kwargs)]


def test_numbers() -> None:
    assert _values("Qingdao has gathered more than 100 blockchain-related companies") == [
        (100, "companies")
    ]
    assert _values("allocated more than 1.78 million yuan in special support funds") == [
        (1_780_000, "yuan")
    ]
    assert _values("a cumulative transaction volume of more than 10.9 billion yuan.") == [
        (10_900_000_000, "yuan")
    ]
    assert _values("The level was evaluated, and Qingdao ranked eighth.") == [(8, "rank")]
    assert _values("Separate landing projects 24、20、11 individual , jiangsu") == [
        (24, "count"),
        (20, "count"),
        (11, "count"),
    ]
    assert _values("31 Block chain application projects in provinces and cities") == [
        (31, "projects")
    ]
    assert _values("about 11 One hundred million yuan .") == [(1_100_000_000, "yuan")]
    assert _values("labor wages is 25 Thousands of people .", chinese_scales=True) == [
        (250_000, "people")
    ]
    assert _values("fell 21.73%, Total landing 34 A project") == [
        (21.73, "percent"),
        (34, "projects"),
    ]


def test_number_text_is_verbatim() -> None:
    sentence = "Over 55 million yuan of financing has been issued"
    (number,) = find_numbers(sentence)
    assert number["text"] in sentence and number["text"] == "Over 55 million yuan"


# ----------------------------------------------------------------------------- names


def test_organisation_patterns() -> None:
    sentence = (
        "Recently, Shibei District has allocated funds to 10 companies including Qingdao "
        "Boshland IOT Technology Co., Ltd., Haichuang Chain (Qingdao) Information Technology "
        "Co., Ltd., and the Digital Fuzhou Blockchain Research Institute and Digital Fuzhou "
        "Blockchain Incubator."
    )
    names = {(h.name, h.kind) for h in find_names(sentence)}
    assert ("Qingdao Boshland IOT Technology Co., Ltd.", "company") in names
    assert ("Haichuang Chain (Qingdao) Information Technology Co., Ltd.", "company") in names
    assert ("Digital Fuzhou Blockchain Research Institute", "institution") in names
    assert ("Digital Fuzhou Blockchain Incubator", "project") in names
    for hit in find_names(sentence):
        assert sentence[hit.start : hit.end] == hit.name


def test_generic_phrases_are_not_names() -> None:
    assert find_names("The Research Institute and the Annual Conference met.") == []


def test_quoted_policy_titles() -> None:
    sentence = (
        'In 2017, Shibei District issued the "Opinions on Accelerating the Development of '
        'the Blockchain Industry (Trial)", which put forward the "first floor" idea.'
    )
    (hit,) = find_policy_titles(sentence)
    assert hit.name == "Opinions on Accelerating the Development of the Blockchain Industry (Trial)"
    assert sentence[hit.start : hit.end] == hit.name


def test_people_with_titles() -> None:
    sentence = (
        "On December 16, Li Qiang, Secretary of the Shanghai Municipal Party Committee, went "
        "to some fintech companies. Liu Hongtao, chairman of Qingdao Flash Payment Information "
        "Technology Co., Ltd., has been busy."
    )
    people = {(p.name, p.title) for p in find_people(sentence)}
    assert people == {
        ("Li Qiang", "Secretary of the Shanghai Municipal Party Committee"),
        ("Liu Hongtao", "chairman of Qingdao Flash Payment Information Technology Co., Ltd"),
    }
