"""A found name that is easily confused with another says so, on cards and on places with no
facts alike: typing "qinghai" (a real province, and the garble 000 writes for Qingdao) must
neither silently become Qingdao nor hide it."""

from __future__ import annotations

from blockkit import assert_valid_message

from bot.render import actions, blocks, text
from store.api import Store


def _pick_values(message: blocks.Message) -> list[str]:
    values = []
    for block in message.blocks:
        for element in block.get("elements", []):
            if actions.base_of(element.get("action_id", "")) == actions.PICK:
                values.append(actions.decode(element["value"]).slug)
    return values


def test_a_place_with_no_facts_offers_its_confusable(store: Store) -> None:
    answer = store.answer("qinghai")
    assert answer.status == "found" and answer.profile is not None
    assert answer.profile.entity.slug == "province:qinghai"
    assert not answer.profile.has_facts

    plain = text.answer_text(answer)
    assert plain.startswith("Qinghai is a province")
    assert "Not what you meant? Also: Qingdao (city)." in plain

    message = blocks.render_answer(answer)
    assert_valid_message(message)
    assert _pick_values(message) == ["city:qingdao"]
    assert "Qingdao" in message.text


def test_a_card_offers_its_confusable_on_the_first_page_only(store: Store) -> None:
    answer = store.answer("tsingtao")
    assert answer.profile is not None and answer.profile.entity.slug == "city:qingdao"
    assert "Not what you meant? Also: Qinghai (province)." in text.answer_text(answer)

    first = blocks.render_answer(answer)
    assert_valid_message(first)
    assert "province:qinghai" in _pick_values(first)
    second = blocks.render_card(answer.profile, page=1, resolution=answer.resolution)
    assert "province:qinghai" not in _pick_values(second)


def test_an_exact_name_without_confusables_adds_nothing(store: Store) -> None:
    answer = store.answer("bubi")
    assert not answer.resolution.candidates
    assert "Not what you meant" not in text.answer_text(answer)
    assert _pick_values(blocks.render_answer(answer)) == []
