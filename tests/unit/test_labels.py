"""The code → label vocabulary (ledger.labels): every code the domain accepts has a Chinese and
an English label, and nothing shown is the code itself."""

from __future__ import annotations

import re

import pytest

from ledger.catalogue import ITEM_KINDS, PILLARS, load_catalogue
from ledger.commands import Command
from ledger.disclosure import ALLOWED_BY_CLASS
from ledger.domain import ROLES
from ledger.domain.events import AGGREGATE_OF
from ledger.domain.financing import FINANCING_EVENTS, INSTRUMENTS
from ledger.domain.transfer import MODES, OUTCOMES, TRANSFEROR_KINDS
from ledger.labels import (
    VOCABULARIES,
    Label,
    bool_label,
    event_label,
    event_label_by_name,
    field_label,
    item_label,
    label,
    measure_label,
    town_label,
)

_HAN = re.compile(r"[\u4e00-\u9fff]")
_CODE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b|\b[A-Z][a-z]+(?:[A-Z][a-z]+)+\b")


def _command_types() -> tuple[str, ...]:
    found, todo = [], list(Command.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if "type" in vars(cls):
            found.append(cls.type)
    return tuple(found)


DOMAIN_CODES = {
    "role": ROLES,
    "disbursement_status": ("pending", "approved", "rejected", "reversed"),
    "transferor_kind": TRANSFEROR_KINDS,
    "mode": MODES,
    "outcome": OUTCOMES,
    "instrument": INSTRUMENTS,
    "financing_event": FINANCING_EVENTS,
    "pillar": PILLARS,
    "item_kind": ITEM_KINDS,
    "command_type": _command_types(),
}


def _assert_readable(lab: Label, code: str) -> None:
    assert isinstance(lab, Label), code
    assert _HAN.search(lab.zh), f"{code}: Chinese label {lab.zh!r} has no Chinese"
    assert lab.en and not _HAN.search(lab.en), f"{code}: English label {lab.en!r}"
    for text in lab:
        assert text != code and not _CODE.search(text), f"{code}: label {text!r} is a code"


@pytest.mark.parametrize("vocabulary", sorted(DOMAIN_CODES))
def test_every_code_the_domain_accepts_has_a_chinese_and_an_english_label(vocabulary):
    codes = DOMAIN_CODES[vocabulary]
    assert len(codes) >= 2
    for code in codes:
        _assert_readable(label(vocabulary, code), code)
    assert set(VOCABULARIES[vocabulary]) == set(codes), "labels for codes the domain lacks"


def test_every_event_class_has_a_label_and_the_trail_names_find_it():
    assert len(AGGREGATE_OF) >= 38
    for cls, aggregate in AGGREGATE_OF.items():
        _assert_readable(event_label(cls), cls.__name__)
        assert event_label_by_name(aggregate.__name__, cls.__name__) == event_label(cls)


def test_every_field_an_event_may_show_has_a_label():
    names = {name for fields in ALLOWED_BY_CLASS.values() for name in fields}
    assert {"amount_fen", "transferor_kind", "content"} <= names
    for name in names:
        _assert_readable(field_label(name), name)


def test_every_catalogue_item_and_measure_has_its_title():
    catalogue = load_catalogue()
    for spec in catalogue.measures:
        assert measure_label(spec.code) == Label(
            f"{spec.code} {spec.title_zh}", f"{spec.code} {spec.title_en}"
        )
        for item in spec.items:
            assert item_label(item.code, spec.code) == Label(item.title_zh, item.title_en)
            assert item_label(item.code) == Label(item.title_zh, item.title_en)


def test_an_unknown_code_says_so_and_shows_the_code_never_a_blank():
    assert label("mode", "teleportation") == Label(
        "未知（teleportation）", "unknown (teleportation)"
    )
    assert item_label("no_such_item").en == "unknown (no_such_item)"
    assert field_label("mystery_fen").zh == "未知（mystery_fen）"
    assert label("mode", None) == Label("—", "—")


def test_text_picks_the_language_and_both_puts_chinese_first():
    lab = label("instrument", "pledge_loan")
    assert lab.text("zh") == "知识产权质押贷款"
    assert lab.text("en") == "IP pledge loan"
    assert lab.both() == "知识产权质押贷款 / IP pledge loan"
    assert bool_label(True) == Label("是", "yes") and bool_label(False).en == "no"
    assert town_label("310117001").zh.endswith("街道") and town_label(None).zh == "—"
