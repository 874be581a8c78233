"""Money is integer fen: yuan text is parsed exactly, formatted exactly, checked strictly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.money import (
    FEN_PER_WAN,
    MAX_FEN,
    MoneyError,
    check_fen,
    format_wan,
    format_yuan,
    parse_yuan,
)


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("1,234.56", 123456),
        ("12", 1200),
        ("12.5", 1250),
        ("0.05", 5),
        ("0.1", 10),
        ("0", 0),
        ("¥1,000.00", 100000),
        ("￥1,000.00", 100000),
        ("1000元", 100000),
        ("¥ 1,000 元", 100000),
        ("  42.00  ", 4200),
        ("1,234,567,890.12", 123456789012),
        ("１，２３４．５６", 123456),
        ("1000000", 100000000),
    ],
)
def test_yuan_text_is_parsed_to_exact_fen(text, fen):
    assert parse_yuan(text) == fen


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1.234", "more than two decimal places"),
        ("1,234.567", "more than two decimal places"),
        ("1,23.00", "thousands separators"),
        ("1234,567", "thousands separators"),
        (",123", "not a yuan amount"),
        ("", "empty"),
        ("   ", "empty"),
        ("abc", "not a yuan amount"),
        ("12.", "not a yuan amount"),
        (".5", "not a yuan amount"),
        ("1e3", "not a yuan amount"),
        ("12 34", "not a yuan amount"),
        ("+12", "not a yuan amount"),
        ("--12", "two minus signs"),
        ("NaN", "not a yuan amount"),
    ],
)
def test_text_that_is_not_an_exact_yuan_amount_is_refused(text, reason):
    with pytest.raises(MoneyError, match=reason):
        parse_yuan(text, allow_negative=True)


def test_a_negative_amount_is_refused_unless_allowed():
    with pytest.raises(MoneyError, match="negative"):
        parse_yuan("-12.50")
    assert parse_yuan("-12.50", allow_negative=True) == -1250
    assert parse_yuan("-¥1,000", allow_negative=True) == -100000
    assert parse_yuan("¥-1,000", allow_negative=True) == -100000
    assert parse_yuan("−3", allow_negative=True) == -300  # U+2212 MINUS SIGN


def test_minus_zero_is_zero():
    assert parse_yuan("-0.00") == 0


def test_a_float_is_not_yuan_text():
    with pytest.raises(MoneyError, match="must be text"):
        parse_yuan(12.5)  # type: ignore[arg-type]


def test_a_money_error_is_a_value_error_with_messages_in_both_languages():
    with pytest.raises(ValueError) as caught:
        parse_yuan("1.234")
    error = caught.value
    assert isinstance(error, MoneyError)
    assert str(error) == error.message_en
    assert "两位小数" in error.message_zh


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (123456, "1,234.56"),
        (-123456, "-1,234.56"),
        (0, "0.00"),
        (5, "0.05"),
        (-5, "-0.05"),
        (100, "1.00"),
        (100_000_000, "1,000,000.00"),
    ],
)
def test_fen_are_formatted_as_yuan_with_separators(fen, text):
    assert format_yuan(fen) == text


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (100_000_000, "100万"),
        (1_000_000, "1万"),
        (1_500_000, "1.5万"),
        (50_000_000, "50万"),
        (5, "0.000005万"),
        (0, "0万"),
        (-2_000_000, "-2万"),
    ],
)
def test_fen_are_formatted_exactly_in_wan(fen, text):
    assert format_wan(fen) == text


def test_one_wan_is_a_million_fen():
    assert FEN_PER_WAN == 1_000_000


@pytest.mark.parametrize("value", [1.5, True, "100", None])
def test_only_an_int_can_be_formatted(value):
    with pytest.raises(MoneyError):
        format_yuan(value)
    with pytest.raises(MoneyError):
        format_wan(value)


@given(st.integers())
def test_formatted_yuan_parse_back_to_the_same_fen(fen):
    assert parse_yuan(format_yuan(fen), allow_negative=True) == fen


@given(whole=st.integers(0, 10**15), fen=st.integers(0, 99))
def test_two_decimal_yuan_text_is_exact(whole, fen):
    assert parse_yuan(f"{whole}.{fen:02d}") == whole * 100 + fen
    assert parse_yuan(f"{whole:,}.{fen:02d}元") == whole * 100 + fen


def test_check_fen_returns_a_valid_amount():
    assert check_fen(123, field="amount_fen") == 123
    assert check_fen(MAX_FEN, field="amount_fen") == MAX_FEN


@pytest.mark.parametrize("value", [True, False, 1.0, "100", None])
def test_check_fen_refuses_anything_but_an_int(value):
    with pytest.raises(MoneyError, match="amount_fen must be an integer") as caught:
        check_fen(value, field="amount_fen")
    assert caught.value.field == "amount_fen"


def test_check_fen_refuses_zero_unless_allowed():
    with pytest.raises(MoneyError, match="delta_fen must not be zero"):
        check_fen(0, field="delta_fen")
    assert check_fen(0, field="delta_fen", allow_zero=True) == 0


def test_check_fen_refuses_a_negative_amount_unless_allowed():
    with pytest.raises(MoneyError, match="delta_fen must not be negative"):
        check_fen(-5, field="delta_fen")
    assert check_fen(-5, field="delta_fen", allow_negative=True) == -5


def test_allowing_negative_amounts_does_not_allow_zero():
    with pytest.raises(MoneyError, match="zero"):
        check_fen(0, field="delta_fen", allow_negative=True)


@pytest.mark.parametrize("value", [MAX_FEN + 1, -MAX_FEN - 1, 10**30])
def test_check_fen_refuses_an_amount_too_large_for_json_clients(value):
    with pytest.raises(MoneyError, match="out of range"):
        check_fen(value, field="amount_fen", allow_negative=True)
