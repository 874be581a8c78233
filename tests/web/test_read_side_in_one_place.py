"""The read side in one place: the views' SQL lives in projections.queries, every list follows
one paging rule, the CLI, the pages and the API show the same records, and the presentation
helpers (yuan, Shanghai time) exist once."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import factories as f
from click.testing import CliRunner

from ledger.money import format_yuan
from ledger.shanghai import shanghai_iso, shanghai_time
from projections import queries
from projections import tables as view_tables
from projections.runner import catch_up

ROOT = Path(__file__).resolve().parents[2]


def _texts(folder: str) -> dict[Path, str]:
    files = [p for p in (ROOT / folder).rglob("*") if p.suffix in (".py", ".html", ".js")]
    return {p: p.read_text(encoding="utf-8") for p in files if "translations" not in p.parts}


def test_the_web_names_no_view_table() -> None:
    names = [t.name for t in view_tables.ALL_TABLES]
    assert names and all(n.startswith("pv_") for n in names)  # the prefix the grep relies on
    found = {
        str(path.relative_to(ROOT)): sorted(set(re.findall(r"pv_[a-z_]+", text)))
        for path, text in _texts("web").items()
        if "pv_" in text
    }
    assert found == {}, f"the web names view tables (ask projections.queries): {found}"


def test_sql_over_the_views_is_written_only_in_projections_queries() -> None:
    """No SELECT over a view table in the web or the write side; in projections only in the
    queries package (and the trail's own id lookups, which resolve what rows refer to)."""
    select = re.compile(r"SELECT\b[^\"']*?\bFROM \{\{?q\}?\}pv_", re.S)
    offenders = []
    for folder in ("web", "ledger", "projections"):
        for path, text in _texts(folder).items():
            relative = path.relative_to(ROOT).as_posix()
            if relative.startswith("projections/queries/") or relative == "projections/trail.py":
                continue
            if select.search(text):
                offenders.append(relative)
    assert offenders == []


def test_one_paging_rule_for_every_list(app: Any) -> None:
    for n, uscc in enumerate((f.USCC_A, f.USCC_B, f.USCC_C)):
        app.execute(f.enterprise(uscc, name=f"企业{n}"), "olga")
    catch_up(app)
    first = queries.enterprises(app, limit=2)
    assert isinstance(first, queries.Page)
    assert (len(first), first.offset, first.limit, first.has_more) == (2, 0, 2, True)
    assert first.next_offset == 2
    rest = queries.enterprises(app, offset=first.next_offset, limit=2)
    assert (len(rest), rest.has_more, rest.next_offset) == (1, False, None)
    assert [e.uscc for e in (*first, *rest)] == sorted([f.USCC_A, f.USCC_B, f.USCC_C])
    # the same rule bounds every list: no limit → PAGE_SIZE, too large → PAGE_MAX, too small → 1
    for read in (queries.enterprises, queries.trail, queries.transfers, queries.financings):
        assert read(app).limit == queries.PAGE_SIZE
        assert read(app, limit=10**9).limit == queries.PAGE_MAX
        assert read(app, limit=0).limit == 1
    entries = queries.trail(app, limit=2)
    assert entries.has_more and entries.next_after == entries[-1].position
    after = queries.trail(app, after_position=entries.next_after, limit=2)
    assert after[0].position > entries[-1].position


def test_the_cli_the_pages_and_the_api_show_the_same_records(seeded: Any, client: Any, token: Any,
                                                             as_user: Any, database_url: str) -> None:  # fmt: skip
    from ledger.cli import cli

    records = queries.enterprise_balances(seeded, f.USCC_A)
    assert records
    expected = [r.to_dict() for r in records]
    env = {"LEDGER_DATABASE_URL": database_url}
    out = CliRunner().invoke(cli, ["balances", "enterprise", f.USCC_A, "--json"], env=env)
    assert out.exit_code == 0, out.output
    assert json.loads(out.output) == expected
    api = client.get(f"/api/v1/enterprises/{f.USCC_A}", headers=token("vic")).json
    shown = [{k: v for k, v in b.items() if k in expected[0]} for b in api["balances"]]
    assert [{k: b[k] for k in shown[0]} for b in expected] == shown
    page = as_user("vic").get(f"/enterprises/{f.USCC_A}").get_data(as_text=True)
    for record in records:
        assert f"¥{format_yuan(record.granted_fen)}" in page  # the same figure, as yuan


def test_yuan_and_shanghai_time_are_formatted_once() -> None:
    from audit import trail as audit_trail
    from projections import summaries as trail_summaries
    from web.i18n import shanghai_time as web_shanghai_time
    from web.i18n import yuan

    assert format_yuan(123456) == "1,234.56"
    assert format_yuan(123456, symbol=True) == "¥1,234.56"
    assert format_yuan(-5, symbol=True) == "-¥0.05"
    assert yuan(-123456) == format_yuan(-123456, symbol=True) and yuan(None) == "—"
    assert trail_summaries._y is format_yuan  # the trail's summaries use the one formatter
    assert web_shanghai_time is shanghai_time
    instant = datetime(2025, 4, 1, 16, 30, tzinfo=UTC)
    assert shanghai_time(instant) == "2025-04-02 00:30:00 (UTC+8)"
    assert shanghai_iso(instant) == "2025-04-02T00:30:00.000000+08:00"
    assert audit_trail.shanghai_time(instant) == shanghai_iso(instant)
