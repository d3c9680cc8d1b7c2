"""A fact's statement may only say what its quoted sentence says. Wording is free, but a
number in the statement that the quote lacks is an invented claim (the fact's own date aside)."""

from __future__ import annotations

import re

from sqlalchemy import select

from store import db
from store.models import Fact

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def _numbers(text: str) -> set[str]:
    return {m.group(0).replace(",", "") for m in _NUMBER.finditer(text)}


def test_statement_numbers_come_from_the_quote_or_the_date(seed_db_url: str) -> None:
    engine = db.get_engine(seed_db_url)
    with db.session_scope(engine) as session:
        facts = session.execute(select(Fact.text, Fact.quote, Fact.date)).all()
    assert facts
    invented = []
    for text, quote, date in facts:
        allowed = _numbers(quote)
        if date is not None:
            allowed |= {str(date.year), str(date.day)}
        extra = _numbers(text) - allowed
        if extra:
            invented.append((sorted(extra), text))
    assert invented == []
