"""The one table of spreadsheet names (`ledger.sheets.headers`): complete, unambiguous, and
naming only what the ledger has."""

from __future__ import annotations

import re

from ledger.commands import SCHEMAS
from ledger.domain.financing import FINANCING_EVENTS, INSTRUMENTS
from ledger.domain.transfer import MODES, OUTCOMES, TRANSFEROR_KINDS
from ledger.sheets import headers
from ledger.sheets.template import template_columns

#: Characters Excel does not allow in a sheet name.
_BAD_SHEET_NAME = re.compile(r"[\[\]:*?/\\]")


def test_every_field_of_every_command_has_one_chinese_header() -> None:
    for command_type in SCHEMAS:
        for name in template_columns(command_type):
            assert name in headers.FIELD_HEADERS_ZH, (command_type, name)
    names_zh = [headers.normal_header(zh) for zh in headers.FIELD_HEADERS_ZH.values()]
    assert len(names_zh) == len(set(names_zh))


def test_headers_and_aliases_never_name_two_fields() -> None:
    for alias, name in headers.HEADER_ALIASES_ZH.items():
        assert name in headers.FIELD_HEADERS_ZH
        assert headers.field_for_header(alias) == name
    for name, zh in headers.FIELD_HEADERS_ZH.items():
        assert headers.field_for_header(zh) == name == headers.field_for_header(f" {name} ")
    assert headers.field_for_header("金额(元)") == "amount_yuan"  # half-width brackets
    assert headers.header_zh("amount_fen") == "金额（元）"


def test_every_command_type_has_a_chinese_name_that_can_name_a_sheet() -> None:
    assert set(headers.TYPE_NAMES_ZH) == set(SCHEMAS)
    for command_type, zh in headers.TYPE_NAMES_ZH.items():
        assert len(zh) <= 31 and not _BAD_SHEET_NAME.search(zh)
        assert headers.type_for_name(zh) == command_type == headers.type_for_name(command_type)
    assert len(set(headers.TYPE_NAMES_ZH.values())) == len(headers.TYPE_NAMES_ZH)
    assert headers.type_for_name("说明") is None


def test_choice_names_cover_exactly_the_domain_codes() -> None:
    domain = {"transferor_kind": TRANSFEROR_KINDS, "mode": MODES, "outcome": OUTCOMES,
              "instrument": INSTRUMENTS, "event": FINANCING_EVENTS}  # fmt: skip
    assert set(headers.CHOICE_LABELS_ZH) == set(domain)
    for name, codes in domain.items():
        labels = headers.CHOICE_LABELS_ZH[name]
        assert tuple(labels) == codes
        assert len(set(labels.values())) == len(codes)
        assert all(headers.code_for_choice(name, label) == code for code, label in labels.items())


def test_the_table_is_shown_as_help_text() -> None:
    text = headers.table_text()
    for name, zh in (*headers.FIELD_HEADERS_ZH.items(), *headers.TYPE_NAMES_ZH.items()):
        assert name in text and zh in text


def test_the_readme_shows_the_same_table() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for name, zh in (*headers.FIELD_HEADERS_ZH.items(), *headers.TYPE_NAMES_ZH.items()):
        assert f"| `{name}` | {zh} |" in readme, name
