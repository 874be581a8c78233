"""Every read the web makes, in one thin module over the projections and the audit.

Pages and API views call only these functions, so a change in the read side's names is a fix
here alone. Amounts stay integer fen; records become plain dicts. Reads that need something
the views do not offer as a query (an enterprise's awards, payments per month) ask the views'
own recorder with read-only SQL, also only here.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ledger.disclosure import public_fields
from ledger.identifiers import TOWNS
from projections import queries
from projections.recorder import open_views
from projections.runner import ViewsBehind

if TYPE_CHECKING:
    from ledger.application import SupportLedger

__all__ = ["BadReadRequest", "NotInLog", "ViewsBehind"]

#: The largest page any list read returns.
LIMIT_MAX = 500


class BadReadRequest(ValueError):
    """A read asked for something that cannot be answered (e.g. a position not yet recorded)."""

    def __init__(self, message_en: str, message_zh: str) -> None:
        super().__init__(message_en)
        self.message_en = message_en
        self.message_zh = message_zh


#: The field names of each record type (None: not a record), looked up once per type.
_FIELD_NAMES: dict[type, tuple[str, ...] | None] = {}


def _plain(value: Any) -> Any:
    """Records as dicts (shallowly, which is much faster than `asdict`), nested ones too."""
    kind = type(value)
    try:
        names = _FIELD_NAMES[kind]
    except KeyError:
        record = is_dataclass(value) and not isinstance(value, type)
        names = _FIELD_NAMES[kind] = tuple(f.name for f in fields(value)) if record else None
    if names is not None:
        return {name: _plain(getattr(value, name)) for name in names}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _limit(limit: int | None, default: int = 50) -> int:
    return max(1, min(int(limit or default), LIMIT_MAX))


def check_min_position(app: SupportLedger, min_position: int | None) -> None:
    """Refuse at once a `min_position` beyond the end of the log: waiting cannot help."""
    if min_position is None:
        return
    end = app.log_position()
    if min_position > end:
        raise BadReadRequest(
            f"min_position {min_position} is beyond the end of the log ({end})",
            f"min_position {min_position} 超出日志末尾（{end}）",
        )


# -- how current -------------------------------------------------------------------------------


def status(app: SupportLedger) -> dict[str, Any]:
    """The views' position, when that event was recorded, and the log's end position."""
    position = queries.views_position(app)
    return {
        "views_position": position.position,
        "views_recorded_at": position.recorded_at,
        "log_position": position.log_position,
        "lag": position.lag,
    }


def views_at(app: SupportLedger) -> int:
    """The position every view has reached (one cheap query): what the web's cache is keyed by."""
    return open_views(app).position()


# -- balances and metrics ----------------------------------------------------------------------


def enterprise(app: SupportLedger, uscc: str, min_position: int | None = None,
               timeout_s: float = 5.0) -> dict[str, Any] | None:  # fmt: skip
    """An enterprise with its balances by fiscal year, or None if the views do not know it."""
    uscc = uscc.strip().upper()
    rows = open_views(app).query("SELECT * FROM {q}pv_enterprises WHERE uscc = %s", [uscc])
    balances = queries.enterprise_balances(app, uscc, min_position=min_position, timeout_s=timeout_s)
    if not rows:
        return None
    row = rows[0]
    town = TOWNS.get(row["town_code"])
    return {
        "uscc": row["uscc"],
        "name": row["name"],
        "town_code": row["town_code"],
        "town_name_zh": town.name_zh if town else "",
        "town_name_en": town.name_en if town else "",
        "industry": row["industry"],
        "balances": _plain(balances),
    }


def enterprise_list(app: SupportLedger, search: str | None = None, town_code: str | None = None,
                    offset: int = 0, limit: int = 50, min_position: int | None = None,
                    timeout_s: float = 5.0) -> list[dict[str, Any]]:  # fmt: skip
    return _plain(queries.enterprises(
        app, search=search or None, town_code=town_code or None, offset=max(0, offset),
        limit=_limit(limit), min_position=min_position, timeout_s=timeout_s,
    ))  # fmt: skip


def measure_balances(app: SupportLedger, code: str | None = None, fiscal_year: int | None = None,
                     min_position: int | None = None, timeout_s: float = 5.0) -> list[dict[str, Any]]:  # fmt: skip
    return _plain(queries.measure_balances(
        app, code=code, fiscal_year=fiscal_year, min_position=min_position, timeout_s=timeout_s
    ))  # fmt: skip


def town_balances(app: SupportLedger, code: str | None = None, fiscal_year: int | None = None,
                  min_position: int | None = None, timeout_s: float = 5.0) -> list[dict[str, Any]]:  # fmt: skip
    return _plain(queries.town_balances(
        app, town_code=code, fiscal_year=fiscal_year, min_position=min_position,
        timeout_s=timeout_s,
    ))  # fmt: skip


def metrics(app: SupportLedger, fiscal_year: int | None = None, measure: str | None = None,
            town_code: str | None = None, min_position: int | None = None,
            timeout_s: float = 5.0) -> dict[str, Any]:  # fmt: skip
    return _plain(queries.metrics(
        app, fiscal_year=fiscal_year, measure=measure, town_code=town_code,
        min_position=min_position, timeout_s=timeout_s,
    ))  # fmt: skip


def trail(app: SupportLedger, limit: int = 100, **filters: Any) -> list[dict[str, Any]]:
    """Trail entries matching the filters (see `projections.queries.trail`)."""
    return _plain(queries.trail(app, limit=_limit(limit, 100), **filters))


# -- rows the queries module does not offer ----------------------------------------------------


def awards_of(app: SupportLedger, uscc: str, offset: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
    """An enterprise's awards, newest first, each with its disbursements (a page of them if
    `limit` is given)."""
    views = open_views(app)
    sql = "SELECT * FROM {q}pv_awards WHERE uscc = %s ORDER BY granted_on DESC, reference"
    if limit is not None:
        sql += f" LIMIT {_limit(limit)} OFFSET {max(0, int(offset))}"
    awards = views.query(sql, [uscc.strip().upper()])
    if not awards:
        return []
    refs = [a["reference"] for a in awards[:LIMIT_MAX]]
    marks = ", ".join(["%s"] * len(refs))
    payments = views.query(
        f"SELECT * FROM {{q}}pv_disbursements WHERE award_reference IN ({marks}) "
        "ORDER BY paid_on, reference",
        refs,
    )
    by_award: dict[str, list[dict[str, Any]]] = {}
    for payment in payments:
        by_award.setdefault(payment["award_reference"], []).append(payment)
    for award in awards:
        award["paid_fen"] = int(award["approved_fen"]) - int(award["reversed_fen"])
        award["disbursements"] = by_award.get(award["reference"], [])
    return awards


def transfers(app: SupportLedger, uscc: str | None = None, offset: int = 0,
              limit: int = 50) -> list[dict[str, Any]]:  # fmt: skip
    """Patent transfers, newest signed first (of one enterprise if `uscc` is given)."""
    sql = "SELECT * FROM {q}pv_transfers WHERE 1 = 1"
    params: list[Any] = []
    if uscc:
        sql += " AND uscc = %s"
        params.append(uscc.strip().upper())
    sql += f" ORDER BY signed_on DESC, reference LIMIT {_limit(limit)} OFFSET {max(0, int(offset))}"
    return open_views(app).query(sql, params)


def financings(app: SupportLedger, uscc: str | None = None, offset: int = 0,
               limit: int = 50) -> list[dict[str, Any]]:  # fmt: skip
    """IP-backed financings, newest registered first (of one enterprise if `uscc` is given)."""
    sql = "SELECT * FROM {q}pv_financings WHERE 1 = 1"
    params: list[Any] = []
    if uscc:
        sql += " AND uscc = %s"
        params.append(uscc.strip().upper())
    sql += f" ORDER BY registered_on DESC, reference LIMIT {_limit(limit)} OFFSET {max(0, int(offset))}"
    return open_views(app).query(sql, params)


def payments_by_month(app: SupportLedger, fiscal_year: int | None = None) -> list[dict[str, Any]]:
    """Approved payments (fen, count) per month of the payment date, in date order."""
    sql = (
        "SELECT SUBSTR(paid_on, 1, 7) AS month, SUM(amount_fen) AS amount_fen, COUNT(*) AS payments "
        "FROM {q}pv_disbursements WHERE status = %s"
    )
    params: list[Any] = ["approved"]
    if fiscal_year is not None:
        sql += " AND paid_on LIKE %s"
        params.append(f"{fiscal_year}-%")
    sql += " GROUP BY SUBSTR(paid_on, 1, 7) ORDER BY month"
    return [
        {"month": r["month"], "amount_fen": int(r["amount_fen"] or 0), "payments": int(r["payments"])}
        for r in open_views(app).query(sql, params)
    ]


def fiscal_years(app: SupportLedger) -> list[int]:
    """The fiscal years any budget was opened for, newest first."""
    rows = open_views(app).query(
        "SELECT DISTINCT fiscal_year FROM {q}pv_measure_balances ORDER BY fiscal_year DESC"
    )
    return [int(r["fiscal_year"]) for r in rows]


# -- the event log -----------------------------------------------------------------------------


def event_at(app: SupportLedger, position: int) -> dict[str, Any] | None:
    """The stored event at a log position, decoded, with its trail entry; None if there is none."""
    if position < 1:
        return None
    notifications = app.recorder.select_notifications(start=position, limit=1, stop=position)
    if not notifications or notifications[0].id != position:
        return None
    notification = notifications[0]
    event = app.mapper.to_domain_event(notification)
    # Only the fields the event's type allows (an unknown type shows nothing but its type).
    fields = {
        k: _jsonable(v)
        for k, v in sorted(public_fields(notification.topic, vars(event)).items())
    }
    entries = queries.trail(app, after_position=position - 1, limit=1)
    entry = _plain(entries[0]) if entries and entries[0].position == position else None
    return {
        "position": position,
        "topic": notification.topic,
        "originator_id": str(notification.originator_id),
        "originator_version": notification.originator_version,
        "recorded_at": _jsonable(getattr(event, "timestamp", None)),
        "fields": fields,
        "trail": entry,
    }


def events_page(app: SupportLedger, after: int = 0, limit: int = 100) -> list[dict[str, Any]]:
    """Trail entries of the log after a position, in log order (a page of at most `limit`)."""
    return trail(app, after_position=max(0, after), limit=limit)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


# -- audit -------------------------------------------------------------------------------------


class NotInLog(LookupError):
    """A position or size the Merkle log does not hold (yet)."""


def merkle_size(app: SupportLedger) -> int:
    """How many events the Merkle log holds (it may trail the end of the event log)."""
    from audit.log import log_size

    return log_size(app)


def latest_heads(app: SupportLedger, limit: int = 10) -> list[dict[str, Any]]:
    """The latest signed tree heads, newest first."""
    from audit.heads import latest_heads as _latest_heads

    return list(_latest_heads(app, limit))


def last_verification(app: SupportLedger) -> dict[str, Any] | None:
    """The report of the last full verification of the log, or None if none ran yet."""
    from audit.verify import last_verification as _last_verification

    return _last_verification(app)


def inclusion_proof(app: SupportLedger, position: int, tree_size: int | None = None) -> dict[str, Any]:
    """An RFC 6962 inclusion proof of the event at a log position (default: latest head)."""
    from audit.log import LogError
    from audit.proofs import inclusion_proof as _inclusion_proof

    try:
        return _inclusion_proof(app, position, tree_size)
    except LogError as exc:
        raise NotInLog(str(exc)) from None


def consistency_proof(app: SupportLedger, first: int, second: int) -> dict[str, Any]:
    """An RFC 6962 consistency proof between tree sizes `first` and `second`."""
    from audit.log import LogError
    from audit.proofs import consistency_proof as _consistency_proof

    try:
        return _consistency_proof(app, first, second)
    except LogError as exc:
        raise NotInLog(str(exc)) from None


# -- as of an earlier moment -------------------------------------------------------------------


def parse_as_of(text: str) -> tuple[int | None, datetime | None]:
    """`as_of` as a log position (digits) or an ISO instant (naive = UTC)."""
    text = text.strip()
    if text.isdigit():
        return int(text), None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadReadRequest(
            f"as_of {text[:40]!r} is neither a log position nor an ISO instant",
            f"as_of {text[:40]!r} 既不是日志位置也不是 ISO 时间",
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return None, moment


def _replay(app: SupportLedger, as_of: str) -> Any:
    """The audit's independent replay of the balances as of a position or an instant."""
    from audit.replay import replay

    position, moment = parse_as_of(as_of)
    if position is not None:
        check_min_position(app, position)
    return replay(app, as_of=moment, position=position)


def check_as_of(app: SupportLedger, as_of: str) -> None:
    """Refuse `as_of` where a read cannot answer it (only balances are replayed)."""
    parse_as_of(as_of)
    raise BadReadRequest(
        "as_of is answered for enterprise and measure balances only",
        "as_of 仅适用于企业和措施余额",
    )


def enterprise_as_of(app: SupportLedger, uscc: str, as_of: str) -> dict[str, Any] | None:
    """An enterprise's balances by year as the ledger knew them at `as_of` (replayed)."""
    result = _replay(app, as_of)
    current = enterprise(app, uscc)
    if current is None:
        return None
    rows = _replayed_rows(result, "enterprises")
    current["balances"] = [r for r in rows if r.get("uscc") == current["uscc"]]
    current["as_of"] = as_of
    return current


def measure_balances_as_of(app: SupportLedger, code: str, as_of: str,
                           fiscal_year: int | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """A measure's balances by year as the ledger knew them at `as_of` (replayed)."""
    result = _replay(app, as_of)
    out = []
    for row in _replayed_rows(result, "measures"):
        if row["measure"] != code or fiscal_year not in (None, row["fiscal_year"]):
            continue
        total_fen = row["appropriated_fen"] + row["adjusted_fen"]  # as the views state it
        net_committed_fen = row["committed_fen"] - row["released_fen"]
        utilisation = round(net_committed_fen / total_fen, 4) if total_fen else None
        out.append({**row, "appropriated_fen": total_fen, "utilisation": utilisation})
    return out


def _replayed_rows(result: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [dict(row) for row in result.get(name) or []]
