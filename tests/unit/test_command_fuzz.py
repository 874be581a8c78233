"""Property-based fuzzing of the command parser and of import lines: any input gives a command
(or an outcome) or a `LedgerError` with a stable code — never another exception.

Sized for CI: `FUZZ_EXAMPLES` cases per test (run `pytest --hypothesis-show-statistics` to see
how many ran).
"""

from __future__ import annotations

import io
import json
from typing import Any

import factories as f
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.commands import COMMAND_TYPES, SCHEMAS, Command, load_json, parse_command
from ledger.errors import ALL_ERROR_CODES, ERROR_CODES, LedgerError
from ledger.importer import check_file, read_lines

FUZZ_EXAMPLES = 500
FUZZ = settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip

NASTY_CHARACTERS = "\x00\x1f\x7f\x85\ud800\udfff\u200b\u200c\u200d\u2060\ufeff\u2028\u2029\u202a\u202e\u2066\u2069\u3000"
nasty_text = st.text(alphabet=st.characters(codec=None) | st.sampled_from(NASTY_CHARACTERS), max_size=40)
# integers of thousands of digits are built (a huge literal would break hypothesis's own repr)
huge_ints = st.integers(-(2**70), 2**70) | st.booleans() | st.builds(
    lambda digits, sign: sign * 10**digits, st.integers(4301, 6000), st.sampled_from([1, -1])
)
scalars = st.none() | st.booleans() | huge_ints | st.floats() | nasty_text
json_like = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(nasty_text, inner, max_size=4),
    max_leaves=20,
)
FIELD_NAMES = sorted({name for schema in SCHEMAS.values() for name in schema._declared_fields})
GOOD = [f.enterprise(), f.budget(), f.award(), f.disbursement(), f.approve(), f.transfer(), f.financing()]


def deep(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


@st.composite
def commands(draw: Any) -> Any:
    """A good command with some fields replaced, added or dropped; or anything at all."""
    if draw(st.integers(0, 9)) == 0:
        return draw(json_like)
    command = dict(draw(st.sampled_from(GOOD)))
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from([*FIELD_NAMES, "type", "surprise"]))
        choice = draw(st.integers(0, 5))
        if choice == 0:
            command.pop(name, None)
        elif choice == 1:
            command[name] = deep(draw(st.sampled_from([40, 1000, 100_000])))
        elif choice == 2 and name == "type":
            command[name] = draw(st.sampled_from(COMMAND_TYPES) | json_like)
        else:
            command[name] = draw(json_like)
    return command


def assert_refused_cleanly(error: LedgerError) -> None:
    assert error.code in ERROR_CODES
    for text in (error.message_en, error.message_zh, json.dumps(error.to_dict(), ensure_ascii=False)):
        text.encode("utf-8")  # printable: no lone surrogate survives into a message
        assert len(text) < 20_000


@FUZZ
@given(data=commands())
def test_parse_command_gives_a_command_or_a_ledger_error(data: Any) -> None:
    try:
        command = parse_command(data)
    except LedgerError as error:
        assert_refused_cleanly(error)
    else:
        assert isinstance(command, Command)
        json.dumps(command.content(), ensure_ascii=False).encode("utf-8")


@FUZZ
@given(text=st.text(max_size=200) | st.binary(max_size=200).map(lambda b: b.decode("latin-1")))
def test_load_json_gives_values_or_a_validation_error(text: str) -> None:
    for given_text in (text, "[" * 5000 + text, '{"n": ' + "9" * 5000 + text):
        try:
            load_json(given_text)
        except LedgerError as error:
            assert error.code == "validation_error"


SPECIAL_LINES = ["[" * 100_000 + "]" * 100_000, '{"type": ' + "1" * 5000 + "}", "# note", "",
                 '{"type": "register_enterprise", "actor": ["x"]}', '{"amount_yuan": []}']  # fmt: skip
line_texts = st.one_of(
    commands().map(lambda c: json.dumps(c, ensure_ascii=True) if _dumpable(c) else "{"),
    st.text(max_size=80).filter(lambda t: "\n" not in t and "\r" not in t),
    st.builds(lambda i: SPECIAL_LINES[i], st.integers(0, len(SPECIAL_LINES) - 1)),
)


def _dumpable(value: Any) -> bool:
    try:
        json.dumps(value)
    except (ValueError, TypeError, RecursionError):
        return False
    return True


@FUZZ
@given(lines=st.lists(line_texts, min_size=1, max_size=8), fmt=st.sampled_from(["jsonl", "csv"]))
def test_every_import_line_yields_a_command_or_a_stable_code(lines: list[str], fmt: str) -> None:
    text = "\n".join(lines) + "\n"
    try:
        check_file(io.BytesIO(text.encode("utf-8", "surrogatepass")), fmt)
    except LedgerError as error:  # a whole file refused: only ever unreadable_file
        assert error.code == "unreadable_file"
        return
    for line in read_lines(io.StringIO(text, newline=""), fmt, None):
        if line.error is not None:
            assert_refused_cleanly(line.error)
            continue
        try:
            parse_command(line.data)
        except LedgerError as error:
            assert_refused_cleanly(error)


@FUZZ
@given(raw=st.binary(min_size=1, max_size=300), fmt=st.sampled_from(["jsonl", "csv"]))
def test_arbitrary_bytes_are_unreadable_or_read_line_by_line(raw: bytes, fmt: str) -> None:
    try:
        check_file(io.BytesIO(raw), fmt)
    except LedgerError as error:
        assert error.code in ALL_ERROR_CODES and error.code == "unreadable_file"
        text_ok = b"\x00" not in raw and _utf8(raw)
        assert not text_ok or "JSON Lines" in error.message_en or "CSV" in error.message_en
        return
    assert b"\x00" not in raw and _utf8(raw)
    text = raw.decode("utf-8").removeprefix("\ufeff")
    for line in read_lines(io.StringIO(text, newline=""), fmt, None):
        if line.error is not None:
            assert_refused_cleanly(line.error)


def _utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
