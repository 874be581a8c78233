"""Amounts in Chinese capitals: hand-written cases (零 and 整 placement), and for amounts drawn
from the whole range 0.01–999,999,999.99 yuan, capitals that read back to the same fen and
keep the writing rules."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ledger.amount_words import MAX_CAPITALS_FEN, capitals

CASES = {
    # the example, and 零 for a zero 角 between yuan and fen
    1_234_567: "壹万贰仟叁佰肆拾伍元陆角柒分",
    100_506: "壹仟零伍元零陆分",
    # 整 after 元 and after 角, never after 分
    1_000_000: "壹万元整",
    100: "壹元整",
    150: "壹元伍角整",
    2_010: "贰拾元壹角整",
    1_001: "壹拾元零壹分",
    # below one yuan; nothing at all
    1: "壹分",
    6: "陆分",
    50: "伍角整",
    56: "伍角陆分",
    0: "零元整",
    # 壹拾 is written in full
    1_000: "壹拾元整",
    11_000_000: "壹拾壹万元整",
    1_100_000: "壹万壹仟元整",
    # a zero 元 digit before a jiao is not written; trailing zeros never are
    168_032: "壹仟陆佰捌拾元叁角贰分",
    # (the rules' own examples: 1,680.32 and 107,000.53 yuan, each in one of its two allowed forms)
    10_700_053: "壹拾万零柒仟元伍角叁分",
    # one 零 for a run of zeros, across an empty 万 group, and before a 仟 after 万 or 亿
    10_000_000_100: "壹亿零壹元整",
    10_001_000_000: "壹亿零壹万元整",
    10_000_100_000: "壹亿零壹仟元整",
    1_000_100_000: "壹仟万零壹仟元整",
    10_100_000_000: "壹亿零壹佰万元整",
    11_000_000_000: "壹亿壹仟万元整",
    100_010_000: "壹佰万零壹佰元整",
    101_010_101: "壹佰零壹万零壹佰零壹元零壹分",
    10_000_000_001: "壹亿元零壹分",
    20_000_000: "贰拾万元整",
    # the ends of the range
    99_999_999_999: "玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分",
    MAX_CAPITALS_FEN: "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分",
}


@pytest.mark.parametrize(("amount_fen", "words"), CASES.items())
def test_capitals_are_written_as_the_rules_say(amount_fen: int, words: str) -> None:
    assert capitals(amount_fen) == words


@pytest.mark.parametrize("bad", [-1, MAX_CAPITALS_FEN + 1, 1.5, "100", None, True])
def test_capitals_refuse_what_is_not_whole_fen_in_range(bad: object) -> None:
    with pytest.raises(ValueError):
        capitals(bad)  # type: ignore[arg-type]


# An independent reading of capitals back into fen (not the writer's algorithm).
_VALUE = {c: i for i, c in enumerate("零壹贰叁肆伍陆柒捌玖")}
_SMALL = {"拾": 10, "佰": 100, "仟": 1000}


def _read_integer(text: str) -> int:
    total, section, digit = 0, 0, 0
    for char in text:
        if char in _VALUE:
            digit = _VALUE[char]
        elif char in _SMALL:
            section += digit * _SMALL[char]
            digit = 0
        elif char == "万":
            total += (section + digit) * 10_000
            section = digit = 0
        elif char == "亿":
            total = (total + section + digit) * 100_000_000
            section = digit = 0
        else:
            raise AssertionError(f"unexpected {char!r} in {text!r}")
    return total + section + digit


def read_back(words: str) -> int:
    """Capitals → fen."""
    match = re.fullmatch(r"(?:(.+)元)?(?:零)?(?:(.)角)?(?:(.)分)?(整)?", words)
    assert match, words
    yuan_text, jiao, fen, _whole = match.groups()
    yuan = _read_integer(yuan_text) if yuan_text else 0
    return yuan * 100 + (_VALUE[jiao] * 10 if jiao else 0) + (_VALUE[fen] if fen else 0)


#: Amounts with many zeros in them (where 零 goes wrong), drawn digit by digit.
sparse_amounts = st.lists(
    st.sampled_from("0000000123456789"), min_size=1, max_size=11
).map(lambda digits: int("".join(digits)))


@settings(max_examples=1000, deadline=None)
@given(st.one_of(st.integers(1, 99_999_999_999), sparse_amounts.filter(lambda n: n >= 1)))
@example(1)
@example(99_999_999_999)
def test_every_amount_in_range_reads_back_exactly_and_keeps_the_rules(amount_fen: int) -> None:
    words = capitals(amount_fen)
    assert read_back(words) == amount_fen
    assert "零零" not in words
    assert not words.startswith("零")
    assert not re.search(r"零[元万亿角分整]", words), words
    assert not re.search(r"[万亿]{2}", words), words
    assert words.endswith("分") == (amount_fen % 10 != 0)
    assert words.endswith("整") == (amount_fen % 10 == 0)
    assert ("元" in words) == (amount_fen >= 100)
