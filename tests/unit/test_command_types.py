"""Commands are types: one frozen dataclass per command, its type string written once."""

from __future__ import annotations

import ast
import dataclasses
import pathlib
from datetime import date

import pytest
from factories import USCC_A, award, transfer

import ledger
from ledger import commands as c
from ledger.commands import COMMAND_CLASSES, COMMAND_TYPES, SCHEMAS, parse_command
from ledger.domain import CommandReceipt, Enterprise, Financing
from ledger.errors import InvalidUscc, ValidationFailed
from ledger.handlers import HANDLERS

LEDGER = pathlib.Path(ledger.__file__).parent


def test_each_type_string_is_written_once_in_the_ledger() -> None:
    """Not in a dispatch table, a preloading chain, the demo or a key rule: on its class."""
    constants: dict[str, list[str]] = {name: [] for name in COMMAND_TYPES}
    for path in LEDGER.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in constants:
                constants[node.value].append(f"{path.name}:{node.lineno}")
    assert {name: len(places) for name, places in constants.items()} == dict.fromkeys(COMMAND_TYPES, 1)
    assert all(places[0].startswith("commands.py:") for places in constants.values())


def test_every_command_is_a_frozen_dataclass_with_its_schema_and_handler() -> None:
    assert [cls.type for cls in COMMAND_CLASSES] == list(SCHEMAS) == list(COMMAND_TYPES)
    for cls in COMMAND_CLASSES:
        assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
        assert cls.schema.command_class is cls and SCHEMAS[cls.type] is cls.schema
        declared = set(cls.schema._declared_fields) - {"type"}
        assert declared == {f.name for f in dataclasses.fields(cls)}, cls.type
        assert cls in HANDLERS


def test_parsing_builds_the_command_class_and_it_cannot_be_changed() -> None:
    command = parse_command(award())
    assert type(command) is c.GrantAward
    assert (command.reference, command.amount_fen, command.granted_on) == ("A-1", 10_000_000, date(2025, 4, 1))
    with pytest.raises(dataclasses.FrozenInstanceError):
        command.amount_fen = 1  # type: ignore[misc]
    assert command.to_dict() == {**award(), "basis": None, "financing_reference": None}


def test_a_command_declares_its_key_role_named_aggregates_and_parent() -> None:
    grant = parse_command(award(financing_reference="F-1"))
    assert grant.named_ids() == [Enterprise.create_id(USCC_A), Financing.create_id("F-1")]
    assert parse_command(award()).named_ids() == [Enterprise.create_id(USCC_A)]
    approval = parse_command({"type": "approve_disbursement", "reference": "D-7"})
    assert approval.role == "approver" and approval.key == "D-7"
    assert approval.parent_receipt_id() == CommandReceipt.create_id("record_disbursement", "D-7")
    revenue = c.RecordTransferOutcome(reference="T-1", outcome="revenue_reported", on=date(2025, 5, 1), amount_fen=1)
    done = c.RecordTransferOutcome(reference="T-1", outcome="implemented", on=date(2025, 5, 1))
    assert (revenue.key, done.key) == ("T-1\x1frevenue_reported\x1f2025-05-01", "T-1\x1fimplemented")


def test_a_command_built_in_python_is_checked_like_one_sent_as_json() -> None:
    built = c.RecordPatentTransfer(**{**parse_command(transfer()).fields, "patent_no": "CN 2017 1060 1862 3"})
    parsed = parse_command(built)
    assert parsed.patent_no == "201710601862.3"  # the canonical form, as from JSON
    assert parsed.content_sha256() == parse_command(transfer()).content_sha256()
    with pytest.raises(InvalidUscc):
        parse_command(dataclasses.replace(built, uscc="91440300192203821X"))
    with pytest.raises(ValidationFailed):
        parse_command(dataclasses.replace(built, contract_value_fen=-5))
