"""Public disclosure of the demo year in the 360Giving Data Standard: the package validates
against the standard's package and grant schemas (draft 2020-12, formats checked) with zero
errors, and every grant's figures agree with a recomputation from the events themselves."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from giving360_schemas import package_validator

from ledger.demo import load_demo
from ledger.domain import Award
from ledger.storage import open_ledger
from projections import giving360
from projections.queries import public as public_queries
from projections.runner import catch_up

YEAR = 2025
FUNDER = giving360.Publication(funder_org_id="CN-USCC-11310117MB0000000X")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def demo_app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The demo year on each store, views caught up (loaded once per module and store)."""
    import uuid

    from stores import drop_schema, postgres_base_url

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('public')}/demo.sqlite3"
    else:
        base = postgres_base_url()
        url = f"{base}{'&' if '?' in base else '?'}schema=t_{uuid.uuid4().hex[:16]}"
    app = open_ledger(url)
    try:
        load_demo(app, seed=2025, fiscal_year=YEAR, password=None)
        catch_up(app)
        yield app
    finally:
        app.close()
        if request.param == "postgres":
            drop_schema(url)


def _package(app: Any, publication: giving360.Publication = FUNDER) -> dict[str, Any]:
    chunks = giving360.package_chunks(
        public_queries.iter_public_awards(app), publication, app.catalogue,
        "2025-12-31T18:00:00+08:00",
    )  # fmt: skip
    return json.loads("".join(chunks))


def _from_events(app: Any) -> dict[str, dict[str, Any]]:
    """Each award's standing amount and approved-not-reversed payments, from the events."""
    awards: dict[str, dict[str, Any]] = {}
    by_id: dict[Any, str] = {}
    payments: dict[str, dict[str, Any]] = {}
    last = None
    while True:
        page = app.recorder.select_notifications(start=last, limit=1000, inclusive_of_start=False)
        if not page:
            break
        for notification in page:
            event = app.mapper.to_domain_event(notification)
            match event:
                case Award.Granted():
                    by_id[event.originator_id] = event.reference
                    awards[event.reference] = {
                        "uscc": event.uscc, "standing_fen": event.amount_fen, "paid": {},
                    }  # fmt: skip
                case Award.Revoked():
                    awards[by_id[event.originator_id]]["standing_fen"] -= event.revoked_fen
                case Award.DisbursementRecorded():
                    payments[event.reference] = {
                        "award": by_id[event.originator_id], "fen": event.amount_fen,
                        "on": event.paid_on.isoformat(),
                    }  # fmt: skip
                case Award.DisbursementApproved():
                    p = payments[event.reference]
                    awards[p["award"]]["paid"][event.reference] = p
                case Award.DisbursementReversed():
                    awards[by_id[event.originator_id]]["paid"].pop(event.reference)
        last = page[-1].id
    return awards


def _fen(value: Any) -> int:
    return int(Decimal(str(value)) * 100)


@pytest.mark.slow
def test_the_demo_years_360giving_package_validates_with_zero_errors(demo_app: Any) -> None:
    package = _package(demo_app)
    errors = sorted(package_validator().iter_errors(package), key=lambda e: list(e.path))
    assert [f"{list(e.path)}: {e.message}" for e in errors[:20]] == []
    assert len(package["grants"]) > 1_500
    assert {g["currency"] for g in package["grants"]} == {"CNY"}


@pytest.mark.slow
def test_every_grant_agrees_with_the_events_net_of_revocations_and_reversals(demo_app: Any) -> None:
    expected = _from_events(demo_app)
    grants = _package(demo_app)["grants"]
    seen: dict[str, int] = defaultdict(int)
    for g in grants:
        reference = g["id"].removeprefix(FUNDER.grant_id_prefix)
        award = expected.pop(reference)
        assert _fen(g["amountAwarded"]) == award["standing_fen"], reference
        assert g["recipientOrganization"][0]["id"] == f"CN-USCC-{award['uscc']}"
        assert g["fundingOrganization"][0]["id"] == FUNDER.funder_org_id
        paid = {k: (p["fen"], p["on"]) for k, p in award["paid"].items()}
        shown = {t["id"]: (_fen(t["value"]), t["transactionDate"]) for t in g["disbursementTransaction"]}
        assert shown == paid, reference
        assert _fen(g["amountDisbursed"]) == sum(fen for fen, _ in paid.values())
        seen["paid"] += bool(paid)
    # what is not disclosed is only what nothing stands of (wholly revoked)
    assert all(a["standing_fen"] == 0 for a in expected.values())
    assert seen["paid"] > 100


@pytest.mark.slow
def test_the_csv_has_a_row_per_grant_and_the_same_totals(demo_app: Any) -> None:
    grants = _package(demo_app)["grants"]
    text = "".join(giving360.csv_chunks(
        public_queries.iter_public_awards(demo_app), FUNDER, demo_app.catalogue,
        "2025-12-31T18:00:00+08:00",
    ))  # fmt: skip
    assert text.startswith("\ufeffIdentifier,")
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert len(rows) == len(grants)
    assert sum(_fen(r["Amount Awarded"]) for r in rows) == sum(_fen(g["amountAwarded"]) for g in grants)
    totals = public_queries.public_totals(demo_app)
    assert totals.awards == len(grants)
    assert totals.awarded_fen == sum(_fen(r["Amount Awarded"]) for r in rows)
    assert totals.disbursed_fen == sum(_fen(r["Amount Disbursed"]) for r in rows)


def test_an_unpublished_field_is_left_out_and_a_required_one_blocks_the_export() -> None:
    publication = giving360.Publication.from_env({
        "LEDGER_FUNDER_ORG_ID": "CN-USCC-X", "LEDGER_PUBLIC_FIELDS": "enterprise_name,uscc,amount,granted_on",
    })  # fmt: skip
    assert not publication.shows("decision_ref") and not publication.shows("disbursed")
    publication.check_open_data()
    with pytest.raises(giving360.PublicationIncomplete) as raised:
        giving360.Publication.from_env({"LEDGER_PUBLIC_FIELDS": "uscc,amount"}).check_open_data()
    assert raised.value.missing == ("LEDGER_FUNDER_ORG_ID", "enterprise_name", "granted_on")
    with pytest.raises(ValueError, match="actor"):
        giving360.Publication.from_env({"LEDGER_PUBLIC_FIELDS": "uscc,actor"})
    assert not giving360.Publication.from_env({"LEDGER_PUBLIC_DISCLOSURE": "0"}).enabled


def test_yuan_numbers_are_exact_for_any_fen() -> None:
    for fen in (0, 1, 10, 99, 100, 12_345_67, 99_999_999_999, 123_456_789_01):
        assert Decimal(str(giving360.yuan_number(fen))) * 100 == fen
