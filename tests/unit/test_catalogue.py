"""The policy catalogue ships the thirteen measures and refuses a file with any problem."""

from __future__ import annotations

import copy
import json

import pytest

from ledger.catalogue import (
    ITEM_KINDS,
    Catalogue,
    CatalogueError,
    ItemSpec,
    MeasureSpec,
    load_catalogue,
    parse_catalogue,
)

WAN = 1_000_000  # fen in 1万元

POLICY_TITLES = {
    "M01": ("quality", "培育企业质量管理优势"),
    "M02": ("quality", "推动品牌建设和绿色低碳发展"),
    "M03": ("quality", "增强质量提升创新动能"),
    "M04": ("quality", "提升质量基础设施服务效能"),
    "M05": ("standards", "打造高水平标准品牌"),
    "M06": ("standards", "促进标准供给水平提升"),
    "M07": ("standards", "开展标准化技术组织建设"),
    "M08": ("standards", "推进标准化试点项目创建"),
    "M09": ("standards", "推动计量测试技术与产业深度融合"),
    "M10": ("ip", "构建知识产权高质量创造梯度培育体系"),
    "M11": ("ip", "促进知识产权高效益运用"),
    "M12": ("ip", "推进知识产权高效率转移转化"),
    "M13": ("ip", "强化知识产权高标准保护"),
}


@pytest.fixture
def catalogue() -> Catalogue:
    return load_catalogue()


@pytest.fixture
def document(catalogue) -> dict:
    """A fresh, valid catalogue document to break in tests."""
    return copy.deepcopy(catalogue.to_json_dict())


def test_the_catalogue_holds_the_thirteen_measures_in_order(catalogue):
    assert [measure.code for measure in catalogue.measures] == list(POLICY_TITLES)


@pytest.mark.parametrize(("code", "expected"), POLICY_TITLES.items())
def test_each_measure_has_its_policy_title_and_pillar(catalogue, code, expected):
    measure = catalogue.measure(code)
    assert (measure.pillar, measure.title_zh) == expected
    assert measure.title_en
    assert len(measure.items) >= 2


def test_the_catalogue_names_its_policy_and_the_annual_cap(catalogue):
    assert catalogue.policy_ref == "沪松府〔2025〕167号"
    assert catalogue.title_zh == "松江区关于加强质量标准新高地和知识产权建设的若干意见"
    assert catalogue.annual_cap_fen == 100 * WAN == 100_000_000


@pytest.mark.parametrize(
    ("measure", "item", "kind", "max_fen", "counts_towards_cap"),
    [
        ("M01", "china_quality_award", "award", 100 * WAN, False),
        ("M01", "mayor_quality_award", "award", 50 * WAN, True),
        ("M01", "district_quality_award", "award", 30 * WAN, True),
        ("M02", "shanghai_brand_certification", "award", 50 * WAN, True),
        ("M05", "shanghai_standard", "award", 50 * WAN, True),
        ("M06", "lead_international_standard", "award", 100 * WAN, True),
        ("M06", "lead_national_standard", "award", 30 * WAN, True),
        ("M06", "lead_industry_standard", "award", 10 * WAN, True),
        ("M06", "lead_local_standard", "award", 10 * WAN, True),
        ("M07", "tc_secretariat_international", "award", 100 * WAN, True),
        ("M07", "tc_secretariat_national", "award", 50 * WAN, True),
        ("M08", "standardisation_pilot_national", "award", 30 * WAN, True),
        ("M08", "standardisation_pilot_municipal", "award", 15 * WAN, True),
        ("M10", "china_patent_award_gold", "award", 100 * WAN, False),
        ("M10", "china_patent_award_silver", "award", 50 * WAN, False),
        ("M10", "china_patent_award_excellent", "award", 20 * WAN, False),
        ("M10", "shanghai_ip_innovation_award", "award", 100 * WAN, True),
        ("M11", "patent_intensive_product", "award", 1 * WAN, True),
        ("M11", "pledge_loan_interest_subsidy", "interest_subsidy", 50 * WAN, True),
        ("M12", "patent_transfer_subsidy", "subsidy", 50 * WAN, True),
    ],
)
def test_the_named_items_have_their_kind_and_maximum(
    catalogue, measure, item, kind, max_fen, counts_towards_cap
):
    spec = catalogue.item(measure, item)
    assert (spec.kind, spec.max_fen, spec.counts_towards_cap) == (kind, max_fen, counts_towards_cap)


def test_the_pledge_loan_subsidy_pays_half_the_interest(catalogue):
    rule = catalogue.item("M11", "pledge_loan_interest_subsidy")
    assert "50%" in rule.rule_zh
    assert "50%" in rule.rule_en


def test_the_patent_transfer_subsidy_is_ten_percent_of_the_contract(catalogue):
    rule = catalogue.item("M12", "patent_transfer_subsidy")
    assert "10%" in rule.rule_zh
    assert "university" in rule.rule_en


def test_the_protection_measure_supports_dispute_mediation(catalogue):
    assert catalogue.item("M13", "dispute_mediation").kind == "subsidy"


def test_every_packaged_item_is_well_formed(catalogue):
    for measure in catalogue.measures:
        codes = [item.code for item in measure.items]
        assert len(codes) == len(set(codes)), measure.code
        for item in measure.items:
            assert item.kind in ITEM_KINDS
            assert item.max_fen is None or item.max_fen % 100 == 0  # whole yuan
            assert (item.rule_zh is None) == (item.rule_en is None), item.code


def test_an_unknown_measure_or_item_raises_key_error(catalogue):
    with pytest.raises(KeyError):
        catalogue.measure("M14")
    with pytest.raises(KeyError):
        catalogue.measure("M01").item("china_patent_award_gold")
    with pytest.raises(KeyError):
        catalogue.item("M10", "no_such_item")


def test_the_packaged_catalogue_is_read_once(catalogue):
    assert load_catalogue() is catalogue


def test_the_catalogue_records_are_immutable(catalogue):
    with pytest.raises(AttributeError):
        catalogue.annual_cap_fen = 1  # type: ignore[misc]
    assert isinstance(catalogue.measures, tuple)
    assert isinstance(catalogue.measures[0].items, tuple)


def test_the_json_form_round_trips_through_a_file(catalogue, tmp_path):
    path = tmp_path / "catalogue.json"
    path.write_text(json.dumps(catalogue.to_json_dict(), ensure_ascii=False), encoding="utf-8")
    assert load_catalogue(path) == catalogue
    assert load_catalogue(str(path)) == catalogue


def test_the_json_form_has_the_documented_shape(catalogue):
    document = catalogue.to_json_dict()
    assert set(document) == {"policy_ref", "title_zh", "title_en", "annual_cap_fen", "measures"}
    measure = document["measures"][0]
    assert set(measure) == {"code", "pillar", "title_zh", "title_en", "items"}
    assert set(measure["items"][0]) == {
        "code",
        "title_zh",
        "title_en",
        "kind",
        "max_fen",
        "counts_towards_cap",
        "rule_zh",
        "rule_en",
    }


def test_a_custom_catalogue_may_hold_any_measures(tmp_path):
    item = ItemSpec("test_item", "测试", "Test", "award", None, True, None, None)
    small = Catalogue(
        "TEST", "测试", "Test", 10 * WAN, (MeasureSpec("M01", "ip", "测", "T", (item,)),)
    )
    path = tmp_path / "small.json"
    path.write_text(json.dumps(small.to_json_dict()), encoding="utf-8")
    assert load_catalogue(path) == small


def test_rule_texts_may_be_left_out_of_a_custom_file(document):
    for measure in document["measures"]:
        for item in measure["items"]:
            del item["rule_zh"], item["rule_en"]
    loaded = parse_catalogue(document)
    assert loaded.item("M11", "pledge_loan_interest_subsidy").rule_en is None


def test_the_packaged_rules_require_all_thirteen_measures(document):
    del document["measures"][12]
    parse_catalogue(document)  # a custom catalogue may do without M13
    with pytest.raises(CatalogueError, match="M01 to M13"):
        parse_catalogue(document, require_policy_measures=True)


def test_the_packaged_rules_require_each_measure_in_its_pillar(document):
    document["measures"][0]["pillar"] = "ip"
    with pytest.raises(CatalogueError, match=r"M01\.pillar: must be 'quality'"):
        parse_catalogue(document, require_policy_measures=True)


def test_a_catalogue_error_lists_every_problem_found(document):
    document["annual_cap_fen"] = 1.5
    document["surprise"] = True
    document["measures"][1]["code"] = "M01"
    document["measures"][2]["pillar"] = "culture"
    items = document["measures"][3]["items"]
    items[0]["kind"] = "gift"
    items[1]["max_fen"] = -1
    items[2]["code"] = items[1]["code"]
    del items[2]["title_en"]
    document["measures"][4]["items"][0]["counts_towards_cap"] = "yes"
    document["measures"][5]["items"][0]["code"] = "Lead International"
    document["measures"][6]["items"] = []

    with pytest.raises(CatalogueError) as caught:
        parse_catalogue(document, source="broken.json")

    problems = "\n".join(caught.value.problems)
    for expected in [
        "annual_cap_fen must be an integer number of fen, not float",
        "unknown field(s) surprise",
        "measures[1].code: duplicate 'M01'",
        "pillar: must be one of quality, standards, ip, not 'culture'",
        "kind: must be one of award, subsidy, matching, interest_subsidy, not 'gift'",
        "max_fen must not be negative",
        "items[2].code: duplicate",
        "missing title_en",
        "counts_towards_cap: must be true or false, not 'yes'",
        "code: must be lowercase snake_case, not 'Lead International'",
        "(M07).items: must be a non-empty list",
    ]:
        assert expected in problems
    assert len(caught.value.problems) == 11
    assert "broken.json has 11 problem(s)" in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_a_field_that_is_missing_is_reported_once(document):
    del document["measures"][0]["items"][0]["max_fen"]
    with pytest.raises(CatalogueError) as caught:
        parse_catalogue(document)
    assert caught.value.problems == ("measures[0] (M01).items[0]: missing max_fen",)


@pytest.mark.parametrize("max_fen", [True, "100", 1.0])
def test_an_item_maximum_must_be_an_integer_or_null(document, max_fen):
    document["measures"][0]["items"][0]["max_fen"] = max_fen
    with pytest.raises(CatalogueError, match="max_fen must be an integer number of fen"):
        parse_catalogue(document)


@pytest.mark.parametrize("data", [[], "catalogue", None])
def test_a_catalogue_must_be_a_json_object(data):
    with pytest.raises(CatalogueError, match="must be a JSON object"):
        parse_catalogue(data)


def test_a_file_that_is_not_json_is_refused(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(CatalogueError, match="not valid JSON"):
        load_catalogue(path)
