"""An import's refused lines leave no reference cycles behind: `ledger import` runs without
full collections (`ledger.tuning.old_objects_unscanned`), so every refusal that kept its
traceback (its frames, and through them the batch's list of results, or marshmallow's error
store) would stay in memory until the import ends. Both stores; refusals of every kind: a line
that is not JSON, a field that does not validate, a command its rules refuse, a CSV row with
a bad amount, and a batch with good lines beside them.
"""

from __future__ import annotations

import gc
import io
import json
from collections.abc import Iterator

import factories as f

from ledger.application import SupportLedger
from ledger.importer import import_lines, read_csv, read_jsonl


def cyclic_exceptions(run) -> tuple[int, object]:  # type: ignore[no-untyped-def]
    """How many exceptions `run()` left in reference cycles (unreachable, found only by a
    full collection), and what `run` returned."""
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)  # what the collection finds goes to gc.garbage
    try:
        result = run()
        gc.collect()
        found = sum(isinstance(garbage, BaseException) for garbage in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    return found, result


def jsonl(lines: list[str]) -> Iterator:  # type: ignore[type-arg]
    return read_jsonl(io.StringIO("".join(line + "\n" for line in lines)))


def test_refused_json_lines_leave_no_cycles(app: SupportLedger) -> None:
    app.execute(f.enterprise(), "olga")
    app.execute(f.budget(), "olga")
    lines = []
    for n in range(40):
        lines += [
            "{not json",
            json.dumps(f.award(f"A-{n}", amount_fen="many")),  # does not validate
            json.dumps(f.approve(f"NOPE-{n}")),  # no such payment: refused by the rules
            json.dumps({**f.award(f"OK-{n}", amount_fen=1_000), "actor": "olga"}),
        ]

    def run():  # type: ignore[no-untyped-def]
        return import_lines(app, jsonl(lines), default_actor="olga", batch_size=50)

    found, report = cyclic_exceptions(run)
    assert report.accepted == 40 and len(report.rejected) == 120
    assert {r.code for r in report.rejected} >= {"validation_error"}
    assert len({r.code for r in report.rejected}) >= 2  # some refused by the rules
    assert found == 0


def test_refused_csv_rows_leave_no_cycles(app: SupportLedger) -> None:
    app.execute(f.enterprise(), "olga")
    app.execute(f.budget(), "olga")
    header = "type,reference,uscc,measure,item,fiscal_year,amount_yuan,decision_ref,granted_on\n"
    rows = "".join(  # every third row's amount is not a number, every third row's year either
        f"grant_award,A-{n},{f.USCC_A},M10,high_value_patent_cultivation,"
        f"{'二〇二五' if n % 3 == 2 else 2025},{'十万' if n % 3 == 1 else '100.00'},"
        "松市监〔2025〕12号,2025-04-01\n"
        for n in range(60)
    )

    def run():  # type: ignore[no-untyped-def]
        return import_lines(
            app, read_csv(io.StringIO(header + rows)), default_actor="olga", batch_size=20
        )

    found, report = cyclic_exceptions(run)
    assert report.accepted == 20 and len(report.rejected) == 40
    assert found == 0
