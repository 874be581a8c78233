"""Credit codes, patent and trademark numbers and town codes are validated exactly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.identifiers import (
    TOWNS,
    USCC_ALPHABET,
    InvalidIdentifier,
    Town,
    make_org_code,
    make_patent_no,
    make_uscc,
    resolve_town,
    validate_patent_no,
    validate_town_code,
    validate_trademark_no,
    validate_uscc,
)

PUBLISHED_USCCS = ["914403001922038216", "9144030071526726XG", "91330100716105852F"]
PUBLISHED_PATENT_NOS = ["201710601862.3", "201310699744.2", "97101765.4", "95115608.X"]


def mod31_check(body17: str) -> str:
    """The credit code check character, computed here independently of the module."""
    total = sum(USCC_ALPHABET.index(c) * (3**i % 31) for i, c in enumerate(body17))
    return USCC_ALPHABET[-total % 31]


def mod11_check(digits: str) -> str:
    """The patent check character, computed here independently of the module."""
    total = sum(int(d) * [2, 3, 4, 5, 6, 7, 8, 9][i % 8] for i, d in enumerate(digits))
    return "0123456789X"[total % 11]


# --- unified social credit codes ------------------------------------------------------


@pytest.mark.parametrize("code", PUBLISHED_USCCS)
def test_published_credit_codes_are_valid(code):
    assert validate_uscc(code) == code


def test_a_credit_code_is_stripped_and_uppercased():
    assert validate_uscc("  9144030071526726xg\n") == "9144030071526726XG"


def test_a_credit_code_typed_in_full_width_characters_is_folded_to_ascii():
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in "91330100716105852F")
    assert validate_uscc(full_width) == "91330100716105852F"


@pytest.mark.parametrize("code", PUBLISHED_USCCS)
def test_every_single_character_change_of_a_credit_code_is_refused(code):
    accepted = []
    for position in range(18):
        for symbol in USCC_ALPHABET:
            if symbol == code[position]:
                continue
            changed = code[:position] + symbol + code[position + 1 :]
            try:
                validate_uscc(changed)
            except InvalidIdentifier as exc:
                assert exc.kind == "uscc"
            else:
                accepted.append(changed)
    assert accepted == []


@pytest.mark.parametrize("code", ["91440300192203821", "9144030019220382161", ""])
def test_a_credit_code_of_the_wrong_length_is_refused(code):
    with pytest.raises(InvalidIdentifier) as caught:
        validate_uscc(code)
    assert caught.value.kind == "uscc"
    assert caught.value.error_code == "invalid_uscc"


def test_the_length_error_says_how_many_characters_were_given():
    with pytest.raises(InvalidIdentifier, match="18 characters, not 17"):
        validate_uscc("91440300192203821")


@pytest.mark.parametrize("letter", "IOSVZ")
def test_a_letter_outside_the_credit_code_alphabet_is_refused_with_its_position(letter):
    code = "9144" + letter + "3001922038216"
    with pytest.raises(InvalidIdentifier) as caught:
        validate_uscc(code)
    assert caught.value.position == 5
    assert "position 5" in str(caught.value)
    assert "第 5 位" in caught.value.message_zh


def test_a_wrong_check_character_is_named_as_such():
    with pytest.raises(InvalidIdentifier, match="check character") as caught:
        validate_uscc("914403001922038217")
    assert caught.value.position == 18


def test_an_embedded_organisation_code_that_fails_its_check_is_refused():
    body = "91440300" + "19220382" + "2"  # the organisation code's check should be 1
    code = body + mod31_check(body)
    with pytest.raises(InvalidIdentifier, match="organisation code") as caught:
        validate_uscc(code)
    assert caught.value.position == 17


def test_an_invalid_identifier_is_a_value_error_with_messages_in_both_languages():
    with pytest.raises(ValueError) as caught:
        validate_uscc("not a code")
    error = caught.value
    assert isinstance(error, InvalidIdentifier)
    assert str(error) == error.message_en
    assert error.message_zh and error.message_zh != error.message_en
    assert error.value == "not a code"


def test_a_credit_code_that_is_not_text_is_refused():
    with pytest.raises(InvalidIdentifier, match="must be text"):
        validate_uscc(914403001922038216)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("body8", "org_code"),
    [("19220382", "192203821"), ("71526726", "71526726X"), ("71610585", "716105852")],
)
def test_make_org_code_appends_the_published_check_character(body8, org_code):
    assert make_org_code(body8) == org_code


def test_make_org_code_writes_a_check_of_eleven_as_zero():
    bodies = (f"{n:08d}" for n in range(10_000))
    body = next(b for b in bodies if make_org_code(b)[-1] == "0")
    weights = [3, 7, 9, 10, 5, 8, 4, 2]
    assert sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11 == 0


@pytest.mark.parametrize("body8", ["1922038", "192203821", "1922-382"])
def test_make_org_code_refuses_a_body_that_is_not_eight_symbols(body8):
    with pytest.raises(InvalidIdentifier):
        make_org_code(body8)


@pytest.mark.parametrize("code", PUBLISHED_USCCS)
def test_make_uscc_rebuilds_the_published_codes(code):
    assert make_uscc(code[:17]) == code


def test_make_uscc_refuses_a_body_whose_organisation_code_is_wrong():
    with pytest.raises(InvalidIdentifier, match="organisation code"):
        make_uscc("91440300192203822")


@given(
    head=st.text(alphabet=USCC_ALPHABET, min_size=8, max_size=8),
    org_body=st.text(alphabet=USCC_ALPHABET, min_size=8, max_size=8),
)
def test_make_uscc_of_any_valid_body_validates(head, org_body):
    code = make_uscc(head + make_org_code(org_body))
    assert validate_uscc(code) == code
    assert code[-1] == mod31_check(code[:17])


# --- patent application numbers -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("201710601862.3", "201710601862.3"),
        ("ZL201310699744.2", "201310699744.2"),
        ("97101765.4", "97101765.4"),
        ("95115608.X", "95115608.X"),
        ("CN201710601862.3", "201710601862.3"),
        ("zl 2013 1069 9744.2", "201310699744.2"),
        ("2017106018623", "201710601862.3"),
        ("95115608x", "95115608.X"),
        (" ZL 97101765.4 ", "97101765.4"),
        ("ＺＬ２０１３１０６９９７４４．２", "201310699744.2"),
    ],
)
def test_patent_numbers_are_accepted_in_their_usual_spellings(text, canonical):
    assert validate_patent_no(text) == canonical


def test_a_patent_number_with_a_wrong_check_digit_is_refused():
    with pytest.raises(InvalidIdentifier, match="check character") as caught:
        validate_patent_no("202310123456.7")
    assert caught.value.kind == "patent_no"
    assert caught.value.error_code == "invalid_patent_no"


@pytest.mark.parametrize("number", PUBLISHED_PATENT_NOS)
def test_every_single_character_change_of_a_patent_number_is_refused(number):
    accepted = []
    for position, original in enumerate(number):
        if original == ".":
            continue
        for symbol in "0123456789X":
            if symbol == original:
                continue
            changed = number[:position] + symbol + number[position + 1 :]
            try:
                validate_patent_no(changed)
            except InvalidIdentifier:
                pass
            else:
                accepted.append(changed)
    assert accepted == []


def test_a_patent_number_with_an_implausible_year_is_refused():
    body = "198410601862"
    with pytest.raises(InvalidIdentifier, match="year 1984"):
        validate_patent_no(f"{body}.{mod11_check(body)}")


@pytest.mark.parametrize("body", ["201740601862", "201700601862", "97401765"])
def test_a_patent_number_with_an_unknown_type_digit_is_refused(body):
    with pytest.raises(InvalidIdentifier, match="type digit"):
        validate_patent_no(f"{body}.{mod11_check(body)}")


def test_an_eight_digit_patent_number_from_after_2003_is_refused():
    body = "10101765"
    with pytest.raises(InvalidIdentifier, match="two-digit year"):
        validate_patent_no(f"{body}.{mod11_check(body)}")


@pytest.mark.parametrize(
    "text",
    ["", "abc", "20171060186.3", "2017106018623.3", "CN201710601862.3A", "US201710601862.3"],
)
def test_text_that_is_not_shaped_like_a_patent_number_is_refused(text):
    with pytest.raises(InvalidIdentifier) as caught:
        validate_patent_no(text)
    assert caught.value.kind == "patent_no"


@pytest.mark.parametrize("number", PUBLISHED_PATENT_NOS)
def test_make_patent_no_appends_the_published_check_digit(number):
    assert make_patent_no(number.split(".")[0]) == number


def test_make_patent_no_refuses_an_implausible_body():
    with pytest.raises(InvalidIdentifier):
        make_patent_no("202350123456")


@given(
    year=st.integers(2003, 2099),
    type_digit=st.sampled_from("12389"),
    serial=st.integers(0, 9_999_999),
)
def test_make_patent_no_of_any_plausible_body_validates(year, type_digit, serial):
    number = make_patent_no(f"{year}{type_digit}{serial:07d}")
    assert validate_patent_no(number) == number
    assert number[-1] == mod11_check(number[:12])


# --- trademark registration numbers ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number"), [("8", "8"), (" 12345678 ", "12345678"), ("1234567890", "1234567890")]
)
def test_trademark_numbers_are_one_to_ten_digits(text, number):
    assert validate_trademark_no(text) == number


@pytest.mark.parametrize("text", ["", "12345678901", "12a4", "-123", "12 34"])
def test_anything_else_is_not_a_trademark_number(text):
    with pytest.raises(InvalidIdentifier) as caught:
        validate_trademark_no(text)
    assert caught.value.kind == "trademark_no"


# --- towns ----------------------------------------------------------------------------

EXPECTED_TOWNS = {
    "310117001": ("岳阳街道", "Yueyang", "subdistrict"),
    "310117002": ("永丰街道", "Yongfeng", "subdistrict"),
    "310117003": ("方松街道", "Fangsong", "subdistrict"),
    "310117004": ("中山街道", "Zhongshan", "subdistrict"),
    "310117005": ("广富林街道", "Guangfulin", "subdistrict"),
    "310117006": ("九里亭街道", "Jiuliting", "subdistrict"),
    "310117101": ("泗泾镇", "Sijing", "town"),
    "310117102": ("佘山镇", "Sheshan", "town"),
    "310117103": ("车墩镇", "Chedun", "town"),
    "310117104": ("新桥镇", "Xinqiao", "town"),
    "310117105": ("洞泾镇", "Dongjing", "town"),
    "310117106": ("九亭镇", "Jiuting", "town"),
    "310117107": ("泖港镇", "Maogang", "town"),
    "310117116": ("石湖荡镇", "Shihudang", "town"),
    "310117117": ("新浜镇", "Xinbang", "town"),
    "310117118": ("叶榭镇", "Yexie", "town"),
    "310117121": ("小昆山镇", "Xiaokunshan", "town"),
}


def test_songjiang_has_six_subdistricts_and_eleven_towns():
    kinds = [town.kind for town in TOWNS.values()]
    assert len(TOWNS) == 17
    assert kinds.count("subdistrict") == 6
    assert kinds.count("town") == 11


@pytest.mark.parametrize(("code", "expected"), EXPECTED_TOWNS.items())
def test_each_town_code_validates_and_names_its_town(code, expected):
    assert validate_town_code(code) == code
    assert TOWNS[code] == Town(code, *expected)


def test_the_towns_are_exactly_the_seventeen_expected():
    assert list(TOWNS) == list(EXPECTED_TOWNS)


def test_the_town_table_cannot_be_changed():
    with pytest.raises(TypeError):
        TOWNS["310117999"] = Town("310117999", "某镇", "Mou", "town")  # type: ignore[index]


def test_the_twelve_digit_statistical_town_code_is_shortened():
    assert validate_town_code("310117102000") == "310117102"


@pytest.mark.parametrize("text", ["", "310117", "310117999", "310118001", "310117102001", "佘山镇"])
def test_a_code_that_is_not_a_songjiang_town_is_refused(text):
    with pytest.raises(InvalidIdentifier) as caught:
        validate_town_code(text)
    assert caught.value.kind == "town_code"
    assert caught.value.error_code == "invalid_town"


@pytest.mark.parametrize(
    "text", ["310117102", "佘山镇", "佘山", "Sheshan", "sheshan town", "SHESHAN"]
)
def test_a_town_can_be_found_by_code_or_by_name(text):
    assert resolve_town(text).code == "310117102"


def test_an_unknown_town_name_is_refused():
    with pytest.raises(InvalidIdentifier) as caught:
        resolve_town("浦东新区")
    assert caught.value.kind == "town_code"
