"""The disbursements view keeps who recorded each payment and when, and who decided it; views
made before those columns existed are recreated and rebuilt from the log by the next
catch-up (with rows or empty), and then equal a rebuild from scratch."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import factories as f
import pytest
from stores import drop_schema, postgres_base_url

from projections import tables as t
from projections.queries import queue, trail
from projections.recorder import open_views
from projections.runner import Runner, catch_up

#: pv_disbursements as it was before the recorder and decision columns.
OLD_DISBURSEMENTS = t.Table(
    "pv_disbursements",
    ("reference",),
    t._cols("reference:text award_reference:text amount_fen paid_on:text voucher_no:text status:text"),
    indexes=("award_reference",),
)


@pytest.fixture
def postgres_app() -> Iterator[tuple[Any, str]]:
    """A ledger on a PostgreSQL schema of its own (with the users of the shared fixture)."""
    from ledger.storage import open_ledger

    base = postgres_base_url()
    url = f"{base}{'&' if '?' in base else '?'}schema=t_{uuid.uuid4().hex[:16]}"
    app = open_ledger(url)
    app.define_measures()
    app.register_user("admin", ["admin"], actor="")
    for name, roles in (("olga", ["officer"]), ("oscar", ["officer"]), ("ada", ["approver"])):
        app.register_user(name, roles, actor="admin")
    yield app, url
    app.close()
    drop_schema(url)


def _record(app: Any) -> None:
    commands = [
        (f.enterprise(), "olga"),
        (f.budget(), "olga"),
        (f.award(), "olga"),
        (f.disbursement("D-1", amount_fen=1_000_000), "olga"),
        (f.disbursement("D-2", amount_fen=2_000_000), "oscar"),
        (f.disbursement("D-3", amount_fen=3_000_000), "oscar"),
        (f.approve("D-1"), "ada"),
        ({"type": "reject_disbursement", "reference": "D-3", "reason": "凭证不全"}, "ada"),
    ]
    for result in app.execute_many(commands):
        assert not isinstance(result, Exception), result


def _rows(app: Any) -> dict[str, dict[str, Any]]:
    rows = open_views(app).query("SELECT * FROM {q}pv_disbursements ORDER BY reference")
    return {r["reference"]: r for r in rows}


def test_each_payment_shows_its_recorder_its_recording_time_and_who_decided_it(app: Any) -> None:
    _record(app)
    catch_up(app)
    rows = _rows(app)
    assert [(r["recorded_by"], r["status"], r["decided_by"]) for r in rows.values()] == [
        ("olga", "approved", "ada"), ("oscar", "pending", None), ("oscar", "rejected", "ada"),
    ]  # fmt: skip
    # the recording time is the event's, the same instant the trail shows for it
    recorded_at = {e.recorded_at for e in trail(app, award_reference="A-1", limit=50)}
    waiting = queue.pending(app)
    assert [p.reference for p in waiting] == ["D-2"]
    assert waiting[0].recorded_at in recorded_at
    assert waiting[0].enterprise_name == "上海测试科技有限公司" and waiting[0].age_s >= 0
    assert rows["D-1"]["decided_at"] >= rows["D-1"]["recorded_at"] > 0


def _downgrade(app: Any, keep_rows: bool) -> None:
    """Put pv_disbursements back in its old shape, as a store made by the older code has it."""
    views = open_views(app)
    old_rows = [tuple(r[c] for c in OLD_DISBURSEMENTS.column_names) for r in _rows(app).values()]
    postgres = views.placeholder == "%s"
    with views._write_tx() as c:
        c.execute(f"DROP TABLE {views.qualify}pv_disbursements")
        for statement in t.create_statements(OLD_DISBURSEMENTS, views.qualify, postgres):
            c.execute(statement)
        if keep_rows:
            marks = ", ".join([views.placeholder] * len(OLD_DISBURSEMENTS.columns))
            c.executemany(
                f"INSERT INTO {views.qualify}pv_disbursements VALUES ({marks})", old_rows
            )


@pytest.mark.parametrize("keep_rows", [True, False], ids=["with-rows", "empty"])
def test_views_of_an_older_shape_are_rebuilt_by_the_next_catch_up(app: Any, keep_rows: bool) -> None:
    _record(app)
    catch_up(app)
    before = _rows(app)
    _downgrade(app, keep_rows)
    assert len(_rows(app)) == (3 if keep_rows else 0)
    assert all("recorded_by" not in row for row in _rows(app).values())
    catch_up(app)  # finds the old shape, recreates the views and applies the whole log again
    assert _rows(app) == before
    assert open_views(app).position() == app.log_position()
    # and a later payment lands in the new columns
    assert not isinstance(app.execute(f.disbursement("D-4", amount_fen=100), "olga"), Exception)
    catch_up(app)
    caught_up = _rows(app)
    assert caught_up["D-4"]["recorded_by"] == "olga"
    Runner(app).rebuild()
    assert _rows(app) == caught_up


def test_the_app_role_that_may_not_recreate_old_views_is_told_to_ask_the_owner(
    postgres_app: tuple[Any, str],
) -> None:
    """PostgreSQL only (SQLite has no roles): the least-privilege role may write the views'
    rows but not drop and create their tables; it is told plainly, and nothing changes."""
    import psycopg

    from ledger.schema import OwnerRequired
    from ledger.storage import open_ledger, store_from_url

    app, url = postgres_app
    _record(app)
    catch_up(app)
    _downgrade(app, keep_rows=True)
    store = store_from_url(url)
    role = f"r_{uuid.uuid4().hex[:12]}"
    schema = store.postgres_schema
    with psycopg.connect(store.postgres_conninfo(), autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
        conn.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"')
        conn.execute(f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"')
        conn.execute(f'GRANT USAGE ON ALL SEQUENCES IN SCHEMA "{schema}" TO "{role}"')
    role_url = url.replace("postgresql://postgres@", f"postgresql://{role}@", 1)
    assert role_url != url
    as_role = open_ledger(role_url)
    try:
        with pytest.raises(OwnerRequired) as raised:
            catch_up(as_role)
        assert raised.value.code == "views_out_of_date"
        assert "ledger project --rebuild" in raised.value.message_en
        assert "所有者" in raised.value.message_zh
        assert all("recorded_by" not in row for row in _rows(app).values())  # unchanged
    finally:
        as_role.close()
        with psycopg.connect(store.postgres_conninfo(), autocommit=True) as conn:
            conn.execute(f'DROP OWNED BY "{role}"')
            conn.execute(f'DROP ROLE "{role}"')
