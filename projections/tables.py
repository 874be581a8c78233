"""The tables of the read models, described once and created on SQLite and PostgreSQL alike.

Every column is either an integer (`int`, amounts in fen, counts, years, positions) or text
(`text`: codes, names, ISO dates, ISO instants). Keeping to these two types lets the same
statements run on both stores. The state tables hold one row per thing (award, disbursement,
enterprise × year, measure × year, enterprise, transfer, financing); the trail holds one row
per event.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Table:
    """A view table: its name, key columns, other columns and the columns to index."""

    name: str
    key: tuple[str, ...]
    columns: tuple[tuple[str, str], ...]  # (name, "int" | "text"), the key columns included
    indexes: tuple[str, ...] = ()
    #: Columns the runner finds rows by while it applies the log (an entity's id), indexed
    #: with the table itself, so during a rebuild too (`projections.row_cache`).
    lookups: tuple[str, ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)

    @property
    def value_names(self) -> tuple[str, ...]:
        return tuple(name for name in self.column_names if name not in self.key)

    def empty_row(self, key: tuple[object, ...]) -> dict[str, object]:
        """A new row with this key: integers 0, text None."""
        row: dict[str, object] = {
            name: (0 if kind == "int" else None) for name, kind in self.columns
        }
        row.update(zip(self.key, key, strict=True))
        return row

    def key_of(self, row: dict[str, object]) -> tuple[object, ...]:
        return tuple(row[name] for name in self.key)


def _cols(spec: str) -> tuple[tuple[str, str], ...]:
    """Columns from "name:type name:type …"; a bare name is an integer."""
    out = []
    for part in spec.split():
        name, _, kind = part.partition(":")
        out.append((name, kind or "int"))
    return tuple(out)


AWARDS = Table(
    "pv_awards",
    ("reference",),
    _cols(
        "reference:text award_id:text uscc:text measure:text item:text fiscal_year "
        "decision_ref:text granted_on:text financing_reference:text granted_fen revoked_fen "
        "is_revoked pending_fen approved_fen rejected_fen reversed_fen clawback_ordered_fen "
        "clawback_recovered_fen first_paid_on:text"
    ),
    indexes=("uscc", "measure"),
    lookups=("award_id",),
)
DISBURSEMENTS = Table(
    "pv_disbursements",
    ("reference",),
    _cols(
        "reference:text award_reference:text amount_fen paid_on:text voucher_no:text status:text "
        # who recorded the payment and when (µs since 1970 UTC, as the trail), and who decided
        # it (approved, rejected or reversed it last) and when: the approval queue and the
        # payment list show them
        "recorded_by:text recorded_at decided_by:text decided_at"
    ),
    indexes=("award_reference",),
)
ENTERPRISE_BALANCES = Table(
    "pv_enterprise_balances",
    ("uscc", "fiscal_year"),
    _cols(
        "uscc:text fiscal_year awards granted_fen revoked_fen pending_fen approved_fen "
        "reversed_fen clawback_ordered_fen clawback_recovered_fen"
    ),
)
MEASURE_BALANCES = Table(
    "pv_measure_balances",
    ("measure", "fiscal_year"),
    _cols(
        "measure:text fiscal_year budget_id:text appropriated_fen adjusted_fen committed_fen "
        "released_fen awards granted_fen revoked_fen pending_fen approved_fen reversed_fen "
        "clawback_ordered_fen clawback_recovered_fen"
    ),
    lookups=("budget_id",),
)
ENTERPRISES = Table(
    "pv_enterprises",
    ("uscc",),
    _cols("uscc:text enterprise_id:text name:text town_code:text industry:text"),
    indexes=("town_code",),
    lookups=("enterprise_id",),
)
TRANSFERS = Table(
    "pv_transfers",
    ("reference",),
    _cols(
        "reference:text transfer_id:text uscc:text patent_no:text transferor_kind:text "
        "mode:text contract_value_fen signed_on:text recordal_completed_on:text "
        "implemented_on:text recognised_on:text terminated_on:text revenue_fen"
    ),
    lookups=("transfer_id",),
)
FINANCINGS = Table(
    "pv_financings",
    ("reference",),
    _cols(
        "reference:text financing_id:text uscc:text instrument:text lender:text principal_fen "
        "registered_on:text drawn_fen repaid_fen defaulted_on:text"
    ),
    lookups=("financing_id",),
)
TRAIL = Table(
    "pv_trail",
    ("position",),
    _cols(
        "position recorded_at actor:text uscc:text award_reference:text measure:text doc_ref:text"
    ),
    # (uscc, position): an enterprise's newest entries without sorting, and without relying
    # on statistics (right after a rebuild PostgreSQL has none, and walked the whole trail)
    indexes=("recorded_at", "actor", "uscc", "award_reference", "measure", "uscc, position"),
)

#: Tables whose rows the runner keeps in memory and rewrites when they change.
STATE_TABLES = (
    AWARDS,
    DISBURSEMENTS,
    ENTERPRISE_BALANCES,
    MEASURE_BALANCES,
    ENTERPRISES,
    TRANSFERS,
    FINANCINGS,
)
ALL_TABLES = (*STATE_TABLES, TRAIL)

#: The name the views' position is tracked under.
TRACKING_NAME = "projections"


def create_statements(
    table: Table, qualify: str, postgres: bool, *, tables: bool = True, indexes: bool = True
) -> list[str]:
    """CREATE TABLE and/or CREATE INDEX statements for one table (`qualify` prefixes names,
    e.g. a schema)."""
    int_type = "BIGINT" if postgres else "INTEGER"
    cols = ", ".join(
        f"{name} {int_type if kind == 'int' else 'TEXT'}"
        + (" NOT NULL" if name in table.key else "")
        for name, kind in table.columns
    )
    # On SQLite a table keyed by text is kept in its key's own b-tree (WITHOUT ROWID), so an
    # upsert searches and writes one b-tree instead of a key index and the table; the trail,
    # keyed by its integer position, already is (its key is the rowid).
    clustered = "" if postgres or table.key == ("position",) else " WITHOUT ROWID"
    statements = []
    if tables:
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {qualify}{table.name} "
            f"({cols}, PRIMARY KEY ({', '.join(table.key)})){clustered}"
        )
    columns = (*(table.lookups if tables else ()), *(table.indexes if indexes else ()))
    for column in columns:
        statements.append(
            f"CREATE INDEX IF NOT EXISTS {index_name(table, column)} "
            f"ON {qualify}{table.name} ({column})"
        )
    return statements


def index_name(table: Table, column: str) -> str:
    """The name of the secondary index of a view table on one column."""
    return f"{table.name}_{column.replace(', ', '_')}_idx"


def upsert_statement(table: Table, qualify: str, placeholder: str) -> str:
    """An INSERT … ON CONFLICT DO UPDATE that writes a whole row (same text on both stores)."""
    names = table.column_names
    values = ", ".join(placeholder for _ in names)
    updates = ", ".join(f"{name} = excluded.{name}" for name in table.value_names)
    return (
        f"INSERT INTO {qualify}{table.name} ({', '.join(names)}) VALUES ({values}) "
        f"ON CONFLICT ({', '.join(table.key)}) DO UPDATE SET {updates}"
    )


def upsert_unnest_statement(table: Table, qualify: str) -> str:
    """The PostgreSQL upsert of many rows at once: one array parameter per column, sent in
    binary (half the client's work of text arrays)."""
    names = table.column_names
    arrays = ", ".join(
        f"%b::{'bigint' if kind == 'int' else 'text'}[]" for _, kind in table.columns
    )
    updates = ", ".join(f"{name} = excluded.{name}" for name in table.value_names)
    return (
        f"INSERT INTO {qualify}{table.name} ({', '.join(names)}) SELECT * FROM unnest({arrays}) "
        f"ON CONFLICT ({', '.join(table.key)}) DO UPDATE SET {updates}"
    )


def insert_values_statement(table: Table, rows: int, upsert: bool) -> str:
    """A SQLite INSERT of `rows` rows in one VALUES list (`?` placeholders, row by row), as
    an upsert of whole rows or a plain insert."""
    names = table.column_names
    one = f"({', '.join('?' for _ in names)})"
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES {', '.join([one] * rows)}"
    if upsert:
        updates = ", ".join(f"{name} = excluded.{name}" for name in table.value_names)
        sql += f" ON CONFLICT ({', '.join(table.key)}) DO UPDATE SET {updates}"
    return sql
