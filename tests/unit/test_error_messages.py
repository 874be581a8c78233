"""Errors are real classes; their words are one catalogue's, with amounts in yuan.

Every raise site in the ledger names facts (fields), never words: checked here by reading the
source, so a new raise site that forgets a field its message needs fails here, not in use.
"""

from __future__ import annotations

import ast
import inspect
import pathlib
import re
import string

import pytest

from ledger import errors
from ledger.errors import (
    ALL_ERROR_CODES,
    AboveItemMaximum,
    BudgetExceeded,
    LedgerError,
    UnknownAward,
)
from ledger.messages import MESSAGES, message_key, render

LEDGER = pathlib.Path(errors.__file__).parent
#: Classes by name, as raise sites spell them.
ERROR_CLASSES = {
    name: cls
    for name, cls in vars(errors).items()
    if inspect.isclass(cls) and issubclass(cls, LedgerError) and cls is not LedgerError
}


def template_fields(template: str) -> set[str]:
    return {name.split("!")[0] for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_error_is_a_class_of_its_own_with_a_code_and_a_message() -> None:
    assert {cls.code for cls in ERROR_CLASSES.values()} == set(ALL_ERROR_CODES)
    source = (LEDGER / "errors.py").read_text(encoding="utf-8")
    for name, cls in ERROR_CLASSES.items():
        assert f"class {name}(LedgerError):" in source  # searchable, not made by a factory
        assert cls.__doc__ and cls.title_zh
        assert any(key.split(".")[0] == cls.code for key in MESSAGES), cls.code


def test_every_message_is_of_a_known_code_and_says_the_same_in_both_languages() -> None:
    for key, (zh, en) in MESSAGES.items():
        assert key.split(".")[0] in ALL_ERROR_CODES, key
        same = {name.removesuffix("_zh").removesuffix("_en") for name in template_fields(zh)}
        assert same == {n.removesuffix("_zh").removesuffix("_en") for n in template_fields(en)}, key


def test_no_message_shows_fen() -> None:
    for key, (zh, en) in MESSAGES.items():
        for template in (zh, en):
            assert not any(name.endswith("_fen") for name in template_fields(template)), key
        assert "分" not in zh, key
        assert not re.search(r"\bfen\b", en), key


def test_an_amount_is_shown_in_yuan_with_two_decimals() -> None:
    error = AboveItemMaximum(amount_fen=123_456_789, max_fen=100_000_000, measure="M10", item="x")
    assert error.message_zh == "金额 1,234,567.89 元超过 M10/x 最高额 1,000,000.00 元"
    assert error.message_en == "1,234,567.89 yuan is above the maximum of M10/x (1,000,000.00 yuan)"
    assert error.to_dict() == {
        "code": "above_item_maximum",
        "message": error.message_en,
        "message_zh": error.message_zh,
        "details": {"max_fen": 100_000_000},  # the machine-readable amount stays in fen
    }


def test_a_variant_picks_its_own_message_and_keeps_the_code() -> None:
    cut = BudgetExceeded(variant="cut", cut_fen=50, measure="M01", fiscal_year=2025, remaining_fen=7)
    assert cut.code == "budget_exceeded"
    assert "0.50 yuan" in cut.message_en and "0.07 yuan" in cut.message_en
    clawback = UnknownAward(variant="clawback", reference="C-1", field="clawback_reference")
    assert clawback.message_en == "no clawback has reference 'C-1'"
    assert clawback.details == {"field": "clawback_reference"}


def test_input_echoed_in_a_message_is_made_printable() -> None:
    error = UnknownAward(reference="A\u202e-1\x00")
    assert "\u202e" not in error.message_en and "\x00" not in error.message_zh


def test_a_caller_with_words_of_its_own_still_gets_a_coded_error() -> None:
    error = UnknownAward("no such award", message_zh="未知奖补")
    assert (error.code, error.message_en, error.message_zh) == ("unknown_award", "no such award", "未知奖补")


def _raise_sites() -> list[tuple[str, int, ast.Call]]:
    """Every `raise X(...)` / `X(...)` of an error class in the ledger's own rules and parsing.

    `ledger/cli*.py` are left out: the command line's own words (`ledger show` not finding a
    thing) are its own, not a rule's.
    """
    sites = []
    for path in sorted(LEDGER.rglob("*.py")):
        if path.name.startswith("cli") or path.name == "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
                if name in ERROR_CLASSES:
                    sites.append((f"{path.relative_to(LEDGER)}:{node.lineno}", name, node))
    return sites


def test_raise_sites_give_fields_not_words_and_every_field_their_message_needs() -> None:
    sites = _raise_sites()
    assert len(sites) > 40
    for where, name, call in sites:
        keywords = {k.arg: k.value for k in call.keywords if k.arg is not None}
        assert not call.args and "message_zh" not in keywords, f"{where}: words at a raise site"
        variant = keywords.get("variant")
        assert variant is None or isinstance(variant, ast.Constant | ast.IfExp), where
        variants = (
            [variant.body.value, variant.orelse.value] if isinstance(variant, ast.IfExp)
            else [None if variant is None else variant.value]
        )  # fmt: skip
        given = set(keywords) | {k[: -len("_fen")] + "_yuan" for k in keywords if k.endswith("_fen")}
        spread = any(k.arg is None for k in call.keywords)  # **{field: value}: checked by running
        for each in variants:
            key = message_key(ERROR_CLASSES[name].code, each)
            assert key in MESSAGES, f"{where}: no message {key}"
            needed = template_fields(MESSAGES[key][0]) | template_fields(MESSAGES[key][1])
            assert spread or needed <= given, f"{where}: {key} needs {needed - given}"


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_message_renders_from_its_fields(key: str) -> None:
    zh, en = MESSAGES[key]
    fields = {name: "x" for name in template_fields(zh) | template_fields(en)}
    fields |= {n[: -len("_yuan")] + "_fen": 100 for n in fields if n.endswith("_yuan")}
    code, _, variant = key.partition(".")
    rendered_zh, rendered_en = render(code, variant or None, fields)
    assert rendered_zh and rendered_en and "{" not in rendered_en.replace("{x", "")
